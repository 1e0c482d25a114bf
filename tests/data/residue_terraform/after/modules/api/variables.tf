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

variable "dsql_endpoint" {
  description = "Endpoint of the DSQL cluster the API connects to"
  type        = string
}

variable "dsql_cluster_arn" {
  type = string
}
