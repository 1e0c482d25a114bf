output "api_url" {
  value = module.api.url
}

output "dsql_endpoint" {
  description = "Endpoint of the orders DSQL cluster"
  value       = module.database.endpoint
}

output "database_url" {
  value     = local.database_url
  sensitive = true
}
