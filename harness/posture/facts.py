"""What posture is judged on: plain facts, gathered from an account or from IaC.

Four gatherers fill these — :mod:`~harness.posture.live` through boto3,
:mod:`~harness.posture.template` from CloudFormation (``cdk.out`` included),
:mod:`~harness.posture.terraform` from Terraform, :mod:`~harness.posture.cdk` from CDK source
when no ``cdk.out`` is there — and one judge (:mod:`~harness.posture.checks`) turns them into
results, so every source is held to the same rules.

``None`` means the source does not say (a template leaving a property to its default); each
gatherer fills in its flavour's default where the default is known and safe to assume, and
leaves ``None`` where it is not, so "unset" can be reported as such. In IaC every fact knows
the file and line that set it (:class:`Where`); from an account there is no line to give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Where:
    """A file and line in an IaC tree."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Located:
    """Where a subject is defined, and where each of its properties is set."""

    where: Where | None = None
    """The resource (construct, block) itself; None from an account."""
    lines: Mapping[str, Where] = field(default_factory=dict)
    """Property (the facts' field name) → the line that sets it."""
    unknown: frozenset[str] = frozenset()
    """Properties set to something cutover cannot work out (a parameter without a default,
    a module output): ``None`` then means "unknown", not "unset"."""

    def at(self, prop: str) -> Where | None:
        """Where ``prop`` is set, else where the subject is (for a property left unset)."""
        return self.lines.get(prop, self.where)


@dataclass(frozen=True)
class Ingress:
    """One source allowed in by a security group rule."""

    group: str
    """The database's security group the rule belongs to."""
    from_port: int | None
    to_port: int | None
    """``None``: all ports, or a port only known at deploy time (``!GetAtt Db.Endpoint.Port``)."""
    source: str
    """A CIDR, a prefix list, or a security group id/name/logical id."""
    source_names: tuple[str, ...] = ()
    """Every name the source group goes by (id, GroupName, logical id, construct id)."""
    is_group: bool = False
    where: Where | None = None

    def covers(self, port: int) -> bool:
        low = self.from_port if self.from_port is not None else 0
        high = self.to_port if self.to_port is not None else 65535
        return low <= port <= high


@dataclass(frozen=True)
class Member:
    """An instance of an Aurora cluster."""

    name: str
    publicly_accessible: bool | None
    instance_class: str | None = None
    writer: bool | None = None
    """True for the writer; None when the source does not say (the first is the writer)."""
    count: int = 1
    """How many instances the definition makes (Terraform ``count``)."""
    where: Where | None = None


@dataclass(frozen=True)
class Database:
    """What a cluster and a standalone instance share: storage, backups, engine, network."""

    subject: str
    storage_encrypted: bool | None
    backup_retention_days: int | None
    deletion_protection: bool | None
    ingress: tuple[Ingress, ...]
    engine: str | None = None
    engine_version: str | None = None
    kms_key: str | None = None
    """A customer-managed KMS key; None: the AWS-managed ``aws/rds`` key (or no encryption)."""
    secret: str | None = None
    """The managed master user secret, when RDS manages it."""
    names: tuple[str, ...] = ()
    """Every name it goes by (identifier, logical id, address, construct id): a proxy's
    target is matched against these."""
    located: Located = Located()


@dataclass(frozen=True)
class ClusterFacts(Database):
    """An Aurora/RDS cluster and what protects it."""

    members: tuple[Member, ...] = ()
    serverless_v2: tuple[float | None, float | None] | None = None
    """(min, max) ACU when the cluster scales with Serverless v2; None when it does not."""


@dataclass(frozen=True)
class InstanceFacts(Database):
    """A standalone RDS instance (not a member of a cluster)."""

    publicly_accessible: bool | None = None
    instance_class: str | None = None


@dataclass(frozen=True)
class ProxyFacts:
    """An RDS Proxy, its default target group and its targets."""

    subject: str
    require_tls: bool | None
    iam_auth: bool | None
    """True when every auth entry requires IAM; None when the source does not say."""
    borrow_timeout_s: int | None
    idle_client_timeout_s: int | None
    targets: tuple[tuple[str, ...], ...]
    """Each target's names (a cluster's identifier, logical id…); () when none is found."""
    located: Located = Located()


@dataclass(frozen=True)
class SecretFacts:
    subject: str
    exists: bool
    rotation_enabled: bool | None
    rotation_days: int | None = None
    located: Located = Located()


@dataclass(frozen=True)
class DsqlFacts:
    subject: str
    status: str | None
    """``None`` in IaC: only a live cluster has a status."""
    deletion_protection: bool | None
    located: Located = Located()


@dataclass(frozen=True)
class TableFacts:
    subject: str
    pitr: bool | None
    billing_mode: str | None = None
    """``PAY_PER_REQUEST`` or ``PROVISIONED``."""
    names: tuple[str, ...] = ()
    """The table's name and the names its definition goes by (logical id, construct id)."""
    located: Located = Located()


@dataclass(frozen=True)
class Facts:
    """Everything one gatherer found, by kind."""

    clusters: tuple[ClusterFacts, ...] = ()
    instances: tuple[InstanceFacts, ...] = ()
    proxies: tuple[ProxyFacts, ...] = ()
    secrets: tuple[SecretFacts, ...] = ()
    dsql: tuple[DsqlFacts, ...] = ()
    tables: tuple[TableFacts, ...] = ()

    def __add__(self, other: Facts) -> Facts:
        return Facts(
            self.clusters + other.clusters,
            self.instances + other.instances,
            self.proxies + other.proxies,
            self.secrets + other.secrets,
            self.dsql + other.dsql,
            self.tables + other.tables,
        )
