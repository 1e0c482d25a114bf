"""Posture facts from an AWS account, read-only, through boto3.

Every call here is a Describe/Get/List; the harness never changes the account it inspects.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from typing import Any

from harness.posture import checks
from harness.posture.facts import (
    ClusterFacts,
    DsqlFacts,
    Facts,
    Ingress,
    InstanceFacts,
    Member,
    ProxyFacts,
    SecretFacts,
    TableFacts,
)
from harness.posture.judge import judge
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


def _kms(client: Clients, key: str | None) -> str | None:
    """The key, or None when it is the AWS-managed ``aws/rds`` key."""
    if not key:
        return None
    described = client("kms").describe_key(KeyId=key)["KeyMetadata"]
    return None if described.get("KeyManager") == "AWS" else key


def _groups(client: Clients, found: dict[str, Any]) -> list[Ingress]:
    ec2 = client("ec2")
    group_ids = [g["VpcSecurityGroupId"] for g in found.get("VpcSecurityGroups", [])]
    if not group_ids:
        return []
    return _ingress(ec2, ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"])


def cluster_facts(client: Clients, cluster_id: str, settings: PostureSettings) -> ClusterFacts:
    rds = client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    members = []
    for member in cluster.get("DBClusterMembers", []):
        ident = member["DBInstanceIdentifier"]
        found = rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        members.append(
            Member(
                ident,
                bool(found.get("PubliclyAccessible")),
                found.get("DBInstanceClass"),
                bool(member.get("IsClusterWriter")),
            )
        )
    scaling = cluster.get("ServerlessV2ScalingConfiguration")
    capacity = (scaling.get("MinCapacity"), scaling.get("MaxCapacity")) if scaling else None
    secret = (cluster.get("MasterUserSecret") or {}).get("SecretArn")
    return ClusterFacts(
        subject=cluster_id,
        storage_encrypted=bool(cluster.get("StorageEncrypted")),
        backup_retention_days=cluster.get("BackupRetentionPeriod"),
        deletion_protection=bool(cluster.get("DeletionProtection")),
        ingress=tuple(_groups(client, cluster)),
        engine=cluster.get("Engine"),
        engine_version=cluster.get("EngineVersion"),
        kms_key=_kms(client, cluster.get("KmsKeyId")) if settings.require_kms_key else None,
        secret=secret,
        names=(cluster_id, cluster.get("DbClusterResourceId", cluster_id)),
        members=tuple(members),
        serverless_v2=capacity,
    )


def instance_facts(client: Clients, ident: str, settings: PostureSettings) -> InstanceFacts:
    found = client("rds").describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
    return InstanceFacts(
        subject=ident,
        storage_encrypted=bool(found.get("StorageEncrypted")),
        backup_retention_days=found.get("BackupRetentionPeriod"),
        deletion_protection=bool(found.get("DeletionProtection")),
        ingress=tuple(_groups(client, found)),
        engine=found.get("Engine"),
        engine_version=found.get("EngineVersion"),
        kms_key=_kms(client, found.get("KmsKeyId")) if settings.require_kms_key else None,
        secret=(found.get("MasterUserSecret") or {}).get("SecretArn"),
        names=(ident, found.get("DbiResourceId", ident)),
        publicly_accessible=bool(found.get("PubliclyAccessible")),
        instance_class=found.get("DBInstanceClass"),
    )


def proxy_facts(client: Clients, name: str) -> ProxyFacts:
    rds = client("rds")
    proxy = rds.describe_db_proxies(DBProxyName=name)["DBProxies"][0]
    auth = proxy.get("Auth") or []
    groups = rds.describe_db_proxy_target_groups(DBProxyName=name)["TargetGroups"]
    default = next((g for g in groups if g.get("IsDefault")), groups[0] if groups else {})
    pool = default.get("ConnectionPoolConfig") or {}
    targets = rds.describe_db_proxy_targets(DBProxyName=name).get("Targets", [])
    names = [
        tuple(
            n for n in (t.get("TrackedClusterId"), t.get("RdsResourceId"), t.get("Endpoint")) if n
        )
        for t in targets
    ]
    return ProxyFacts(
        name,
        require_tls=bool(proxy.get("RequireTLS")),
        iam_auth=bool(auth) and all(a.get("IAMAuth") == "REQUIRED" for a in auth),
        borrow_timeout_s=pool.get("ConnectionBorrowTimeout"),
        idle_client_timeout_s=proxy.get("IdleClientTimeout"),
        targets=tuple(dict.fromkeys(n for n in names if n)),
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
    dynamodb = client("dynamodb")
    backups = dynamodb.describe_continuous_backups(TableName=table)
    pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    described = dynamodb.describe_table(TableName=table)["Table"]
    billing = (described.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    return TableFacts(
        table, pitr.get("PointInTimeRecoveryStatus") == "ENABLED", billing, names=(table,)
    )


def live_results(settings: PostureSettings, *, session: Any = None) -> list[CheckResult]:
    """Every posture check the settings ask for, against the account; a failed call is an
    error, and a declaration with nothing named to hold it to is a finding."""
    client = Clients(settings, session)
    errors: list[CheckResult] = []
    failed: set[str] = set()

    def read(kind: str, check: str, subject: str, gather: Callable[[], Any]) -> Any:
        found = _guard(check, subject, gather)
        if isinstance(found, CheckResult):
            errors.append(found)
            failed.add(kind)
            return None
        return found

    clusters, instances = [], []
    if settings.rds_cluster:
        ident = settings.rds_cluster
        found = read(
            "database", "rds_cluster", ident, partial(cluster_facts, client, ident, settings)
        )
        clusters += [found] if found else []
    for ident in settings.rds_instances:
        found = read(
            "database", "rds_instance", ident, partial(instance_facts, client, ident, settings)
        )
        instances += [found] if found else []
    proxies = []
    if settings.proxy is not None and settings.proxy.name:
        name = settings.proxy.name
        found = read("proxy", "rds_proxy", name, partial(proxy_facts, client, name))
        proxies += [found] if found else []
    secrets = []
    secret = settings.secret or next((d.secret for d in (*clusters, *instances) if d.secret), None)
    if secret:
        found = read("secret", "credentials_secret", secret, partial(secret_facts, client, secret))
        secrets += [found] if found else []
    dsql = []
    if settings.dsql_cluster:
        ident = settings.dsql_cluster
        found = read("dsql", "dsql_cluster", ident, partial(dsql_facts, client, ident))
        dsql += [found] if found else []
    tables = []
    for table in settings.dynamodb_tables:
        found = read("tables", "dynamodb_table", table, partial(table_facts, client, table))
        tables += [found] if found else []
    facts = Facts(
        tuple(clusters),
        tuple(instances),
        tuple(proxies),
        tuple(secrets),
        tuple(dsql),
        tuple(tables),
    )
    where = f"the account ({settings.region or 'default region'})"
    return errors + judge(facts, settings, searched=where, failed=failed)


def _guard(check: str, subject: str, gather: Callable[[], Any]) -> Any:
    """Run a gatherer; an AWS error becomes an ``error`` result (never a pass)."""
    botocore = importlib.import_module("botocore.exceptions")
    try:
        return gather()
    except (botocore.ClientError, botocore.BotoCoreError) as exc:
        return errored(checks.AREA, f"{check}:{subject}", f"cannot read {subject}: {exc}")
