"""A connection reset in the middle of a row-level comparison must not change its verdict.

The comparison is the lead's own (:func:`harness.checks.rows.check_rows`); here it runs
twice on one table pair: once as usual, once with the target reached through a fault proxy
that answers one of the comparison's queries with a TCP reset. The second verdict must be the
first one — or a clear error; a false match never.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from harness.checks.result import CheckResult, Status
from harness.checks.rows import check_rows
from harness.database import Database
from harness.endpoints import Connector, open_database
from harness.faults.suite import AREA, FaultOutcome, rows_under_reset
from harness.plan import Plan
from harness.scope import Scope, TablePair

NAME = "harness:reset_during_rows"


def upstream_of(dsn: str) -> tuple[str, int] | str:
    """Where a PostgreSQL DSN points: (host, port) on TCP, or the unix socket file."""
    params = conninfo_to_dict(dsn)
    host = str(params.get("host") or "/tmp")
    port = int(params.get("port") or 5432)
    if host.startswith("/"):
        return f"{host}/.s.PGSQL.{port}"
    return str(params.get("hostaddr") or host), port


def pick_pair(scope: Scope) -> TablePair | None:
    """The first table present on both sides (the comparison needs rows on each)."""
    return next((p for p in scope.pairs if p.source is not None and p.target is not None), None)


def check_reset_during_rows(
    *,
    plan: Plan,
    scope: Scope,
    source_db: Database,
    target_db: Database,
    target: Connector,
) -> CheckResult:
    """Run the row check plainly and through a resetting proxy; compare the verdicts."""
    pair = pick_pair(scope)
    if pair is None:
        return CheckResult(AREA, NAME, Status.SKIP, "no table is on both sides to compare")
    if target.dialect != "postgres":
        return CheckResult(AREA, NAME, Status.SKIP, "the target is not PostgreSQL")

    def rows(db: Database) -> CheckResult:
        return check_rows(
            pair,
            scope=scope,
            source_db=source_db,
            target_db=db,
            settings=plan.rows,
            keys=dict(plan.tables.keys),
            expected=plan.expected_differences,
        )

    baseline = rows(target_db)

    def compare(host: str, port: int, arm: Callable[[], None]) -> CheckResult:
        proxied = replace(target, address=_through(target.address, host, port))
        db = open_database(proxied)
        try:
            db.catalog()  # read before the fault, so the reset lands in the comparison itself
            arm()
            return rows(db)
        except Exception as exc:  # a crash under a fault is an error result, never a pass
            return CheckResult(AREA, NAME, Status.ERROR, f"{type(exc).__name__}: {exc}")
        finally:
            with contextlib.suppress(Exception):
                db.close()

    outcome: FaultOutcome = rows_under_reset(baseline, upstream_of(target.address), compare)
    result = outcome.result()
    evidence: dict[str, Any] = {**result.evidence, "table": pair.id}
    return replace(result, evidence=evidence)


def _through(dsn: str, host: str, port: int) -> str:
    params = conninfo_to_dict(dsn)
    params.pop("hostaddr", None)
    params.update(host=host, port=str(port))
    return make_conninfo("", **params)
