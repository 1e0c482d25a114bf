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
  source = "../../modules/dsql"
  name   = local.name
}

module "api" {
  source = "../../modules/api"

  name               = local.name
  region             = var.region
  account_id         = data.aws_caller_identity.current.account_id
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.app_security_group_id]
  dsql_endpoint      = module.database.endpoint
  dsql_cluster_arn   = module.database.arn
}

data "aws_caller_identity" "current" {}
