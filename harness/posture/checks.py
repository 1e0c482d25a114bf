"""The posture rules for databases: facts in, one :class:`CheckResult` per check and subject out.

Results are named ``posture[<check>:<subject>]``; :data:`CHECKS` lists every check with what
it requires, for the report and the docs. A finding from IaC starts with the file and line
that set (or, for a property left to its unsafe default, define) what it is about.
:mod:`harness.posture.services` holds the rules for the proxy, secrets, DSQL and DynamoDB, and
:mod:`harness.posture.judge` applies them all.
"""

from __future__ import annotations

from typing import Any

from harness.posture.facts import ClusterFacts, Database, InstanceFacts, Located, Where
from harness.posture.settings import PostureSettings
from harness.results.check import CheckResult, Finding, FindingKind, Severity, conclude

AREA = "posture"

POSTURE_KIND = FindingKind.POSTURE

IAC_SUFFIXES = (".json", ".yaml", ".yml", ".template", ".tf", ".ts", ".py")

CHECKS: dict[str, str] = {
    "storage_encrypted": "storage is encrypted at rest with KMS (a customer-managed key with "
    "require_kms_key)",
    "backup_retention": "automated backups are kept at least min_backup_retention_days",
    "deletion_protection": "the database cannot be deleted without first turning protection off",
    "not_public": "no instance is publicly accessible",
    "db_ingress": "the database port is open only to the named application security groups",
    "engine_version": "engine and version as the plan declares (engine, engine_version)",
    "instance_class": "every instance is of the class the plan declares (instance_class)",
    "serverless_capacity": "the Aurora Serverless v2 ACU range is the declared one",
    "reader_instance": "a reader instance exists when the plan plans a reader endpoint",
    "proxy_tls": "the RDS Proxy requires TLS",
    "proxy_iam_auth": "the RDS Proxy requires IAM authentication (proxy.require_iam_auth)",
    "proxy_timeouts": "the proxy's connection-borrow and idle-client timeouts are the declared "
    "ones",
    "proxy_target": "the RDS Proxy fronts the cluster the plan names (proxy.target)",
    "credentials_secret": "the credentials secret exists; rotated where require_rotation says so",
    "dsql_cluster": "the DSQL cluster is ACTIVE and has deletion protection",
    "dynamodb_pitr": "point-in-time recovery is on for the table (dynamodb_pitr)",
    "dynamodb_billing": "the table's billing mode is the declared one (dynamodb_billing)",
    "no_subject": "a declared check found no subject to check: a finding, never a pass",
}


def result(
    check: str, subject: str, findings: list[Finding], evidence: dict[str, Any], ok: str
) -> CheckResult:
    assert check in CHECKS, check
    return conclude(AREA, f"{check}:{subject}", findings, evidence, ok=ok)


def finding(
    subject: str,
    message: str,
    *,
    where: Where | None = None,
    severity: Severity = Severity.ERROR,
    actual: object = None,
    wanted: object = None,
) -> Finding:
    """A posture finding; from IaC its message starts with ``file:line``."""
    name = subject
    home, _, rest = subject.partition(":")
    if where is not None and rest and ("/" in home or home.endswith(IAC_SUFFIXES)):
        name = rest  # the file is in ``where``, or the subject's own file is in its name
    text = f"{name}: {message}" if where is None else f"{where}: {name}: {message}"
    return Finding(
        POSTURE_KIND,
        severity,
        subject,
        text,
        source=None if wanted is None else str(wanted),
        target=None if actual is None else str(actual),
    )


def unset(subject: str, what: str, facts: Located, prop: str) -> Finding:
    """A property left to its unsafe default, or set to what cannot be worked out."""
    if prop in facts.unknown:
        message = f"{what} is set to a value cutover cannot work out; declare it literally"
        return finding(subject, message, where=facts.at(prop), actual="unknown")
    message = f"{what} is not set (the default is unsafe)"
    return finding(subject, message, where=facts.at(prop), actual="unset")


def located(facts: Located, *props: str) -> dict[str, Any]:
    """Evidence: where the subject and the properties a check read are (IaC only)."""
    if facts.where is None:
        return {}
    out = {"where": str(facts.where)}
    out.update({f"where_{p}": str(facts.lines[p]) for p in props if p in facts.lines})
    return out


# -- what every database is judged on ------------------------------------------------------


def database_checks(facts: Database, settings: PostureSettings) -> list[CheckResult]:
    """Every check for a cluster or a standalone instance."""
    results = [
        encryption_check(facts, settings),
        backup_check(facts, settings),
        protection_check(facts),
        public_check(facts),
        ingress_check(facts, settings),
    ]
    if settings.engine or settings.engine_version:
        results.append(engine_check(facts, settings))
    if settings.instance_class:
        results.append(class_check(facts, settings.instance_class))
    if isinstance(facts, ClusterFacts):
        if settings.serverless_v2:
            results.append(capacity_check(facts, settings))
        if settings.reader:
            results.append(reader_check(facts))
    return results


