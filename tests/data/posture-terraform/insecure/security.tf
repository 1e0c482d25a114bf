resource "aws_security_group" "app" {
  name        = "app-lambda"
  description = "The application's Lambda functions"
  vpc_id      = var.vpc_id
}

resource "aws_kms_key" "db" {
  description         = "database storage"
  enable_key_rotation = true
}
