"""The leftover kinds of issue 20, in each flavour, and what each must not flag.

Every class is shown on a small file as real projects write it: a grant for the retired
database, a security-group rule opening its port (and DSQL's 5432 left alone), an engine
family, what serves it in CDK, alarms, dashboards and DNS records, what a destroy keeps, and
DSQL least privilege. The no-false-finding cases sit beside the findings they guard.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.residue import RetiredSettings, scan_text
from harness.residue.hits import Hit

PLAN = RetiredSettings(
    cluster_ids=("orders-aurora",),
    resource_ids=("cluster-7GQ2ZJ4XKLM3NOPQRS5TUVWXY",),
    secrets=("orders/aurora-master",),
    hostnames=("orders-aurora.cluster-cq7x2hd9k1ab.eu-west-1.rds.amazonaws.com",),
)
LAST = PLAN.model_copy(update={"last_rds_database": True})
ADMIN = PLAN.model_copy(update={"dsql_role": "admin"})


def scan(name: str, text: str, settings: RetiredSettings = PLAN) -> list[Hit]:
    return list(scan_text(text, name, name, settings).hits)


def rules(name: str, text: str, settings: RetiredSettings = PLAN) -> list[tuple[str, int]]:
    return [(h.rule, h.line) for h in scan(name, text, settings)]


def policy(action: str, resource: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        },
        indent=1,
    )


class TestIamGrantsForTheRetiredDatabase:
    def test_rds_db_connect_on_the_plans_resource_id_is_residue(self) -> None:
        arn = "arn:aws:rds-db:eu-west-1:1:dbuser:cluster-7GQ2ZJ4XKLM3NOPQRS5TUVWXY/app"
        assert ("RES401", 6) in rules("p.json", policy("rds-db:connect", arn))

    def test_rds_db_connect_on_another_database_is_not(self) -> None:
        arn = "arn:aws:rds-db:eu-west-1:1:dbuser:db-KEPTINSTANCE0001/app"
        assert rules("p.json", policy("rds-db:connect", arn)) == []

    def test_any_rds_grant_is_residue_when_the_last_rds_database_is_retired(self) -> None:
        text = policy("rds:DescribeDBClusters", "*")
        assert rules("p.json", text) == []
        assert rules("p.json", text, LAST) == [("RES401", 6)]

    def test_rds_describe_on_the_retired_cluster_is_residue(self) -> None:
        text = policy("rds:Describe*", "arn:aws:rds:eu-west-1:1:cluster:orders-aurora")
        assert ("RES401", 6) in rules("p.json", text)

    def test_reading_the_retired_secret_is_residue(self) -> None:
        template = (
            "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n    Properties:\n"
            "      MasterUserSecret: {SecretArn: !Ref Secret}\n"
            "  Secret:\n    Type: AWS::SecretsManager::Secret\n"
            "  Policy:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n"
            "      PolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n"
            "          - Effect: Allow\n            Action: secretsmanager:GetSecretValue\n"
            "            Resource: !Ref Secret\n"
        )
        assert ("RES401", 15) in rules("t.yaml", template)

    def test_reading_another_secret_is_not(self) -> None:
        text = policy("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:x:1:secret:api-key")
        assert rules("p.json", text) == []

    def test_a_deny_statement_grants_nothing(self) -> None:
        text = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "rds-db:connect", "Resource": "*"}],
            }
        )
        assert rules("p.json", text, LAST) == []


class TestDsqlLeastPrivilege:
    ARN = "arn:aws:dsql:eu-west-1:123456789012:cluster/abcdefghij"

    def test_db_connect_on_the_cluster_arn_is_clean(self) -> None:
        assert rules("p.json", policy("dsql:DbConnect", self.ARN)) == []

    def test_a_wildcard_action_is_a_finding(self) -> None:
        assert rules("p.json", policy("dsql:*", self.ARN)) == [("RES601", 6)]

    def test_every_cluster_is_a_finding(self) -> None:
        assert rules("p.json", policy("dsql:DbConnect", "*")) == [("RES602", 7)]
        arns = "arn:aws:dsql:eu-west-1:123456789012:cluster/*"
        assert rules("p.json", policy("dsql:DbConnect", arns)) == [("RES602", 7)]

    def test_admin_connect_depends_on_the_plans_role(self) -> None:
        text = policy("dsql:DbConnectAdmin", self.ARN)
        assert rules("p.json", text) == [("RES603", 6)]
        assert rules("p.json", text, ADMIN) == []

    def test_cluster_management_is_not_judged(self) -> None:
        assert rules("p.json", policy("dsql:CreateCluster", "*")) == []

    def test_nothing_is_judged_without_a_dsql_target(self) -> None:
        none = PLAN.model_copy(update={"target": "none"})
        assert rules("p.json", policy("dsql:*", "*"), none) == []

    def test_terraform_jsonencode_and_heredoc_policies_are_read(self) -> None:
        source = (
            'resource "aws_iam_role_policy" "a" {\n  policy = jsonencode({\n'
            '    Version = "2012-10-17"\n    Statement = [{\n      Effect = "Allow"\n'
            '      Action = ["dsql:*"]\n      Resource = "*"\n    }]\n  })\n}\n'
            'resource "aws_iam_policy" "b" {\n  policy = <<-EOT\n'
            '    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
            '      "Action": "dsql:DbConnectAdmin", "Resource": "*"}]}\n  EOT\n}\n'
        )
        assert rules("main.tf", source) == [
            ("RES601", 6),
            ("RES602", 7),
            ("RES603", 14),
            ("RES602", 14),
        ]

    def test_cdk_policy_statements_are_read(self) -> None:
        source = (
            "import * as iam from 'aws-cdk-lib/aws-iam';\n"
            "fn.addToRolePolicy(new iam.PolicyStatement({\n"
            "  actions: ['dsql:DbConnect'],\n  resources: ['*'],\n}));\n"
        )
        assert rules("stack.ts", source) == [("RES602", 4)]
        python = (
            "from aws_cdk import aws_iam as iam\n"
            "fn.add_to_role_policy(iam.PolicyStatement(\n"
            "    actions=['dsql:*'], resources=[cluster.attr_resource_arn]))\n"
        )
        assert rules("stack.py", python) == [("RES601", 3)]


class TestSecurityGroupRules:
    def test_a_rule_on_the_retired_clusters_group_opens_it(self) -> None:
        source = (
            'resource "aws_security_group" "db" {}\n'
            'resource "aws_rds_cluster" "db" {\n'
            "  vpc_security_group_ids = [aws_security_group.db.id]\n}\n"
            'resource "aws_security_group_rule" "in" {\n  type = "ingress"\n'
            "  security_group_id = aws_security_group.db.id\n  from_port = 5432\n}\n"
        )
        assert ("RES402", 5) in rules("main.tf", source)
        assert ("RES302", 1) in rules("main.tf", source)

    def test_an_inline_egress_to_the_retired_group_opens_it(self) -> None:
        source = (
            'resource "aws_security_group" "db" {}\n'
            'resource "aws_rds_cluster" "db" {\n'
            "  vpc_security_group_ids = [aws_security_group.db.id]\n}\n"
            'resource "aws_security_group" "fn" {\n  egress {\n    from_port = 5432\n'
            "    security_groups = [aws_security_group.db.id]\n  }\n}\n"
            'resource "aws_lambda_function" "f" {\n  vpc_config {\n'
            "    security_group_ids = [aws_security_group.fn.id]\n  }\n}\n"
        )
        assert ("RES402", 8) in rules("main.tf", source)

    def test_a_dynamic_egress_block_to_the_retired_group_opens_it(self) -> None:
        source = (
            'resource "aws_security_group" "db" {}\n'
            'resource "aws_rds_cluster" "db" {\n'
            "  vpc_security_group_ids = [aws_security_group.db.id]\n}\n"
            'resource "aws_security_group" "fn" {\n  dynamic "egress" {\n'
            "    for_each = [5432]\n    content {\n"
            "      security_groups = [aws_security_group.db.id]\n    }\n  }\n}\n"
            'resource "aws_lambda_function" "f" {\n  vpc_config {\n'
            "    security_group_ids = [aws_security_group.fn.id]\n  }\n}\n"
        )
        assert ("RES402", 9) in rules("main.tf", source)

    def test_5432_for_dsql_is_not_flagged(self) -> None:
        source = (
            'resource "aws_security_group" "fn" {\n  egress {\n    from_port = 5432\n'
            '    to_port = 5432\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
            'resource "aws_lambda_function" "f" {\n  vpc_config {\n'
            "    security_group_ids = [aws_security_group.fn.id]\n  }\n}\n"
        )
        assert rules("main.tf", source) == []

    def test_a_group_shared_with_the_application_is_not_the_databases(self) -> None:
        template = (
            "Resources:\n  Shared:\n    Type: AWS::EC2::SecurityGroup\n"
            "  Db:\n    Type: AWS::RDS::DBCluster\n    Properties:\n"
            "      VpcSecurityGroupIds: [!Ref Shared]\n"
            "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
            "      VpcConfig: {SecurityGroupIds: [!Ref Shared]}\n"
        )
        assert ("RES102", 2) not in rules("t.yaml", template)

    def test_a_cloudformation_port_parameter_alone_is_not_flagged(self) -> None:
        template = (
            "Parameters:\n  DBPort: {Type: Number, Default: 5432}\n"
            "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n"
            "  In:\n    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n"
            "      GroupId: !Ref Sg\n      FromPort: !Ref DBPort\n"
            "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
            "      VpcConfig: {SecurityGroupIds: [!Ref Sg]}\n"
        )
        assert rules("t.yaml", template) == []


class TestEngineFamilies:
    @pytest.mark.parametrize(
        "text", ["aurora-postgresql15", "default.aurora-postgresql16", "aurora-mysql8.0"]
    )
    def test_a_family_is_an_aurora_engine(self, text: str) -> None:
        template = f"Mappings:\n  Engine:\n    pg:\n      Family: {text}\n"
        assert [(h.rule, h.line) for h in scan("t.yaml", template)] == [("RES002", 4)]

    def test_a_postgres_family_is_not(self) -> None:
        assert rules("t.yaml", "Mappings:\n  Engine:\n    pg:\n      Family: postgres15\n") == []


class TestAlarmsDashboardsAndDns:
    def test_an_alarm_on_a_kept_database_is_not_residue(self) -> None:
        source = (
            'resource "aws_cloudwatch_metric_alarm" "cpu" {\n  namespace = "AWS/RDS"\n'
            '  dimensions = { DBInstanceIdentifier = "billing-db" }\n}\n'
        )
        assert rules("main.tf", source) == []
        assert rules("main.tf", source, LAST) == [("RES403", 1)]

    def test_a_dashboard_on_the_retired_cluster_is_residue(self) -> None:
        source = (
            'resource "aws_cloudwatch_dashboard" "db" {\n  dashboard_name = "orders"\n'
            "  dashboard_body = jsonencode({ widgets = [{ properties = { metrics = [\n"
            '    ["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", "orders-aurora"]\n'
            "  ] } }] })\n}\n"
        )
        assert ("RES403", 1) in rules("main.tf", source)

    def test_a_record_pointing_at_the_endpoint_is_residue(self) -> None:
        template = (
            "Resources:\n  Rec:\n    Type: AWS::Route53::RecordSet\n    Properties:\n"
            "      ResourceRecords:\n"
            "        - orders-aurora.cluster-cq7x2hd9k1ab.eu-west-1.rds.amazonaws.com\n"
        )
        assert ("RES404", 2) in rules("t.yaml", template)

    def test_a_record_pointing_at_dsql_is_not(self) -> None:
        template = (
            "Resources:\n  Rec:\n    Type: AWS::Route53::RecordSet\n    Properties:\n"
            "      ResourceRecords: [abcdefghij.dsql.eu-west-1.on.aws]\n"
        )
        assert rules("t.yaml", template) == []


class TestCleanDestroy:
    def test_cloudformation_retain_and_protection(self) -> None:
        template = (
            "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n    DeletionPolicy: Retain\n"
            "    Properties:\n      DeletionProtection: true\n"
        )
        assert rules("t.yaml", template) == [("RES101", 2), ("RES501", 4), ("RES501", 6)]

    def test_terraform_removed_without_destroy_keeps_the_cluster(self) -> None:
        source = (
            "removed {\n  from = aws_rds_cluster.db\n  lifecycle {\n    destroy = false\n  }\n}\n"
        )
        assert rules("main.tf", source) == [("RES501", 4)]

    def test_terraform_removed_with_destroy_is_the_clean_destroy(self) -> None:
        source = (
            "removed {\n  from = aws_rds_cluster.db\n  lifecycle {\n    destroy = true\n  }\n}\n"
        )
        assert rules("main.tf", source) == []

    def test_a_retained_dynamodb_table_is_not_the_retired_database(self) -> None:
        template = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n"
        assert rules("t.yaml", template) == []

    def test_a_snapshot_kept_on_delete_is_a_warning_not_a_blocker(self) -> None:
        from harness.residue.rules import BY_ID
        from harness.results.check import Severity

        assert BY_ID["RES502"].severity is Severity.WARNING
        assert BY_ID["RES501"].severity is Severity.ERROR

    def test_a_security_group_nothing_attaches_is_a_finding(self) -> None:
        template = (
            "Resources:\n  Orphan:\n    Type: AWS::EC2::SecurityGroup\n"
            "  Exported:\n    Type: AWS::EC2::SecurityGroup\n"
            "Outputs:\n  Sg:\n    Value: !Ref Exported\n    Export: {Name: shared-sg}\n"
        )
        assert rules("t.yaml", template) == [("RES503", 2)]

    def test_a_client_group_named_only_as_a_peer_is_not_unattached(self) -> None:
        """Its functions may be deployed from another repository; the rule names it."""
        source = (
            'resource "aws_security_group" "clients" {\n  name = "app-lambda"\n}\n'
            'resource "aws_security_group" "db" {}\n'
            'resource "aws_db_instance" "kept" {\n'
            "  vpc_security_group_ids = [aws_security_group.db.id]\n}\n"
            'resource "aws_vpc_security_group_ingress_rule" "in" {\n'
            "  security_group_id = aws_security_group.db.id\n"
            "  referenced_security_group_id = aws_security_group.clients.id\n}\n"
        )
        assert rules("main.tf", source) == []

    def test_the_group_a_rule_belongs_to_is_not_attached_by_it(self) -> None:
        source = (
            'resource "aws_security_group" "db" {}\n'
            'resource "aws_vpc_security_group_ingress_rule" "in" {\n'
            "  security_group_id = aws_security_group.db.id\n"
            '  cidr_ipv4 = "10.0.0.0/16"\n}\n'
        )
        assert rules("main.tf", source) == [("RES503", 1)]


class TestCdk:
    RDS = "import * as rds from 'aws-cdk-lib/aws-rds';\n"

    def test_generated_credentials_handed_to_the_cluster_serve_it(self) -> None:
        source = self.RDS + (
            "new rds.DatabaseCluster(this, 'Db', {\n"
            "  credentials: rds.Credentials.fromGeneratedSecret('postgres'),\n"
            "  removalPolicy: cdk.RemovalPolicy.SNAPSHOT,\n});\n"
        )
        assert rules("s.ts", source) == [
            ("RES203", 1),
            ("RES201", 2),
            ("RES204", 3),
            ("RES502", 4),
        ]

    def test_a_parameter_group_of_a_kept_instance_is_not_residue(self) -> None:
        source = self.RDS + (
            "const params = new rds.ParameterGroup(this, 'P', { engine });\n"
            "new rds.DatabaseInstance(this, 'Billing', {\n"
            "  instanceIdentifier: 'billing-db',\n  parameterGroup: params,\n});\n"
        )
        assert rules("s.ts", source) == [("RES203", 1)]

    def test_a_named_instance_and_what_serves_it_are_residue(self) -> None:
        plan = PLAN.model_copy(update={"instance_ids": ("billing-db",)})
        source = self.RDS + (
            "const params = new rds.ParameterGroup(this, 'P', { engine });\n"
            "new rds.DatabaseInstance(this, 'Billing', {\n"
            "  instanceIdentifier: 'billing-db',\n  parameterGroup: params,\n});\n"
        )
        assert [r for r, _ in rules("s.ts", source, plan)] == [
            "RES203",
            "RES204",
            "RES201",
            "RES001",
        ]

    def test_the_secret_handed_to_from_secret_and_its_uses_are_residue(self) -> None:
        source = (
            "from aws_cdk import aws_rds as rds, aws_secretsmanager as sm\n"
            "secret = sm.Secret(self, 'S')\n"
            "rds.DatabaseCluster(self, 'Db', credentials=rds.Credentials.from_secret(secret))\n"
            "fn.add_environment('SECRET', secret.secret_arn)\n"
        )
        assert ("RES204", 2) in rules("s.py", source)
        assert ("RES204", 4) in rules("s.py", source)

    def test_a_security_group_given_only_to_the_cluster_serves_it(self) -> None:
        source = self.RDS + (
            "import * as ec2 from 'aws-cdk-lib/aws-ec2';\n"
            "const dbSg = new ec2.SecurityGroup(this, 'DbSg', { vpc });\n"
            "dbSg.addIngressRule(appSg, ec2.Port.tcp(5432));\n"
            "new rds.DatabaseCluster(this, 'Db', { securityGroups: [dbSg], vpc });\n"
        )
        found = rules("s.ts", source)
        assert ("RES204", 3) in found
        assert ("RES402", 4) in found

    def test_a_security_group_shared_with_a_function_is_not(self) -> None:
        source = self.RDS + (
            "import * as ec2 from 'aws-cdk-lib/aws-ec2';\n"
            "import * as lambda from 'aws-cdk-lib/aws-lambda';\n"
            "const shared = new ec2.SecurityGroup(this, 'Shared', { vpc });\n"
            "new rds.DatabaseCluster(this, 'Db', { securityGroups: [shared], vpc });\n"
            "new lambda.Function(this, 'Fn', { securityGroups: [shared], vpc });\n"
        )
        assert not any(r in ("RES204", "RES402") for r, _ in rules("s.ts", source))

    def test_a_security_group_given_to_nothing_is_a_finding(self) -> None:
        source = (
            "import * as ec2 from 'aws-cdk-lib/aws-ec2';\n"
            "const dbSg = new ec2.SecurityGroup(this, 'DbSg', { vpc });\n"
            "dbSg.addIngressRule(appSg, ec2.Port.tcp(5432));\n"
        )
        assert rules("s.ts", source) == [("RES503", 2)]

    def test_a_prop_typed_as_a_cluster_carries_it_into_another_stack(self) -> None:
        source = self.RDS + (
            "export interface Props { readonly db: rds.IDatabaseCluster; }\n"
            "new route53.CnameRecord(this, 'R', {\n"
            "  domainName: props.db.clusterEndpoint.hostname,\n});\n"
        )
        source = source.replace(
            self.RDS, self.RDS + "import * as route53 from 'aws-cdk-lib/aws-route53';\n"
        )
        assert rules("s.ts", source) == [
            ("RES203", 1),
            ("RES201", 3),
            ("RES404", 4),
            ("RES201", 5),
        ]

    def test_a_name_inside_a_string_is_not_a_use(self) -> None:
        source = self.RDS + (
            "const aurora = new rds.DatabaseCluster(this, 'Db', {});\n"
            "const note = 'aurora.connections is gone';\n"
        )
        assert rules("s.ts", source) == [("RES203", 1), ("RES201", 2)]


def test_hits_hold_plain_strings_only() -> None:
    """Parsed values remember their positions in a str subclass; none may reach a hit."""
    template = (
        "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n    DeletionPolicy: Retain\n"
        "  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyDocument:\n"
        "        Statement: [{Effect: Allow, Action: 'rds:*', Resource: !GetAtt Db.Arn}]\n"
    )
    found = scan("t.yaml", template)
    assert found
    for hit in found:
        fields: dict[str, Any] = hit.to_dict()
        assert all(type(v) in (str, int, type(None)) for v in fields.values())
