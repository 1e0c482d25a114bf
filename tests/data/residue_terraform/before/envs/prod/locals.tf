locals {
  name = "orders-prod"

  # Handed to the reporting job, which still reads the old cluster.
  database_url = "postgresql://${module.database.endpoint}:5432/orders"
}
