locals {
  name = "orders-prod"

  # Handed to the reporting job: DSQL speaks PostgreSQL on 5432, with IAM tokens.
  database_url = "postgresql://${module.database.endpoint}:5432/postgres?sslmode=verify-full"
}
