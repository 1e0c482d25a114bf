# Operational alarms, kept in Terraform by the on-call team.

data "aws_rds_cluster" "relational" {
  cluster_identifier = "lexicon-aurora"
}

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "lexicon-db-cpu"
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  evaluation_periods  = 3
  period              = 300
  statistic           = "Average"
  dimensions = {
    DBClusterIdentifier = data.aws_rds_cluster.relational.id
  }
}

resource "aws_cloudwatch_metric_alarm" "sessions_throttles" {
  alarm_name          = "lexicon-sessions-throttles"
  namespace           = "AWS/DynamoDB"
  metric_name         = "ThrottledRequests"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  period              = 60
  statistic           = "Sum"
  dimensions = {
    TableName = "lexicon-game-sessions"
  }
}
