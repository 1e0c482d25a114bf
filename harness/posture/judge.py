"""Every posture rule applied to what one gatherer found, and each promise held to a subject.

A plan's ``posture:`` declarations are promises: an engine version, a proxy, a capacity range,
a table by name. A declaration that no subject answers (``proxy:`` and no proxy anywhere) is a
``no_subject:<key>`` finding — otherwise a tree that lost its proxy would pass every proxy
check by having none to fail.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.posture import services
from harness.posture.checks import database_checks, finding, result
from harness.posture.facts import Facts
from harness.posture.settings import PostureSettings
from harness.results.check import CheckResult


def judge(
    facts: Facts, settings: PostureSettings, *, searched: str, failed: Iterable[str] = ()
) -> list[CheckResult]:
    """Results for every subject in ``facts``, then one per declaration nothing answered.

    ``searched`` says where subjects were looked for (for the message); ``failed`` names the
    kinds whose lookup already ended in an error result, which is finding enough.
    """
    results: list[CheckResult] = []
    for database in (*facts.clusters, *facts.instances):
        results.extend(database_checks(database, settings))
    for proxy in facts.proxies:
        results.extend(services.proxy_checks(proxy, settings))
    results.extend(services.secret_check(s, settings) for s in facts.secrets)
    results.extend(services.dsql_check(d) for d in facts.dsql)
    for table in facts.tables:
        results.extend(services.table_checks(table, settings))
    results.extend(unanswered(facts, settings, searched=searched, failed=set(failed)))
    return results


def unanswered(
    facts: Facts, settings: PostureSettings, *, searched: str, failed: set[str]
) -> list[CheckResult]:
    """``no_subject:<key>`` for each declaration that found nothing to hold to it."""
    missing: list[tuple[str, str]] = []
    databases = facts.clusters or facts.instances
    if "database" not in failed and settings.declares_database and not databases:
        declared = [
            key
            for key in (
                "rds_cluster",
                "rds_instances",
                "engine",
                "engine_version",
                "instance_class",
                "require_kms_key",
            )
            if getattr(settings, key)
        ]
        if declared:
            missing.append((declared[0], f"declares {', '.join(declared)} but no RDS database"))
    if "database" not in failed and not facts.clusters:
        for key in ("serverless_v2", "reader"):
            if getattr(settings, key):
                missing.append((key, f"declares {key} but no Aurora cluster"))
    if "database" not in failed and settings.rds_instances and not facts.instances and databases:
        missing.append(("rds_instances", "names standalone instances but none"))
    if "proxy" not in failed and settings.proxy is not None and not facts.proxies:
        missing.append(("proxy", "declares proxy but no RDS Proxy"))
    declares_secret = settings.secret or settings.require_rotation
    if "secret" not in failed and declares_secret and not facts.secrets:
        key = "secret" if settings.secret else "require_rotation"
        missing.append((key, f"declares {key} but no credentials secret"))
    if "dsql" not in failed and settings.dsql_cluster and not facts.dsql:
        missing.append(("dsql_cluster", "names a DSQL cluster but none"))
    if "tables" not in failed:
        names = {n for t in facts.tables for n in t.names}
        for table in settings.dynamodb_tables:
            if table not in names:
                missing.append(
                    (f"dynamodb_tables.{table}", f"names table {table!r} but no such table")
                )
        if settings.dynamodb_billing and not facts.tables:
            missing.append(("dynamodb_billing", "declares dynamodb_billing but no DynamoDB table"))
    return [
        result(
            "no_subject",
            key,
            [finding(f"posture.{key}", f"the plan {what} was found in {searched}")],
            {"declared": key, "searched": searched},
            "",
        )
        for key, what in missing
    ]
