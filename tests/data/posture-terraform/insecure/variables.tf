variable "region" {
  type    = string
  default = "us-east-1"
}

variable "env" {
  type = string
}

variable "backup_days" {
  description = "Days of automated backups for every database"
  type        = number
  default     = 7
}

variable "vpc_id" {
  type    = string
  default = "vpc-0abc"
}
