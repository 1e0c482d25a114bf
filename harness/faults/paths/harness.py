"""The harness's own PostgreSQL path under faults: sessions of :mod:`harness.faults.db`
(retrying through :mod:`harness.endpoints.retry`) through a fault proxy to the bed's database
(:mod:`harness.faults.beds`: PostgreSQL, or a local DSQL where every connection signs a fresh
IAM token and conflicts fail at ``COMMIT``). Every runner reaches the database through the
bed, so each fault runs the same code on either kind."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from harness.endpoints.resolve import Connector, connect_postgres
from harness.endpoints.retry import Attempt
from harness.errors import EndpointError
from harness.faults.bed import FaultBed
from harness.faults.db import RetryLog, Session
from harness.faults.outcome import Fault, FaultOutcome, clear_error, heal_on, recovered
from harness.faults.proxy import FaultProxy
from harness.faults.workload import WorkloadSettings, run_workload, verify
from harness.latency.check import Item as LatencyItem
from harness.latency.check import check_budget
from harness.latency.settings import Budget, LatencySettings
from harness.latency.timing import Timing, time_runs
from harness.results.check import Status


def _connector(bed: FaultBed, proxy: FaultProxy, *, wrong: bool = False) -> Connector:
    """The bed's database as a plan endpoint, reached through ``proxy``, with the plan's
    retry policy: connect faults go through the harness's own connect code."""
    return bed.db.connector(proxy, asdict(bed.settings.retry.backoff()), wrong=wrong)


def _connect_once(connector: Connector, log: RetryLog, **hooks: Any) -> None:
    """Open a session the way every check does (:func:`harness.endpoints.connect_postgres`),
    run ``SELECT 1`` and close it; ``hooks[n]`` runs when attempt n is about to be retried."""

    def on_attempt(attempt: Attempt) -> None:
        log.record(attempt)
        action = hooks.get(f"after_{attempt.number}")
        if action is not None and attempt.outcome == "retry":
            action()

    with connect_postgres(connector, on_attempt=on_attempt) as conn:
        conn.execute("SELECT 1").fetchone()


def _h_refused(bed: FaultBed, spec: Fault) -> FaultOutcome:
    with bed.proxy() as proxy:
        proxy.disable()
        log = RetryLog()
        connector = _connector(bed, proxy)
        start = time.monotonic()
        return recovered(
            spec,
            "harness",
            log,
            start,
            lambda: _connect_once(connector, log, after_2=proxy.enable),  # up in the 2nd wait
            connector.backoff,
        )


def _connect_refused(bed: FaultBed, spec: Fault, *, wrong_password: bool) -> FaultOutcome:
    """A permanent connect fault through the harness's connect code: one clear line. A wrong
    credential is a wrong password, or on DSQL a token signed with keys the cluster does not
    know: refused at once, never retried."""
    with bed.proxy() as proxy:
        if not wrong_password:
            proxy.disable()
        connector = _connector(bed, proxy, wrong=wrong_password)
        log = RetryLog()
        start = time.monotonic()
        error: EndpointError | None = None
        try:
            _connect_once(connector, log)
        except EndpointError as exc:
            error = exc
    given = str(conninfo_to_dict(connector.address).get("password") or "")
    outcome = clear_error(
        spec,
        "harness",
        start,
        error,
        str(error or ""),
        (*bed.secrets, given),
        attempts=len(log.attempts),
        bound_s=bed.settings.fail_within_s,
        delays=tuple(log.delays),
    )
    if wrong_password and len(log.attempts) != 1:
        return replace(outcome, passed=False, summary="a wrong credential was retried")
    if wrong_password and outcome.error_class != "auth":
        return replace(
            outcome, passed=False, summary=f"not named as an auth error: {outcome.summary}"
        )
    return outcome


def _h_down(bed: FaultBed, spec: Fault) -> FaultOutcome:
    return _connect_refused(bed, spec, wrong_password=False)


def _h_wrong_password(bed: FaultBed, spec: Fault) -> FaultOutcome:
    return _connect_refused(bed, spec, wrong_password=True)


def _h_toxic_then_heal(toxic: str, **attributes: Any) -> Callable[[FaultBed, Fault], FaultOutcome]:
    def run(bed: FaultBed, spec: Fault) -> FaultOutcome:
        with bed.proxy() as proxy:
            log = RetryLog(sleep=heal_on(1, proxy.clear))
            with bed.session(proxy, log) as session:
                session.open()
                log.attempts.clear()
                proxy.add_toxic(toxic, **attributes)
                start = time.monotonic()
                return recovered(
                    spec, "harness", log, start, lambda: session.query("SELECT 1"), session.policy
                )

    return run


def _timed(session: Session, samples: int) -> Timing:
    """``SELECT 1`` round trips through the proxy, timed by the latency module's own loop."""
    return time_runs(
        lambda _params: session.query("SELECT 1"),
        [{}],
        warmup=1,
        runs=samples,
        max_seconds=60.0,
    )


