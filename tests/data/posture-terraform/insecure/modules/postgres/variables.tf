variable "identifier" {
  type = string
}

variable "instance_class" {
  type    = string
  default = "db.t4g.small"
}

variable "engine_version" {
  type    = string
  default = "15.7"
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "encrypted" {
  type    = bool
  default = true
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "backup_days" {
  type    = number
  default = 7
}

variable "publicly_accessible" {
  type    = bool
  default = false
}

variable "client_security_ids" {
  type = list(string)
}

variable "vpc_id" {
  type = string
}
