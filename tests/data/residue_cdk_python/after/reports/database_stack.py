from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dsql as dsql
from constructs import Construct


class ReportsDatabaseStack(Stack):
    """The reports database: one Aurora DSQL cluster (no VPC needed)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        self.cluster = dsql.CfnCluster(self, "Reports", deletion_protection_enabled=True)
        self.cluster.apply_removal_policy(RemovalPolicy.RETAIN)