def encryption_check(facts: Database, settings: PostureSettings) -> CheckResult:
    s, at = facts.subject, facts.located.at
    findings = []
    if facts.storage_encrypted is None:
        findings.append(unset(s, "StorageEncrypted", facts.located, "storage_encrypted"))
    elif not facts.storage_encrypted:
        findings.append(
            finding(
                s,
                "storage is not encrypted",
                where=at("storage_encrypted"),
                actual=False,
                wanted=True,
            )
        )
    elif settings.require_kms_key and not facts.kms_key:
        findings.append(
            finding(
                s,
                "storage is encrypted with the AWS-managed key, not a customer-managed KMS key",
                where=at("storage_encrypted"),
                actual="aws/rds",
                wanted="a customer-managed KMS key",
            )
        )
    evidence = {
        "storage_encrypted": facts.storage_encrypted,
        "kms_key": facts.kms_key,
        **located(facts.located, "storage_encrypted", "kms_key"),
    }
    key = facts.kms_key or "the AWS-managed key aws/rds"
    return result("storage_encrypted", s, findings, evidence, f"encrypted with {key}")


def backup_check(facts: Database, settings: PostureSettings) -> CheckResult:
    days, minimum = facts.backup_retention_days, settings.min_backup_retention_days
    findings = []
    if days is None and "backup_retention_days" in facts.located.unknown:
        findings.append(
            unset(facts.subject, "BackupRetentionPeriod", facts.located, "backup_retention_days")
        )
    elif days is None or days < minimum:
        findings.append(
            finding(
                facts.subject,
                f"backups kept {days if days is not None else 'the default 1'} day(s), "
                f"fewer than {minimum}",
                where=facts.located.at("backup_retention_days"),
                actual=days,
                wanted=minimum,
            )
        )
    evidence = {
        "days": days,
        "minimum": minimum,
        **located(facts.located, "backup_retention_days"),
    }
    return result("backup_retention", facts.subject, findings, evidence, f"{days} days")


def protection_check(facts: Database) -> CheckResult:
    on = facts.deletion_protection
    findings = (
        []
        if on
        else [
            finding(
                facts.subject,
                "deletion protection is off",
                where=facts.located.at("deletion_protection"),
                actual=on,
                wanted=True,
            )
        ]
    )
    evidence = {"deletion_protection": on, **located(facts.located, "deletion_protection")}
    return result("deletion_protection", facts.subject, findings, evidence, "on")


def public_check(facts: Database) -> CheckResult:
    exposed: list[tuple[str, bool | None, Where | None]]
    if isinstance(facts, ClusterFacts):
        exposed = [(m.name, m.publicly_accessible, m.where) for m in facts.members]
    else:
        assert isinstance(facts, InstanceFacts)
        where = facts.located.at("publicly_accessible")
        exposed = [(facts.subject, facts.publicly_accessible, where)]
    findings = [
        finding(name, "instance is publicly accessible", where=where, actual=True, wanted=False)
        for name, public, where in exposed
        if public
    ]
    findings += [
        finding(
            name,
            "PubliclyAccessible is not set (depends on the subnets)",
            where=where,
            severity=Severity.WARNING,
        )
        for name, public, where in exposed
        if public is None
    ]
    evidence = {"instances": {name: public for name, public, _ in exposed}}
    return result(
        "not_public",
        facts.subject,
        findings,
        {**evidence, **located(facts.located, "publicly_accessible")},
        f"{len(exposed)} instance(s), none public",
    )


def ingress_check(facts: Database, settings: PostureSettings) -> CheckResult:
    """The database port is reachable from the named application groups and nothing else."""
    allowed = set(settings.app_security_groups)
    port = settings.db_port
    findings = []
    for rule in facts.ingress:
        if not rule.covers(port):
            continue
        if rule.is_group and allowed.intersection(rule.source_names or (rule.source,)):
            continue
        what = "security group" if rule.is_group else "address range"
        findings.append(
            finding(
                facts.subject,
                f"port {port} is open to {what} {rule.source} (via {rule.group})",
                where=rule.where or facts.located.where,
                actual=rule.source,
                wanted=" or ".join(sorted(allowed)) or "no one",
            )
        )
    evidence = {
        "port": port,
        "allowed": sorted(allowed),
        "rules": [
            {
                "group": r.group,
                "from": r.from_port,
                "to": r.to_port,
                "source": r.source,
                **({"where": str(r.where)} if r.where else {}),
            }
            for r in facts.ingress
        ],
        **located(facts.located),
    }
    return result(
        "db_ingress",
        facts.subject,
        findings,
        evidence,
        f"port {port} open only to {', '.join(sorted(allowed)) or 'no one'}",
    )


def engine_matches(declared: str, engine: str) -> bool:
    """``postgres`` is PostgreSQL on RDS or Aurora; an ``aurora-…`` declaration is exact."""
    declared, engine = declared.lower(), engine.lower()
    if declared.startswith("aurora"):
        return declared == engine
    family = {"aurora-postgresql": "postgres", "aurora-mysql": "mysql", "aurora": "mysql"}
    return family.get(engine, engine) == declared


def version_matches(declared: str, version: str) -> bool:
    """``15`` matches ``15``, ``15.4`` and ``15.4.R2``; ``15.4`` does not match ``15.10``."""
    want = declared.split(".")
    return version.split(".")[: len(want)] == want


