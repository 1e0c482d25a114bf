resource "aws_security_group" "db" {
  name   = "${var.identifier}-db"
  vpc_id = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  count                        = length(var.client_security_ids)
  security_group_id            = aws_security_group.db.id
  referenced_security_group_id = var.client_security_ids[0]
  from_port                    = 5432
  to_port                      = 5432
  ip_protocol                  = "tcp"
}

resource "aws_security_group_rule" "office" {
  type              = "ingress"
  security_group_id = aws_security_group.db.id
  from_port         = 5432
  to_port           = 5432
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_db_instance" "this" {
  identifier                  = var.identifier
  engine                      = "postgres"
  engine_version              = var.engine_version
  instance_class              = var.instance_class
  allocated_storage           = 50
  storage_encrypted           = var.encrypted
  kms_key_id                  = var.kms_key_arn
  backup_retention_period     = var.backup_days
  deletion_protection         = var.deletion_protection
  publicly_accessible         = var.publicly_accessible
  manage_master_user_password = true
  username                    = "reporting"
  vpc_security_group_ids      = [aws_security_group.db.id]
  skip_final_snapshot         = false
}
