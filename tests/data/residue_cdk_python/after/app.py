#!/usr/bin/env python3
import aws_cdk as cdk

from reports.api_stack import ReportsApiStack
from reports.database_stack import ReportsDatabaseStack

app = cdk.App()
env = cdk.Environment(account="123456789012", region="eu-west-1")
database = ReportsDatabaseStack(app, "ReportsDatabase", env=env)
ReportsApiStack(app, "ReportsApi", env=env, cluster=database.cluster)
app.synth()
