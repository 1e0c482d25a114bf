output "api_url" {
  value = module.api.url
}

output "db_endpoint" {
  description = "Writer endpoint of the orders database"
  value       = module.database.endpoint
}

output "database_url" {
  value     = local.database_url
  sensitive = true
}
