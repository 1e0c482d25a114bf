"""What posture is judged on: plain facts, gathered from an account or from templates.

Two gatherers fill these (:mod:`harness.posture.live` through boto3,
:mod:`harness.posture.template` from synthesized CloudFormation) and one judge
(:mod:`harness.posture.checks`) turns them into results, so both paths apply the same rules.
``None`` means the source does not say (a template leaving a property to its default).
"""

from __future__ import annotations

from dataclasses import dataclass


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
    """Every name the source group goes by (id, GroupName, logical id)."""
    is_group: bool = False

    def covers(self, port: int) -> bool:
        low = self.from_port if self.from_port is not None else 0
        high = self.to_port if self.to_port is not None else 65535
        return low <= port <= high


@dataclass(frozen=True)
class ClusterFacts:
    """An Aurora/RDS cluster and what protects it."""

    subject: str
    storage_encrypted: bool | None
    backup_retention_days: int | None
    deletion_protection: bool | None
    instances: dict[str, bool | None]
    """Instance id → publicly accessible."""
    ingress: tuple[Ingress, ...]
    secret: str | None = None
    """The managed master user secret, when RDS manages it."""


@dataclass(frozen=True)
class SecretFacts:
    subject: str
    exists: bool
    rotation_enabled: bool | None
    rotation_days: int | None = None


@dataclass(frozen=True)
class DsqlFacts:
    subject: str
    status: str | None
    """``None`` in a template: only a live cluster has a status."""
    deletion_protection: bool | None


@dataclass(frozen=True)
class TableFacts:
    subject: str
    pitr: bool | None
