output "endpoint" {
  value = aws_rds_cluster.this.endpoint
}

output "cluster_id" {
  value = aws_rds_cluster.this.cluster_identifier
}

output "cluster_resource_id" {
  value = aws_rds_cluster.this.cluster_resource_id
}

output "master_secret_arn" {
  value = aws_rds_cluster.this.master_user_secret[0].secret_arn
}
