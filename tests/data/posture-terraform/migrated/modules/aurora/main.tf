variable "cluster_identifier" {
  type = string
}

variable "kms_key_arn" {
  type = string
}

variable "min_acu" {
  type = number
}

variable "max_acu" {
  type = number
}

variable "readers" {
  type    = number
  default = 0
}

variable "client_security_ids" {
  type = list(string)
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "aws_security_group" "cluster" {
  name = "${var.cluster_identifier}-cluster"

  ingress {
    description     = "PostgreSQL from the application"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = var.client_security_ids
  }
}

resource "aws_rds_cluster" "this" {
  cluster_identifier      = var.cluster_identifier
  engine                  = "aurora-postgresql"
  engine_mode             = "provisioned"
  engine_version          = "15.4"
  storage_encrypted       = true
  kms_key_id              = var.kms_key_arn
  backup_retention_period = 14
  deletion_protection     = true
  master_username         = "app"
  manage_master_user_password = true
  vpc_security_group_ids  = [aws_security_group.cluster.id]
  tags                    = var.tags

  serverlessv2_scaling_configuration {
    min_capacity = var.min_acu
    max_capacity = var.max_acu
  }
}

resource "aws_rds_cluster_instance" "writer" {
  identifier         = "${var.cluster_identifier}-writer"
  cluster_identifier = aws_rds_cluster.this.id
  instance_class     = "db.serverless"
  engine             = aws_rds_cluster.this.engine
}

resource "aws_rds_cluster_instance" "reader" {
  count              = var.readers
  identifier         = "${var.cluster_identifier}-reader-${count.index}"
  cluster_identifier = aws_rds_cluster.this.id
  instance_class     = "db.serverless"
  engine             = aws_rds_cluster.this.engine
}

output "cluster_id" {
  value = aws_rds_cluster.this.id
}
