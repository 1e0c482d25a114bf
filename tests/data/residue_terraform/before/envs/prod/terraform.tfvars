region         = "eu-west-1"
engine_version = "15.4"
