"""The posture rules for what surrounds the database: RDS Proxy, secrets, DSQL and DynamoDB."""

from __future__ import annotations

from harness.posture.checks import finding, located, result, unset
from harness.posture.facts import DsqlFacts, ProxyFacts, SecretFacts, TableFacts
from harness.posture.settings import PostureSettings, ProxySettings
from harness.results.check import CheckResult, Severity


def proxy_checks(facts: ProxyFacts, settings: PostureSettings) -> list[CheckResult]:
    """TLS always; IAM auth, timeouts and target where the plan declares them."""
    declared = settings.proxy or ProxySettings()
    results = [tls_check(facts)]
    if declared.require_iam_auth:
        results.append(iam_check(facts))
    if declared.borrow_timeout_s is not None or declared.idle_client_timeout_s is not None:
        results.append(timeouts_check(facts, declared))
    if declared.target:
        results.append(target_check(facts, declared.target))
    return results


def tls_check(facts: ProxyFacts) -> CheckResult:
    at = facts.located.at("require_tls")
    findings = []
    if facts.require_tls is None:
        findings.append(unset(facts.subject, "RequireTLS", facts.located, "require_tls"))
    elif not facts.require_tls:
        findings.append(
            finding(facts.subject, "TLS is not required", where=at, actual=False, wanted=True)
        )
    evidence = {"require_tls": facts.require_tls, **located(facts.located, "require_tls")}
    return result("proxy_tls", facts.subject, findings, evidence, "TLS required")


def iam_check(facts: ProxyFacts) -> CheckResult:
    at = facts.located.at("iam_auth")
    findings = (
        []
        if facts.iam_auth
        else [
            finding(
                facts.subject,
                "IAM authentication is not required"
                + (" (IAMAuth is not set: DISABLED)" if facts.iam_auth is None else ""),
                where=at,
                actual="DISABLED",
                wanted="REQUIRED",
            )
        ]
    )
    evidence = {"iam_auth": facts.iam_auth, **located(facts.located, "iam_auth")}
    return result(
        "proxy_iam_auth", facts.subject, findings, evidence, "IAM authentication required"
    )


def timeouts_check(facts: ProxyFacts, declared: ProxySettings) -> CheckResult:
    findings = []
    for label, got, wanted, prop in (
        ("connection-borrow", facts.borrow_timeout_s, declared.borrow_timeout_s, "borrow"),
        ("idle-client", facts.idle_client_timeout_s, declared.idle_client_timeout_s, "idle"),
    ):
        if wanted is None or got == wanted:
            continue
        findings.append(
            finding(
                facts.subject,
                f"{label} timeout is {'not set' if got is None else f'{got} s'}, not {wanted} s",
                where=facts.located.at(f"{prop}_timeout_s"),
                actual=got,
                wanted=wanted,
            )
        )
    evidence = {
        "borrow_timeout_s": facts.borrow_timeout_s,
        "idle_client_timeout_s": facts.idle_client_timeout_s,
        **located(facts.located, "borrow_timeout_s", "idle_timeout_s"),
    }
    return result("proxy_timeouts", facts.subject, findings, evidence, "timeouts as declared")


def target_check(facts: ProxyFacts, target: str) -> CheckResult:
    fronts = [names for names in facts.targets if target in names]
    others = [names[0] for names in facts.targets if target not in names and names]
    findings = []
    if not fronts:
        findings.append(
            finding(
                facts.subject,
                f"the proxy does not front {target}"
                + (f" (it fronts {', '.join(others)})" if others else " (no target found)"),
                where=facts.located.at("targets"),
                actual=", ".join(others) or "none",
                wanted=target,
            )
        )
    elif others:
        findings.append(
            finding(
                facts.subject,
                f"the proxy also fronts {', '.join(others)}",
                where=facts.located.at("targets"),
                severity=Severity.WARNING,
            )
        )
    evidence = {"targets": [list(n) for n in facts.targets], **located(facts.located, "targets")}
    return result("proxy_target", facts.subject, findings, evidence, f"fronts {target}")


def secret_check(facts: SecretFacts, settings: PostureSettings) -> CheckResult:
    """The secret exists; rotation off is a warning, or an error with require_rotation."""
    at = facts.located.at("rotation_enabled")
    findings = []
    if not facts.exists:
        findings.append(finding(facts.subject, "the credentials secret does not exist", where=at))
    elif not facts.rotation_enabled:
        severity = Severity.ERROR if settings.require_rotation else Severity.WARNING
        findings.append(
            finding(
                facts.subject,
                "rotation is not enabled",
                where=at,
                severity=severity,
                actual=False,
                wanted=True,
            )
        )
    evidence = {
        "exists": facts.exists,
        "rotation_enabled": facts.rotation_enabled,
        "rotation_days": facts.rotation_days,
        **located(facts.located, "rotation_enabled"),
    }
    rotation = (
        f"rotated every {facts.rotation_days} days"
        if facts.rotation_enabled and facts.rotation_days
        else ("rotated" if facts.rotation_enabled else "not rotated")
    )
    return result("credentials_secret", facts.subject, findings, evidence, f"exists, {rotation}")


def dsql_check(facts: DsqlFacts) -> CheckResult:
    at = facts.located.at("deletion_protection")
    findings = []
    if facts.status is not None and facts.status != "ACTIVE":
        findings.append(
            finding(
                facts.subject,
                f"cluster is {facts.status}, not ACTIVE",
                actual=facts.status,
                wanted="ACTIVE",
            )
        )
    if facts.deletion_protection is None:
        findings.append(
            unset(facts.subject, "DeletionProtectionEnabled", facts.located, "deletion_protection")
        )
    elif not facts.deletion_protection:
        findings.append(
            finding(
                facts.subject, "deletion protection is off", where=at, actual=False, wanted=True
            )
        )
    evidence = {
        "status": facts.status,
        "deletion_protection": facts.deletion_protection,
        **located(facts.located, "deletion_protection"),
    }
    state = facts.status or "defined (status known only once deployed)"
    return result(
        "dsql_cluster", facts.subject, findings, evidence, f"{state}, deletion protection on"
    )


def table_checks(facts: TableFacts, settings: PostureSettings) -> list[CheckResult]:
    results = []
    if settings.dynamodb_pitr:
        results.append(pitr_check(facts))
    if settings.dynamodb_billing:
        results.append(billing_check(facts, settings.dynamodb_billing))
    return results


def pitr_check(facts: TableFacts) -> CheckResult:
    at = facts.located.at("pitr")
    findings = (
        []
        if facts.pitr
        else [
            unset(facts.subject, "PointInTimeRecoveryEnabled", facts.located, "pitr")
            if facts.pitr is None
            else finding(
                facts.subject, "point-in-time recovery is off", where=at, actual=False, wanted=True
            )
        ]
    )
    evidence = {"pitr": facts.pitr, **located(facts.located, "pitr")}
    return result("dynamodb_pitr", facts.subject, findings, evidence, "point-in-time recovery on")


def billing_check(facts: TableFacts, declared: str) -> CheckResult:
    mode = facts.billing_mode or "PROVISIONED"
    findings = (
        []
        if mode == declared
        else [
            finding(
                facts.subject,
                f"billing mode is {mode}"
                + (" (BillingMode is not set)" if facts.billing_mode is None else "")
                + f", not {declared}",
                where=facts.located.at("billing_mode"),
                actual=mode,
                wanted=declared,
            )
        ]
    )
    evidence = {"billing_mode": mode, **located(facts.located, "billing_mode")}
    return result("dynamodb_billing", facts.subject, findings, evidence, mode)
