# Operational alarms, kept in Terraform by the on-call team.

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
