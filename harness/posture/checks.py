"""The posture rules: facts in, one :class:`CheckResult` per check and subject out.

Results are named ``posture[<check>:<subject>]``; :data:`CHECKS` lists every check with what
it requires, for the report and the docs.
"""

from __future__ import annotations

from typing import Any

from harness.posture.facts import ClusterFacts, DsqlFacts, SecretFacts, TableFacts
from harness.posture.settings import PostureSettings
from harness.results.check import CheckResult, Finding, FindingKind, Severity, conclude

AREA = "posture"

POSTURE_KIND = FindingKind.POSTURE

CHECKS: dict[str, str] = {
    "storage_encrypted": "the cluster's storage is encrypted at rest",
    "backup_retention": "automated backups are kept at least min_backup_retention_days",
    "deletion_protection": "the cluster cannot be deleted without first turning protection off",
    "not_public": "no instance of the cluster is publicly accessible",
    "db_ingress": "the database port is open only to the named application security groups",
    "credentials_secret": "the credentials secret exists (rotation state reported)",
    "dsql_cluster": "the DSQL cluster is ACTIVE and has deletion protection",
    "dynamodb_pitr": "point-in-time recovery is on for the table",
}


def _result(
    check: str, subject: str, findings: list[Finding], evidence: dict[str, Any], ok: str
) -> CheckResult:
    return conclude(AREA, f"{check}:{subject}", findings, evidence, ok=ok)


def _finding(
    subject: str,
    message: str,
    *,
    severity: Severity = Severity.ERROR,
    actual: object = None,
    wanted: object = None,
) -> Finding:
    return Finding(
        POSTURE_KIND,
        severity,
        subject,
        f"{subject}: {message}",
        source=None if wanted is None else str(wanted),
        target=None if actual is None else str(actual),
    )


def _unset(subject: str, what: str) -> Finding:
    return _finding(subject, f"{what} is not set (the default is unsafe)", actual="unset")


def cluster_checks(facts: ClusterFacts, settings: PostureSettings) -> list[CheckResult]:
    """storage_encrypted, backup_retention, deletion_protection, not_public, db_ingress."""
    s = facts.subject
    results = []
    findings = (
        []
        if facts.storage_encrypted
        else [
            _unset(s, "StorageEncrypted")
            if facts.storage_encrypted is None
            else _finding(s, "storage is not encrypted", actual=False, wanted=True)
        ]
    )
    results.append(
        _result(
            "storage_encrypted",
            s,
            findings,
            {"storage_encrypted": facts.storage_encrypted},
            "encrypted",
        )
    )

    days, minimum = facts.backup_retention_days, settings.min_backup_retention_days
    findings = []
    if days is None or days < minimum:
        findings.append(
            _finding(
                s,
                f"backups kept {days if days is not None else 'the default 1'} day(s), "
                f"fewer than {minimum}",
                actual=days,
                wanted=minimum,
            )
        )
    results.append(
        _result("backup_retention", s, findings, {"days": days, "minimum": minimum}, f"{days} days")
    )

    findings = (
        []
        if facts.deletion_protection
        else [
            _finding(s, "deletion protection is off", actual=facts.deletion_protection, wanted=True)
        ]
    )
    results.append(
        _result(
            "deletion_protection",
            s,
            findings,
            {"deletion_protection": facts.deletion_protection},
            "on",
        )
    )

    findings = [
        _finding(i, "instance is publicly accessible", actual=True, wanted=False)
        for i, public in sorted(facts.instances.items())
        if public
    ]
    findings += [
        _finding(
            i, "PubliclyAccessible is not set (depends on the subnets)", severity=Severity.WARNING
        )
        for i, public in sorted(facts.instances.items())
        if public is None
    ]
    results.append(
        _result(
            "not_public",
            s,
            findings,
            {"instances": facts.instances},
            f"{len(facts.instances)} instance(s), none public",
        )
    )

    results.append(ingress_check(facts, settings))
    return results


def ingress_check(facts: ClusterFacts, settings: PostureSettings) -> CheckResult:
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
            _finding(
                facts.subject,
                f"port {port} is open to {what} {rule.source} (via {rule.group})",
                actual=rule.source,
                wanted=" or ".join(sorted(allowed)) or "no one",
            )
        )
    evidence = {
        "port": port,
        "allowed": sorted(allowed),
        "rules": [
            {"group": r.group, "from": r.from_port, "to": r.to_port, "source": r.source}
            for r in facts.ingress
        ],
    }
    return _result(
        "db_ingress",
        facts.subject,
        findings,
        evidence,
        f"port {port} open only to {', '.join(sorted(allowed)) or 'no one'}",
    )


def secret_check(facts: SecretFacts, settings: PostureSettings) -> CheckResult:
    """The secret exists; rotation off is a warning, or an error with require_rotation."""
    findings = []
    if not facts.exists:
        findings.append(_finding(facts.subject, "the credentials secret does not exist"))
    elif not facts.rotation_enabled:
        severity = Severity.ERROR if settings.require_rotation else Severity.WARNING
        findings.append(
            _finding(
                facts.subject,
                "rotation is not enabled",
                severity=severity,
                actual=False,
                wanted=True,
            )
        )
    evidence = {
        "exists": facts.exists,
        "rotation_enabled": facts.rotation_enabled,
        "rotation_days": facts.rotation_days,
    }
    rotation = (
        f"rotated every {facts.rotation_days} days"
        if facts.rotation_enabled and facts.rotation_days
        else ("rotated" if facts.rotation_enabled else "not rotated")
    )
    return _result("credentials_secret", facts.subject, findings, evidence, f"exists, {rotation}")


def dsql_check(facts: DsqlFacts) -> CheckResult:
    findings = []
    if facts.status is not None and facts.status != "ACTIVE":
        findings.append(
            _finding(
                facts.subject,
                f"cluster is {facts.status}, not ACTIVE",
                actual=facts.status,
                wanted="ACTIVE",
            )
        )
    if facts.deletion_protection is None:
        findings.append(_unset(facts.subject, "DeletionProtectionEnabled"))
    elif not facts.deletion_protection:
        findings.append(
            _finding(facts.subject, "deletion protection is off", actual=False, wanted=True)
        )
    evidence = {"status": facts.status, "deletion_protection": facts.deletion_protection}
    state = facts.status or "defined (status known only once deployed)"
    return _result(
        "dsql_cluster", facts.subject, findings, evidence, f"{state}, deletion protection on"
    )


def pitr_check(facts: TableFacts) -> CheckResult:
    findings = (
        []
        if facts.pitr
        else [
            _unset(facts.subject, "PointInTimeRecoveryEnabled")
            if facts.pitr is None
            else _finding(facts.subject, "point-in-time recovery is off", actual=False, wanted=True)
        ]
    )
    return _result(
        "dynamodb_pitr", facts.subject, findings, {"pitr": facts.pitr}, "point-in-time recovery on"
    )
