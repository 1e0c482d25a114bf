variable "name" {
  type = string
}

variable "region" {
  type = string
}

variable "account_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "db_host" {
  description = "Writer endpoint the API connects to"
  type        = string
}

variable "db_resource_id" {
  type = string
}

variable "db_secret_arn" {
  type = string
}

variable "db_cluster_id" {
  type = string
}
