"""A connection reset in the middle of a row-level comparison must not change its verdict.

The comparison is the lead's own (:func:`harness.checks.rows.check_rows`); here it runs
twice on one table pair: once as usual, once with the target reached through a fault proxy
that answers one of the comparison's queries with a TCP reset. The second verdict must be the
first one — or a clear error; a false match never.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from harness.checks.rows import check_rows
from harness.db.database import Database
from harness.endpoints.resolve import Connector, open_database
from harness.faults.outcome import AREA, FAULTS_BY_NAME, FaultOutcome
from harness.faults.proxy import FaultProxy
from harness.plan.model import Plan
from harness.plan.scope import Scope, TablePair
from harness.results.check import CheckResult, Status

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
            source_db=source_db,
            target_db=db,
            settings=plan.rows,
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
    """``dsn`` reached at host:port. A DSN that names its server and routes to it with
    ``hostaddr`` (DSQL: TLS verified against the endpoint name, a token signed for it) keeps
    its name and is routed to the proxy instead."""
    params = conninfo_to_dict(dsn)
    params.update({"hostaddr" if params.get("hostaddr") else "host": host, "port": str(port)})
    return make_conninfo("", **params)


def rows_under_reset(
    baseline: CheckResult,
    upstream: tuple[str, int] | str,
    compare: Callable[[str, int, Callable[[], None]], CheckResult],
    *,
    seed: int = 0,
) -> FaultOutcome:
    """Compare again through a proxy that resets the target's connection mid-comparison;
    the verdict must equal ``baseline``'s (a clear error is acceptable, a different pass or
    fail never is).

    ``compare(host, port, arm)`` opens the target at host:port, calls ``arm()`` once its
    session is up, then runs the row check: the next answer the target sends is an RST.
    """
    spec = FAULTS_BY_NAME["reset_during_rows"]
    with FaultProxy(upstream, seed=seed) as proxy:

        def arm() -> None:
            proxy.add_toxic("reset_peer", stream="downstream", timeout=0, limit=1)

        start = time.monotonic()
        faulted = compare(proxy.host, proxy.port, arm)
        injected = proxy.stats.resets
    same = (faulted.status, faulted.summary) == (baseline.status, baseline.summary)
    errored_clearly = faulted.status is Status.ERROR
    passed = injected > 0 and (same or errored_clearly)
    ended = "same_verdict" if same else "error" if errored_clearly else "changed"
    summary = (
        f"verdict unchanged ({faulted.status.value}) through {injected} connection reset(s)"
        if same
        else f"ended in a clear error through {injected} reset(s): {faulted.summary}"
        if errored_clearly
        else f"verdict changed from {baseline.status.value} to {faulted.status.value}"
    )
    if injected == 0:
        summary = "no reset reached the comparison; nothing was proven"
    return FaultOutcome(
        spec.name,
        "harness",
        spec.expect,
        ended,
        passed,
        summary,
        time.monotonic() - start,
        attempts=injected + 1,
        detail={
            "baseline": baseline.status.value,
            "faulted": faulted.status.value,
            "resets": injected,
        },
    )
