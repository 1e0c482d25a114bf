variable "name" {
  type = string
}

data "aws_region" "current" {}

resource "aws_dsql_cluster" "this" {
  deletion_protection_enabled = true

  tags = {
    Name = "${var.name}-orders"
  }
}

output "arn" {
  value = aws_dsql_cluster.this.arn
}

output "identifier" {
  value = aws_dsql_cluster.this.identifier
}

output "endpoint" {
  value = "${aws_dsql_cluster.this.identifier}.dsql.${data.aws_region.current.name}.on.aws"
}
