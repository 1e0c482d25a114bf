terraform {
  required_version = ">= 1.7"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
  backend "s3" {
    bucket = "orders-terraform-state"
    key    = "prod/orders.tfstate"
    region = "eu-west-1"
  }
}

provider "aws" {
  region = var.region
}

module "network" {
  source     = "../../modules/network"
  name       = local.name
  cidr_block = var.vpc_cidr
}

module "database" {
  source = "../../modules/aurora"

  name               = local.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  app_security_group = module.network.app_security_group_id
  engine_version     = var.engine_version
  min_capacity       = 0.5
  max_capacity       = 4
}

module "api" {
  source = "../../modules/api"

  name               = local.name
  region             = var.region
  account_id         = data.aws_caller_identity.current.account_id
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.app_security_group_id]
  db_host            = module.database.endpoint
  db_resource_id     = module.database.cluster_resource_id
  db_secret_arn      = module.database.master_secret_arn
  db_cluster_id      = module.database.cluster_id
}

data "aws_caller_identity" "current" {}
