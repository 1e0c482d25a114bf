"""Posture facts from an AWS account, read-only, through boto3.

Every call here is a Describe/Get/List; the harness never changes the account it inspects.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from typing import Any

from harness.posture import checks
from harness.posture.facts import ClusterFacts, DsqlFacts, Ingress, SecretFacts, TableFacts
from harness.posture.settings import PostureSettings
from harness.results.check import CheckResult, errored


class Clients:
    """boto3 clients for one region and endpoint, made on first use."""

    def __init__(self, settings: PostureSettings, session: Any = None) -> None:
        self._settings = settings
        self._session = session
        self._made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            # boto3's default session keeps the parsed service models between runs, so a
            # second run does not pay to load the large EC2 model again.
            session = self._session or importlib.import_module("boto3")
            self._made[service] = session.client(
                service,
                region_name=self._settings.region,
                endpoint_url=self._settings.endpoint_url,
            )
        return self._made[service]


def _client_error() -> Any:
    return importlib.import_module("botocore.exceptions").ClientError


def cluster_facts(client: Clients, cluster_id: str) -> ClusterFacts:
    rds, ec2 = client("rds"), client("ec2")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    instances: dict[str, bool | None] = {}
    for member in cluster.get("DBClusterMembers", []):
        ident = member["DBInstanceIdentifier"]
        found = rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        instances[ident] = bool(found.get("PubliclyAccessible"))
    group_ids = [g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])]
    ingress: list[Ingress] = []
    if group_ids:
        groups = ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
        ingress = _ingress(ec2, groups)
    secret = (cluster.get("MasterUserSecret") or {}).get("SecretArn")
    return ClusterFacts(
        subject=cluster_id,
        storage_encrypted=bool(cluster.get("StorageEncrypted")),
        backup_retention_days=cluster.get("BackupRetentionPeriod"),
        deletion_protection=bool(cluster.get("DeletionProtection")),
        instances=instances,
        ingress=tuple(ingress),
        secret=secret,
    )


def _ingress(ec2: Any, groups: list[dict[str, Any]]) -> list[Ingress]:
    sources = {
        pair["GroupId"]
        for group in groups
        for perm in group.get("IpPermissions", [])
        for pair in perm.get("UserIdGroupPairs", [])
    }
    names = {}
    if sources:
        described = ec2.describe_security_groups(GroupIds=sorted(sources))["SecurityGroups"]
        names = {g["GroupId"]: g.get("GroupName", "") for g in described}
    out: list[Ingress] = []
    for group in groups:
        for perm in group.get("IpPermissions", []):
            every_port = perm.get("IpProtocol") == "-1"
            low = None if every_port else perm.get("FromPort")
            high = None if every_port else perm.get("ToPort")
            gid = group["GroupId"]
            for rng in perm.get("IpRanges", []):
                out.append(Ingress(gid, low, high, rng["CidrIp"]))
            for rng in perm.get("Ipv6Ranges", []):
                out.append(Ingress(gid, low, high, rng["CidrIpv6"]))
            for plist in perm.get("PrefixListIds", []):
                out.append(Ingress(gid, low, high, plist["PrefixListId"]))
            for pair in perm.get("UserIdGroupPairs", []):
                source = pair["GroupId"]
                known = tuple(n for n in (source, names.get(source)) if n)
                out.append(Ingress(gid, low, high, source, known, is_group=True))
    return out


def secret_facts(client: Clients, secret_id: str) -> SecretFacts:
    try:
        described = client("secretsmanager").describe_secret(SecretId=secret_id)
    except _client_error() as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return SecretFacts(secret_id, exists=False, rotation_enabled=None)
        raise
    days = (described.get("RotationRules") or {}).get("AutomaticallyAfterDays")
    return SecretFacts(
        described.get("Name", secret_id),
        exists=True,
        rotation_enabled=bool(described.get("RotationEnabled")),
        rotation_days=days,
    )


def dsql_facts(client: Clients, identifier: str) -> DsqlFacts:
    cluster = client("dsql").get_cluster(identifier=identifier)
    return DsqlFacts(identifier, cluster.get("status"), cluster.get("deletionProtectionEnabled"))


def table_facts(client: Clients, table: str) -> TableFacts:
    backups = client("dynamodb").describe_continuous_backups(TableName=table)
    pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    return TableFacts(table, pitr.get("PointInTimeRecoveryStatus") == "ENABLED")


def live_results(settings: PostureSettings, *, session: Any = None) -> list[CheckResult]:
    """Every posture check the settings ask for, against the account; a failed call is an error."""
    client = Clients(settings, session)
    results: list[CheckResult] = []
    secret = settings.secret
    if settings.rds_cluster:
        cluster = _guard(
            "rds_cluster",
            settings.rds_cluster,
            partial(cluster_facts, client, settings.rds_cluster),
        )
        if isinstance(cluster, CheckResult):
            results.append(cluster)
        else:
            results.extend(checks.cluster_checks(cluster, settings))
            secret = secret or cluster.secret
    if secret:
        found = _guard("credentials_secret", secret, partial(secret_facts, client, secret))
        results.append(
            found if isinstance(found, CheckResult) else checks.secret_check(found, settings)
        )
    if settings.dsql_cluster:
        ident = settings.dsql_cluster
        dsql = _guard("dsql_cluster", ident, partial(dsql_facts, client, ident))
        results.append(dsql if isinstance(dsql, CheckResult) else checks.dsql_check(dsql))
    for table in settings.dynamodb_tables:
        facts = _guard("dynamodb_pitr", table, partial(table_facts, client, table))
        results.append(facts if isinstance(facts, CheckResult) else checks.pitr_check(facts))
    return results


def _guard(check: str, subject: str, gather: Callable[[], Any]) -> Any:
    """Run a gatherer; an AWS error becomes an ``error`` result (never a pass)."""
    botocore = importlib.import_module("botocore.exceptions")
    try:
        return gather()
    except (botocore.ClientError, botocore.BotoCoreError) as exc:
        return errored(checks.AREA, f"{check}:{subject}", f"cannot read {subject}: {exc}")
