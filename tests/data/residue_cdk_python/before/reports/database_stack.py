from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from constructs import Construct


class ReportsDatabaseStack(Stack):
    """The reports database: one PostgreSQL 15 instance."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        self.vpc = ec2.Vpc(self, "Vpc", max_azs=2)

        subnet_group = rds.SubnetGroup(
            self,
            "Subnets",
            vpc=self.vpc,
            description="Reports database subnets",
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        )

        self.instance = rds.DatabaseInstance(
            self,
            "Reports",
            instance_identifier="reports-db",
            engine=rds.DatabaseInstanceEngine.postgres(
                version=rds.PostgresEngineVersion.VER_15_7
            ),
            instance_type=ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
            credentials=rds.Credentials.from_generated_secret("reports_admin"),
            subnet_group=subnet_group,
            vpc=self.vpc,
            iam_authentication=True,
            backup_retention=Duration.days(7),
            removal_policy=RemovalPolicy.SNAPSHOT,
        )

        cloudwatch.Alarm(
            self,
            "FreeStorage",
            metric=self.instance.metric_free_storage_space(),
            threshold=5_000_000_000,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=1,
        )
