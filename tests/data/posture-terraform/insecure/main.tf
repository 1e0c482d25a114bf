locals {
  name = "app-${var.env}"
  tags = {
    Service = "app"
    Env     = var.env
  }
}

module "reporting" {
  source = "./modules/postgres"

  identifier          = "app-pg"
  instance_class      = "db.t4g.medium"
  encrypted           = false
  engine_version      = "14.12"
  publicly_accessible = true
  deletion_protection = false
  backup_days         = var.backup_days
  client_security_ids = [aws_security_group.app.id]
  vpc_id              = var.vpc_id
}

module "aurora" {
  source = "./modules/aurora"

  cluster_identifier  = "app-aurora"
  kms_key_arn         = aws_kms_key.db.arn
  min_acu             = 0.5
  max_acu             = 16
  readers             = 0
  client_security_ids = [aws_security_group.app.id]
  tags                = local.tags
}

resource "aws_db_proxy" "app" {
  name                = "app-proxy"
  engine_family       = "POSTGRESQL"
  require_tls         = false
  idle_client_timeout = 600
  role_arn            = "arn:aws:iam::123456789012:role/app-proxy"
  vpc_subnet_ids      = ["subnet-1", "subnet-2"]

  auth {
    auth_scheme = "SECRETS"
    iam_auth    = "DISABLED"
    secret_arn  = aws_secretsmanager_secret.db.arn
  }
}

resource "aws_db_proxy_default_target_group" "app" {
  db_proxy_name = aws_db_proxy.app.name

  connection_pool_config {
    connection_borrow_timeout    = 120
    max_connections_percent      = 90
  }
}

resource "aws_db_proxy_target" "app" {
  db_proxy_name         = aws_db_proxy.app.name
  target_group_name     = aws_db_proxy_default_target_group.app.name
  db_cluster_identifier = module.aurora.cluster_id
}
