"""What a CDK app's source says, read out of TypeScript or Python alike.

The two readers (:mod:`~harness.residue.cdk.typescript`, :mod:`~harness.residue.cdk.python`)
reduce a file to :class:`Extract`: the calls of the CDK modules that matter (``new
rds.DatabaseCluster(…)``, ``rds.Credentials.fromSecret(…)``, ``new iam.PolicyStatement(…)``),
which variable holds each, where every such variable is used, and a few properties
(``removalPolicy``, ``deletionProtection``). :mod:`~harness.residue.cdk.judge` decides on the
extract, the same way for both languages. Offsets are character offsets in the file's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.residue.hits import Hit
from harness.residue.iam import Item

MODULES = {
    "aws_rds": "rds",
    "aws_dsql": "dsql",
    "aws_ec2": "ec2",
    "aws_secretsmanager": "secretsmanager",
    "aws_iam": "iam",
    "aws_route53": "route53",
    "aws_cloudwatch": "cloudwatch",
}
"""CDK module (``aws-cdk-lib/aws-rds``, ``aws_cdk.aws_rds``) → the short name used here."""

CLUSTERS = frozenset(
    {
        "DatabaseCluster",
        "DatabaseClusterFromSnapshot",
        "ServerlessCluster",
        "ServerlessClusterFromSnapshot",
        "ServerlessClusterV2",
        "CfnDBCluster",
        "CfnGlobalCluster",
    }
)
"""RDS module members that build an RDS cluster: SC-001 counts them."""
CONSTRUCTS = CLUSTERS | {
    "DatabaseProxy",
    "CfnDBProxy",
    "ClusterInstance",
    "IDatabaseCluster",
    "IServerlessCluster",
    "IDatabaseProxy",
}
"""Members that only exist with an RDS cluster: always the retired database (RES201)."""
INSTANCES = frozenset(
    {
        "DatabaseInstance",
        "DatabaseInstanceFromSnapshot",
        "DatabaseInstanceReadReplica",
        "CfnDBInstance",
        "IDatabaseInstance",
    }
)
"""RDS instances: the retired database when the plan says so (RES201) — an Aurora member, an
identifier the plan names, or any when the plan retires the last RDS database."""
SERVING = frozenset(
    {
        "ParameterGroup",
        "SubnetGroup",
        "OptionGroup",
        "DatabaseSecret",
        "Credentials",
        "CfnDBSubnetGroup",
        "CfnDBClusterParameterGroup",
        "CfnDBParameterGroup",
        "CfnOptionGroup",
        "CfnDBProxyTargetGroup",
        "CfnDBProxyEndpoint",
    }
)
"""Members that exist only for a database: serve the retired one when handed to it (RES204)."""
ENGINE_CLASSES = frozenset({"AuroraPostgresEngineVersion", "AuroraMysqlEngineVersion"})
ENGINE_MEMBERS = frozenset(
    {
        "auroraPostgres",
        "auroraMysql",
        "aurora_postgres",
        "aurora_mysql",
        "AURORA_POSTGRESQL",
        "AURORA_MYSQL",
        "AURORA",
    }
)
"""``DatabaseClusterEngine.<member>``: TypeScript, Python and constant spellings."""
DNS_RECORDS = frozenset({"ARecord", "AaaaRecord", "CnameRecord", "RecordSet", "TxtRecord"})
WATCHERS = frozenset({"Alarm", "Dashboard", "Metric", "GraphWidget", "SingleValueWidget"})


@dataclass(frozen=True)
class Call:
    """A call of a member of one of :data:`MODULES`: ``new rds.DatabaseCluster(this, 'Db', …)``
    or ``rds.Credentials.fromSecret(secret)``."""

    module: str
    member: str
    method: str | None
    """``fromSecret`` in ``rds.Credentials.fromSecret(…)``; None for a constructor."""
    start: int
    end: int
    line: int
    column: int
    text: str
    """``rds.DatabaseCluster`` as written (spaces collapsed)."""
    var: str | None = None
    """The variable (``aurora``, ``this.cluster``, ``self.cluster``) assigned the result."""
    construct_id: str | None = None
    args: tuple[str, ...] = ()
    """Plain names passed as arguments (``secret`` in ``fromSecret(secret)``)."""
    source: str = ""
    """The call's source text (for identifiers the plan names)."""

    def contains(self, offset: int) -> bool:
        return self.start <= offset < self.end


@dataclass(frozen=True)
class Use:
    """A use of a variable that holds a call's result, with what follows it
    (``.connections.allowDefaultPortFrom``)."""

    var: str
    start: int
    line: int
    column: int
    tail: str


@dataclass(frozen=True)
class Prop:
    """``removalPolicy: RemovalPolicy.RETAIN`` or ``deletion_protection=True`` in a call."""

    name: str
    """Normalised: ``removalPolicy`` or ``deletionProtection``."""
    value: str
    start: int
    line: int
    column: int
    text: str


@dataclass(frozen=True)
class PolicyStatement:
    """An ``iam.PolicyStatement``: its actions and resources, unless its effect is Deny."""

    start: int
    actions: tuple[Item, ...]
    resources: tuple[Item, ...]


@dataclass
class Extract:
    """One file's CDK content."""

    app: bool = False
    """It imports the CDK: it is infrastructure source."""
    imports: list[Hit] = field(default_factory=list)
    """RES203: imports of the RDS module."""
    mentions: list[Hit] = field(default_factory=list)
    """RES201/RES202 of RDS members other than instances and serving constructs."""
    calls: list[Call] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    props: list[Prop] = field(default_factory=list)
    statements: list[PolicyStatement] = field(default_factory=list)
    typed: dict[str, str] = field(default_factory=dict)
    """Names declared with an RDS cluster type (``readonly cluster: rds.IDatabaseCluster``)
    → how their uses are written (``props.cluster``)."""
    typed_instances: dict[str, str] = field(default_factory=dict)
    """The same for RDS instance types: retired when every instance of the tree is."""