def _h_slow_network(bed: FaultBed, spec: Fault) -> FaultOutcome:
    """Latency injected on every answer must fail the latency check's p95 budget.

    The budget is judged by :func:`harness.latency.check.check_budget` itself, the check a
    plan's ``latency:`` section runs: the round trips before the fault stand for the source,
    those under it for the target.
    """
    settings = bed.settings
    with bed.proxy() as proxy, bed.session(proxy, RetryLog()) as session:
        session.open()
        start = time.monotonic()
        baseline = _timed(session, settings.samples)
        proxy.add_toxic(
            "latency",
            stream="downstream",
            latency=settings.injected_latency_ms,
            jitter=settings.injected_latency_ms / 10,
        )
        faulted = _timed(session, settings.samples)
    budget = settings.latency_budget_ms
    verdict = check_budget(
        LatencyItem("slow_network-p95", "p95", "SELECT 1"),
        {"source": baseline, "target": faulted},
        Budget(p95_ms=budget),
        LatencySettings(warmup=1, runs=settings.samples),
    )
    before, after = baseline.stats()["p95"], faulted.stats()["p95"]
    detected = verdict.status is Status.FAIL
    detail = {
        "baseline_p95_ms": before,
        "faulted_p95_ms": after,
        "budget_ms": budget,
        "injected_ms": settings.injected_latency_ms,
        "samples": settings.samples,
        "baseline_within_budget": before is not None and before <= budget,
        "latency_check": verdict.summary,
    }
    summary = (
        f"caught by the latency check: {verdict.summary} (before the fault: p95 {before} ms)"
        if detected
        else f"missed: the latency check says {verdict.summary}"
    )
    return FaultOutcome(
        spec.name,
        "harness",
        spec.expect,
        "detected" if detected else "missed",
        detected,
        summary,
        time.monotonic() - start,
        detail=detail,
    )


def _h_server_restart(bed: FaultBed, spec: Fault) -> FaultOutcome:
    with bed.proxy() as proxy:
        log = RetryLog()
        with bed.session(proxy, log) as session:
            session.query("SELECT 1")
            log.attempts.clear()
            start = time.monotonic()
            bed.db.restart()
            return recovered(
                spec,
                "harness",
                log,
                start,
                lambda: session.query("SELECT pg_postmaster_start_time()"),
                session.policy,
            )


def _h_conflict(bed: FaultBed, spec: Fault) -> FaultOutcome:
    """Two genuine write-write conflicts, then success; the whole transaction is retried.

    On PostgreSQL the loser's UPDATE fails (40001); on DSQL the UPDATE goes through and the
    loser's COMMIT fails (40001 OC000), so a body that ran to its end is no proof of a write.
    """
    db = bed.db
    rival = db.direct()
    counters = sql.Identifier("counters")
    finished: list[int] = []

    def body(conn: psycopg.Connection[Any], attempt: int) -> None:
        if attempt <= 2:
            db.provoke_conflict(conn, rival, counters, 1)
        conn.execute("UPDATE counters SET hits = hits + 1 WHERE id = 1")
        finished.append(attempt)

    with bed.proxy() as proxy:
        log = RetryLog()
        start = time.monotonic()
        with bed.session(proxy, log) as session:
            outcome = recovered(
                spec, "harness", log, start, lambda: session.transaction(body), session.policy
            )
    lost = [a.number for a in log.attempts if a.error_class == "conflict"]
    where = _surfaced_at(lost, finished)
    passed = outcome.passed and len(lost) == 2 and where == db.conflict_at
    summary = outcome.summary
    if outcome.passed and where != db.conflict_at:
        summary = f"conflicts surfaced at the {where}, not at the {db.conflict_at} as on {db.kind}"
    return replace(
        outcome,
        passed=passed,
        summary=summary,
        detail={**outcome.detail, "sqlstate_40001": len(lost), "failed_at": where},
    )


def _surfaced_at(lost: list[int], finished: list[int]) -> str:
    """Where the conflicts of attempts ``lost`` surfaced: a conflict raised after its body
    ran to the end was raised by the ``COMMIT``."""
    at_commit = sum(n in finished for n in lost)
    if not lost:
        return "nowhere"
    if at_commit == len(lost):
        return "commit"
    return "statement" if at_commit == 0 else "mixed"


def _h_no_lost_writes(bed: FaultBed, spec: Fault) -> FaultOutcome:
    settings = WorkloadSettings(writes=bed.settings.writes, seed=bed.settings.seed)
    with bed.proxy() as proxy:
        start = time.monotonic()
        writes, logs = run_workload(bed.db.connect(proxy), settings=settings, proxy=proxy)
        resets = proxy.stats.resets
    figures = verify(
        bed.db.audit_conninfo(),
        writes,
        logs,
        resets_injected=resets,
        seconds=time.monotonic() - start,
    )
    passed = (
        figures.lost == 0
        and figures.duplicated == 0
        and figures.inconsistent_rows == 0
        and figures.acknowledged > 0
    )
    summary = (
        f"{figures.acknowledged} of {figures.attempted} writes acknowledged under "
        f"{figures.resets_injected} resets and {figures.conflicts} conflicts; lost "
        f"{figures.lost}, duplicated {figures.duplicated}, {figures.retried} retries, "
        f"{figures.ambiguous_commits} ambiguous commits caught"
    )
    return FaultOutcome(
        spec.name,
        "harness",
        spec.expect,
        "exact_once" if passed else "lost_writes",
        passed,
        summary,
        figures.seconds,
        attempts=figures.retried + figures.attempted,
        detail=figures.to_dict(),
    )


def _not_here(bed: FaultBed, spec: Fault) -> FaultOutcome:
    return FaultOutcome(
        spec.name,
        "harness",
        spec.expect,
        "not_exercised",
        False,
        f"{spec.name} runs from a scenario with a plan (it needs table pairs)",
        0.0,
    )


RUNNERS: dict[str, Callable[[FaultBed, Fault], FaultOutcome]] = {
    "refused": _h_refused,
    "down": _h_down,
    "reset_mid_query": _h_toxic_then_heal("reset_peer", stream="downstream", timeout=0),
    "black_hole": _h_toxic_then_heal("timeout", stream="downstream", timeout=300),
    "slow_network": _h_slow_network,
    "server_restart": _h_server_restart,
    "conflict": _h_conflict,
    "wrong_password": _h_wrong_password,
    "reset_during_rows": _not_here,
    "no_lost_writes": _h_no_lost_writes,
}
