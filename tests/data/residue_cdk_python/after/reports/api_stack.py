from aws_cdk import Stack
from aws_cdk import aws_dsql as dsql
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct


class ReportsApiStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, cluster: dsql.CfnCluster, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        fn = lambda_.Function(
            self,
            "Reports",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="handler.main",
            code=lambda_.Code.from_asset("lambda/reports"),
            environment={
                "DSQL_ENDPOINT": f"{cluster.attr_identifier}.dsql.{self.region}.on.aws",
            },
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dsql:DbConnect"],
                resources=[cluster.attr_resource_arn],
            )
        )
