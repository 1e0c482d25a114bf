"""The residue rules, as data: what each flags, why, and an example it must (not) flag.

A test runs every rule's ``bad`` example through the scanner and expects a hit with that
rule's id, and its ``good`` example and expects none, so the documentation cannot drift from
the behaviour. Examples are scanned with :data:`EXAMPLE_SETTINGS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.residue.settings import RetiredSettings
from harness.results.check import Severity


@dataclass(frozen=True)
class Rule:
    """One kind of leftover the scan reports."""

    id: str
    title: str
    severity: Severity
    why: str
    bad: tuple[str, str]
    """(file name, content) the rule must flag."""
    good: tuple[str, str]
    """(file name, content) the rule must not flag."""


EXAMPLE_SETTINGS = RetiredSettings(
    cluster_ids=("legacy-aurora",),
    hostnames=("legacy-aurora.cluster-abc123.eu-west-1.rds.amazonaws.com",),
    secrets=("rds!cluster-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",),
    env_vars=("LEGACY_DB_HOST",),
)

RULES: tuple[Rule, ...] = (
    Rule(
        "RES001",
        "concrete identifier of the retired cluster",
        Severity.ERROR,
        "The plan names the cluster id, endpoints, secrets and environment variables of the "
        "retired cluster; any of them left in code or configuration still points at it.",
        ("app.py", 'HOST = os.environ["LEGACY_DB_HOST"]\n'),
        ("app.py", 'HOST = os.environ["DSQL_ENDPOINT"]\n'),
    ),
    Rule(
        "RES002",
        "Aurora engine name",
        Severity.ERROR,
        "aurora-postgresql and aurora-mysql only ever name an Aurora RDS engine; DSQL has none.",
        (".env", "DB_ENGINE=aurora-postgresql\n"),
        (".env", "DB_ENGINE=dsql\n"),
    ),
    Rule(
        "RES003",
        "Aurora cluster or proxy endpoint host name",
        Severity.ERROR,
        "*.cluster-*.rds.amazonaws.com is an Aurora endpoint whatever the plan lists.",
        ("config.ini", "[db]\nhost = other.cluster-ro-x1y2.us-east-1.rds.amazonaws.com\n"),
        ("config.ini", "[db]\nhost = abcdefghij.dsql.us-east-1.on.aws\n"),
    ),
    Rule(
        "RES004",
        "RDS-managed master user secret",
        Severity.ERROR,
        "Secrets named rds!cluster-… are created and rotated by RDS for one cluster.",
        ("settings.json", '{"secret": "rds!cluster-1234abcd-0000-1111-2222-333344445555"}\n'),
        ("settings.json", '{"secret": "app/dsql/admin-token-role"}\n'),
    ),
    Rule(
        "RES101",
        "CloudFormation RDS cluster",
        Severity.ERROR,
        "AWS::RDS::DBCluster, AWS::RDS::GlobalCluster and an Aurora AWS::RDS::DBInstance "
        "define the retired database itself.",
        ("t.yaml", "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n"),
        ("t.yaml", "Resources:\n  Db:\n    Type: AWS::DSQL::Cluster\n"),
    ),
    Rule(
        "RES102",
        "CloudFormation resource serving the RDS cluster",
        Severity.ERROR,
        "Subnet groups, parameter groups, proxies and secret attachments connected to a "
        "retired cluster exist only for it.",
        (
            "t.yaml",
            "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n    Properties:\n"
            "      DBSubnetGroupName: !Ref Subnets\n"
            "  Subnets:\n    Type: AWS::RDS::DBSubnetGroup\n",
        ),
        ("t.yaml", "Resources:\n  Subnets:\n    Type: AWS::RDS::DBSubnetGroup\n"),
    ),
    Rule(
        "RES103",
        "CloudFormation reference to the RDS cluster",
        Severity.ERROR,
        "A Ref, Fn::GetAtt, Fn::Sub or DependsOn pointing at a retired resource keeps "
        "something else (a function's environment, an output) wired to it.",
        (
            "t.yaml",
            "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n"
            "Outputs:\n  Host:\n    Value: !GetAtt Db.Endpoint.Address\n",
        ),
        (
            "t.yaml",
            "Resources:\n  Db:\n    Type: AWS::DSQL::Cluster\n"
            "Outputs:\n  Id:\n    Value: !Ref Db\n",
        ),
    ),
    Rule(
        "RES201",
        "CDK RDS cluster construct",
        Severity.ERROR,
        "rds.DatabaseCluster, ServerlessCluster, DatabaseClusterFromSnapshot, CfnDBCluster, "
        "DatabaseProxy and ClusterInstance synthesize the retired cluster or its parts.",
        (
            "stack.ts",
            "import * as rds from 'aws-cdk-lib/aws-rds';\n"
            "new rds.DatabaseCluster(this, 'Db', {});\n",
        ),
        ("stack.ts", "import * as dsql from 'aws-cdk-lib/aws-dsql';\nnew dsql.CfnCluster(this);\n"),
    ),
    Rule(
        "RES202",
        "CDK Aurora engine",
        Severity.ERROR,
        "DatabaseClusterEngine.auroraPostgres (aurora_postgres in Python) and "
        "AuroraPostgresEngineVersion choose the Aurora engine.",
        (
            "stack.py",
            "from aws_cdk import aws_rds as rds\n"
            "engine = rds.DatabaseClusterEngine.aurora_postgres(version=v)\n",
        ),
        ("stack.py", "from aws_cdk import aws_dsql as dsql\nengine = None\n"),
    ),
    Rule(
        "RES203",
        "CDK RDS module import",
        Severity.WARNING,
        "Importing aws-rds is harmless alone, but a DSQL-only stack should not need it.",
        ("stack.ts", "import { aws_rds as rds } from 'aws-cdk-lib';\n"),
        ("stack.ts", "import { aws_dsql as dsql } from 'aws-cdk-lib';\n"),
    ),
    Rule(
        "RES301",
        "Terraform RDS cluster resource",
        Severity.ERROR,
        "aws_rds_cluster, aws_rds_cluster_instance, aws_rds_global_cluster, their data "
        "sources and the rds-aurora module define or read the retired cluster.",
        ("main.tf", 'resource "aws_rds_cluster" "db" {\n  engine = "aurora-postgresql"\n}\n'),
        (
            "main.tf",
            'resource "aws_dsql_cluster" "db" {\n  deletion_protection_enabled = true\n}\n',
        ),
    ),
    Rule(
        "RES302",
        "Terraform resource serving the RDS cluster",
        Severity.ERROR,
        "aws_db_subnet_group, parameter groups, proxies and secrets connected to a retired "
        "cluster exist only for it.",
        (
            "main.tf",
            'resource "aws_db_subnet_group" "db" {\n  name = "db"\n}\n'
            'resource "aws_rds_cluster" "db" {\n'
            "  db_subnet_group_name = aws_db_subnet_group.db.name\n}\n",
        ),
        ("main.tf", 'resource "aws_db_subnet_group" "db" {\n  name = "db"\n}\n'),
    ),
    Rule(
        "RES303",
        "Terraform reference to the RDS cluster",
        Severity.ERROR,
        "An expression using a retired resource's attributes (an output, an environment "
        "variable) keeps something wired to it.",
        (
            "main.tf",
            'resource "aws_rds_cluster" "db" {}\n'
            'output "host" {\n  value = aws_rds_cluster.db.endpoint\n}\n',
        ),
        (
            "main.tf",
            'resource "aws_dsql_cluster" "db" {}\noutput "id" {\n'
            "  value = aws_dsql_cluster.db.identifier\n}\n",
        ),
    ),
)

BY_ID = {rule.id: rule for rule in RULES}
