env         = "prod"
backup_days = 1
