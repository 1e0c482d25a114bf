output "reporting_endpoint" {
  value = module.reporting.endpoint
}

output "proxy_endpoint" {
  value = aws_db_proxy.app.endpoint
}
