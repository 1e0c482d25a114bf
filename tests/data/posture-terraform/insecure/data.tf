resource "aws_dynamodb_table" "sessions" {
  name         = "app-sessions"
  billing_mode = "PROVISIONED"
  read_capacity  = 5
  write_capacity = 5
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = false
  }
}

resource "aws_secretsmanager_secret" "db" {
  name = "app/db/credentials"
}
