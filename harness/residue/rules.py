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
    flavours: tuple[str, ...] = ("any",)
    """Where the rule looks: ``any`` file, or ``cloudformation``, ``cdk``, ``terraform``."""


EXAMPLE_SETTINGS = RetiredSettings(
    cluster_ids=("legacy-aurora",),
    hostnames=("legacy-aurora.cluster-abc123.eu-west-1.rds.amazonaws.com",),
    secrets=("rds!cluster-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",),
    env_vars=("LEGACY_DB_HOST",),
    resource_ids=("cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0",),
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
        "Aurora engine name or parameter-group family",
        Severity.ERROR,
        "aurora-postgresql and aurora-mysql, and the families built from them "
        "(aurora-postgresql15, default.aurora-postgresql15 in a Mappings table), only ever name "
        "an Aurora RDS engine; DSQL has none.",
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
        "AWS::RDS::DBCluster, AWS::RDS::GlobalCluster and a retired AWS::RDS::DBInstance (an "
        "Aurora member, one the plan's instance_ids name, or any with last_rds_database) define "
        "the retired database itself.",
        ("t.yaml", "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n"),
        ("t.yaml", "Resources:\n  Db:\n    Type: AWS::DSQL::Cluster\n"),
        ("cloudformation",),
    ),
    Rule(
        "RES102",
        "CloudFormation resource serving the RDS cluster",
        Severity.ERROR,
        "Subnet groups, parameter and option groups, proxies, secrets and secret attachments "
        "connected to a retired cluster exist only for it; so does a security group that only "
        "the retired database is given.",
        (
            "t.yaml",
            "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n    Properties:\n"
            "      DBSubnetGroupName: !Ref Subnets\n"
            "  Subnets:\n    Type: AWS::RDS::DBSubnetGroup\n",
        ),
        ("t.yaml", "Resources:\n  Subnets:\n    Type: AWS::RDS::DBSubnetGroup\n"),
        ("cloudformation",),
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
        ("cloudformation",),
    ),
    Rule(
        "RES201",
        "CDK RDS cluster construct",
        Severity.ERROR,
        "rds.DatabaseCluster, ServerlessCluster, DatabaseClusterFromSnapshot, CfnDBCluster, "
        "DatabaseProxy and ClusterInstance (and a retired DatabaseInstance) synthesize the "
        "retired database or its parts; a variable or prop holding one (typed IDatabaseCluster "
        "too) keeps whatever uses it wired to it.",
        (
            "stack.ts",
            "import * as rds from 'aws-cdk-lib/aws-rds';\n"
            "new rds.DatabaseCluster(this, 'Db', {});\n",
        ),
        ("stack.ts", "import * as dsql from 'aws-cdk-lib/aws-dsql';\nnew dsql.CfnCluster(this);\n"),
        ("cdk",),
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
        ("cdk",),
    ),
    Rule(
        "RES203",
        "CDK RDS module import",
        Severity.WARNING,
        "Importing aws-rds is harmless alone, but a DSQL-only stack should not need it.",
        ("stack.ts", "import { aws_rds as rds } from 'aws-cdk-lib';\n"),
        ("stack.ts", "import { aws_dsql as dsql } from 'aws-cdk-lib';\n"),
        ("cdk",),
    ),
    Rule(
        "RES204",
        "CDK construct serving the retired database",
        Severity.ERROR,
        "rds.ParameterGroup, SubnetGroup, OptionGroup, DatabaseSecret and Credentials "
        "(fromSecret, fromGeneratedSecret…) handed to a retired construct, the secret given to "
        "Credentials.fromSecret and a security group only the retired database is given exist "
        "only for it; so does every use of them.",
        (
            "stack.ts",
            "import * as rds from 'aws-cdk-lib/aws-rds';\n"
            "new rds.DatabaseCluster(this, 'Db', {\n"
            "  credentials: rds.Credentials.fromGeneratedSecret('postgres'),\n});\n",
        ),
        (
            "stack.ts",
            "import * as sm from 'aws-cdk-lib/aws-secretsmanager';\n"
            "const apiKey = new sm.Secret(this, 'ApiKey');\n",
        ),
        ("cdk",),
    ),
    Rule(
        "RES301",
        "Terraform RDS cluster resource",
        Severity.ERROR,
        "aws_rds_cluster, aws_rds_cluster_instance, aws_rds_global_cluster, a retired "
        "aws_db_instance, their data sources, the rds-aurora module and a module of the tree "
        "that builds one define or read the retired database.",
        ("main.tf", 'resource "aws_rds_cluster" "db" {\n  engine = "aurora-postgresql"\n}\n'),
        (
            "main.tf",
            'resource "aws_dsql_cluster" "db" {\n  deletion_protection_enabled = true\n}\n',
        ),
        ("terraform",),
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
        ("terraform",),
    ),
    Rule(
        "RES303",
        "Terraform reference to the RDS cluster",
        Severity.ERROR,
        "An expression using a retired resource's attributes (an output, an environment "
        "variable, a local, a module input and the module variable that receives it, in any "
        "file of the tree) keeps something wired to it.",
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
        ("terraform",),
    ),
    Rule(
        "RES401",
        "IAM grant for the retired database",
        Severity.ERROR,
        "rds-db:connect on an ARN naming one of the plan's resource_ids (or a retired "
        "resource), rds: and rds-data: actions on the retired cluster or instance, and "
        "secretsmanager:GetSecretValue on its secret let a role keep using it; with "
        "last_rds_database every RDS grant is residue.",
        (
            "policy.json",
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
            '  "Action": "rds-db:connect",\n'
            '  "Resource": "arn:aws:rds-db:eu-west-1:123456789012:dbuser:'
            'cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0/app"}]}\n',
        ),
        (
            "policy.json",
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
            '  "Action": "rds-db:connect",\n'
            '  "Resource": "arn:aws:rds-db:eu-west-1:123456789012:dbuser:'
            'db-KEPTINSTANCE01/app"}]}\n',
        ),
        ("cloudformation", "cdk", "terraform"),
    ),
    Rule(
        "RES402",
        "security-group rule opening the retired database's port",
        Severity.ERROR,
        "An ingress or egress rule on the retired cluster's security group (or using its port) "
        "keeps a path open to it. Rules on port 5432 elsewhere are not flagged: DSQL listens on "
        "5432 too.",
        (
            "t.yaml",
            "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n    Properties:\n"
            "      VpcSecurityGroupIds: [!GetAtt DbSg.GroupId]\n"
            "  DbSg:\n    Type: AWS::EC2::SecurityGroup\n"
            "  FromApp:\n    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n"
            "      GroupId: !GetAtt DbSg.GroupId\n      FromPort: 5432\n      ToPort: 5432\n",
        ),
        (
            "t.yaml",
            "Resources:\n  FnSg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
            "      SecurityGroupEgress:\n"
            "        - {IpProtocol: tcp, FromPort: 5432, ToPort: 5432, CidrIp: 0.0.0.0/0}\n"
            "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
            "      VpcConfig:\n        SecurityGroupIds: [!GetAtt FnSg.GroupId]\n",
        ),
        ("cloudformation", "cdk", "terraform"),
    ),
    Rule(
        "RES403",
        "alarm or dashboard on the retired database's metrics",
        Severity.ERROR,
        "A CloudWatch alarm, dashboard or metric on AWS/RDS whose dimensions refer to (or "
        "name) the retired database watches something that is gone: it stays in "
        "INSUFFICIENT_DATA and pages nobody.",
        (
            "main.tf",
            'resource "aws_cloudwatch_metric_alarm" "db_cpu" {\n  namespace = "AWS/RDS"\n'
            '  dimensions = {\n    DBClusterIdentifier = "legacy-aurora"\n  }\n}\n',
        ),
        (
            "main.tf",
            'resource "aws_cloudwatch_metric_alarm" "throttles" {\n  namespace = "AWS/DynamoDB"\n'
            '  dimensions = {\n    TableName = "sessions"\n  }\n}\n',
        ),
        ("cloudformation", "cdk", "terraform"),
    ),
    Rule(
        "RES404",
        "DNS record pointing at the retired endpoint",
        Severity.ERROR,
        "A Route 53 record whose value is the retired cluster's (or proxy's) endpoint sends "
        "whoever resolves it to the old database.",
        (
            "main.tf",
            'resource "aws_route53_record" "db" {\n  name = "db.internal"\n  type = "CNAME"\n'
            '  records = ["other.cluster-x1y2.eu-west-1.rds.amazonaws.com"]\n}\n',
        ),
        (
            "main.tf",
            'resource "aws_route53_record" "db" {\n  name = "db.internal"\n  type = "CNAME"\n'
            '  records = ["abcdefghij.dsql.eu-west-1.on.aws"]\n}\n',
        ),
        ("cloudformation", "cdk", "terraform"),
    ),
    Rule(
        "RES501",
        "retired resource kept when its stack is destroyed",
        Severity.ERROR,
        "DeletionPolicy: Retain, removalPolicy: RETAIN, deletion protection, prevent_destroy "
        "and a removed block with destroy = false leave the retired database (or what serves "
        "it) running and billed after the clean destroy (FR-005).",
        (
            "t.yaml",
            "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n    DeletionPolicy: Retain\n",
        ),
        (
            "t.yaml",
            "Resources:\n  Ledger:\n    Type: AWS::DSQL::Cluster\n    DeletionPolicy: Retain\n",
        ),
        ("cloudformation", "cdk", "terraform"),
    ),
    Rule(
        "RES502",
        "snapshot kept when the retired database is destroyed",
        Severity.WARNING,
        "DeletionPolicy: Snapshot, removalPolicy: SNAPSHOT, skip_final_snapshot = false and a "
        "final_snapshot_identifier keep a copy of the retired data after the destroy; a "
        "deliberate backup, but one a reviewer should see and expire.",
        (
            "main.tf",
            'resource "aws_rds_cluster" "db" {\n  skip_final_snapshot = false\n}\n',
        ),
        ("main.tf", 'resource "aws_dsql_cluster" "db" {}\n'),
        ("cloudformation", "cdk", "terraform"),
    ),
    Rule(
        "RES503",
        "security group attached to nothing",
        Severity.ERROR,
        "A security group that no resource in the tree uses, and no output exports, is what "
        "deleting a database leaves behind; its rules still describe a path to it.",
        ("main.tf", 'resource "aws_security_group" "db" {\n  name = "db"\n}\n'),
        (
            "main.tf",
            'resource "aws_security_group" "fn" {\n  name = "fn"\n}\n'
            'resource "aws_lambda_function" "fn" {\n  vpc_config {\n'
            "    security_group_ids = [aws_security_group.fn.id]\n  }\n}\n",
        ),
        ("cloudformation", "cdk", "terraform"),
    ),
    Rule(
        "RES601",
        "DSQL wildcard action",
        Severity.ERROR,
        "The backend needs dsql:DbConnect (dsql:DbConnectAdmin where the plan says dsql_role: "
        "admin); dsql:* also lets it manage, delete and re-point clusters (FR-003).",
        (
            "policy.json",
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dsql:*",\n'
            '  "Resource": "arn:aws:dsql:us-east-1:123456789012:cluster/abcdefghij"}]}\n',
        ),
        (
            "policy.json",
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
            '  "Action": "dsql:DbConnect",\n'
            '  "Resource": "arn:aws:dsql:us-east-1:123456789012:cluster/abcdefghij"}]}\n',
        ),
        ("cloudformation", "cdk", "terraform"),
    ),
    Rule(
        "RES602",
        "DSQL connect on every cluster",
        Severity.ERROR,
        'DSQL connect granted on Resource "*" (or any ARN pattern) reaches every cluster '
        "in the account; grant it on the cluster's ARN.",
        (
            "policy.json",
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
            '  "Action": "dsql:DbConnect",\n  "Resource": "*"}]}\n',
        ),
        (
            "policy.json",
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
            '  "Action": "dsql:DbConnect",\n'
            '  "Resource": "arn:aws:dsql:us-east-1:123456789012:cluster/abcdefghij"}]}\n',
        ),
        ("cloudformation", "cdk", "terraform"),
    ),
    Rule(
        "RES603",
        "DSQL admin connect for a custom-role backend",
        Severity.ERROR,
        "dsql:DbConnectAdmin connects as the admin role, which owns every schema; a backend "
        "that the plan says uses a custom role (dsql_role: custom, the default) must not have "
        "it.",
        (
            "policy.json",
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
            '  "Action": "dsql:DbConnectAdmin",\n'
            '  "Resource": "arn:aws:dsql:us-east-1:123456789012:cluster/abcdefghij"}]}\n',
        ),
        (
            "policy.json",
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
            '  "Action": "dsql:DbConnect",\n'
            '  "Resource": "arn:aws:dsql:us-east-1:123456789012:cluster/abcdefghij"}]}\n',
        ),
        ("cloudformation", "cdk", "terraform"),
    ),
)

BY_ID = {rule.id: rule for rule in RULES}
