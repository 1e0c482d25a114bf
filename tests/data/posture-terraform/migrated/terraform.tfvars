env         = "prod"
backup_days = 14