def engine_check(facts: Database, settings: PostureSettings) -> CheckResult:
    at, s = facts.located.at, facts.subject
    findings = []
    if settings.engine:
        if facts.engine is None:
            findings.append(unset(s, "Engine", facts.located, "engine"))
        elif not engine_matches(settings.engine, facts.engine):
            findings.append(
                finding(
                    s,
                    f"engine is {facts.engine}, not {settings.engine}",
                    where=at("engine"),
                    actual=facts.engine,
                    wanted=settings.engine,
                )
            )
    if settings.engine_version:
        declared = settings.engine_version
        if facts.engine_version is None:
            findings.append(
                finding(
                    s,
                    f"EngineVersion is not set, so it is whatever AWS defaults to at creation, "
                    f"not pinned to {declared}.x",
                    where=at("engine_version"),
                    actual="unset",
                    wanted=declared,
                )
            )
        elif not version_matches(declared, facts.engine_version):
            findings.append(
                finding(
                    s,
                    f"engine version is {facts.engine_version}, not {declared}.x",
                    where=at("engine_version"),
                    actual=facts.engine_version,
                    wanted=declared,
                )
            )
    evidence = {
        "engine": facts.engine,
        "engine_version": facts.engine_version,
        "declared": {"engine": settings.engine, "engine_version": settings.engine_version},
        **located(facts.located, "engine", "engine_version"),
    }
    ok = " ".join(str(v) for v in (facts.engine, facts.engine_version) if v)
    return result("engine_version", s, findings, evidence, ok or "as declared")


def class_check(facts: Database, declared: str) -> CheckResult:
    classes: list[tuple[str, str | None, Where | None]]
    if isinstance(facts, ClusterFacts):
        classes = [(m.name, m.instance_class, m.where) for m in facts.members]
    else:
        assert isinstance(facts, InstanceFacts)
        classes = [(facts.subject, facts.instance_class, facts.located.at("instance_class"))]
    findings = [
        finding(name, "DBInstanceClass is not set", where=where, actual="unset")
        if actual is None
        else finding(
            name,
            f"instance class is {actual}, not {declared}",
            where=where,
            actual=actual,
            wanted=declared,
        )
        for name, actual, where in classes
        if actual != declared
    ]
    if not classes:
        findings.append(
            finding(
                facts.subject,
                f"the cluster has no instance, so none is {declared}",
                where=facts.located.where,
                wanted=declared,
            )
        )
    evidence = {"declared": declared, "instances": {n: c for n, c, _ in classes}}
    return result(
        "instance_class",
        facts.subject,
        findings,
        {**evidence, **located(facts.located, "instance_class")},
        f"{len(classes)} instance(s) of {declared}",
    )


def capacity_check(facts: ClusterFacts, settings: PostureSettings) -> CheckResult:
    assert settings.serverless_v2 is not None
    want = (settings.serverless_v2.min_acu, settings.serverless_v2.max_acu)
    where = facts.located.at("serverless_v2")
    findings = []
    if facts.serverless_v2 is None:
        findings.append(
            finding(
                facts.subject,
                f"no Serverless v2 scaling configuration; {want[0]:g}-{want[1]:g} ACU declared",
                where=where,
                actual="none",
                wanted=f"{want[0]:g}-{want[1]:g}",
            )
        )
    else:
        low, high = facts.serverless_v2
        for label, got, wanted, prop in (
            ("minimum", low, want[0], "serverless_v2_min"),
            ("maximum", high, want[1], "serverless_v2_max"),
        ):
            if got is None or float(got) != wanted:
                shown = "not set" if got is None else f"{got:g} ACU"
                findings.append(
                    finding(
                        facts.subject,
                        f"Serverless v2 {label} capacity is {shown}, not {wanted:g} ACU",
                        where=facts.located.at(prop) or where,
                        actual=got,
                        wanted=wanted,
                    )
                )
    evidence = {
        "capacity": list(facts.serverless_v2) if facts.serverless_v2 else None,
        "declared": list(want),
        **located(facts.located, "serverless_v2", "serverless_v2_min", "serverless_v2_max"),
    }
    return result(
        "serverless_capacity",
        facts.subject,
        findings,
        evidence,
        f"{want[0]:g}-{want[1]:g} ACU",
    )


def reader_check(facts: ClusterFacts) -> CheckResult:
    """A reader exists: an instance that is not the writer (the first one is, unless told)."""
    count = sum(m.count for m in facts.members)
    explicit = [m for m in facts.members if m.writer is False]
    readers = sum(m.count for m in explicit) if explicit else max(count - 1, 0)
    findings = (
        []
        if readers
        else [
            finding(
                facts.subject,
                f"a reader endpoint is planned but the cluster has {count} instance(s) and "
                "no reader",
                where=facts.located.where,
                actual=count,
                wanted="a writer and at least one reader",
            )
        ]
    )
    evidence = {"instances": count, "readers": readers, **located(facts.located)}
    return result("reader_instance", facts.subject, findings, evidence, f"{readers} reader(s)")
