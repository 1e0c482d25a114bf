"""Latency budgets as checks: one result per budget, the timed distribution as evidence.

Items (their ids are ``latency[<name>]``):

- ``<query>-p95``: the target's p95 is at most ``p95_ms``;
- ``<query>-ratio``: the target's p95 is at most ``max_ratio`` x the source's p95, each
  side's figure raised to ``ratio_floor_ms`` first (sub-millisecond noise is not a regression);
- ``connect``: of ``connect.runs`` fresh target sessions, at least ``min_success_rate`` open
  (within ``max_ms``), and the connect-time p50/p95/p99 stay within their budgets;
- ``health``: ``SELECT 1`` on the target, ``runs`` in a row, at least ``min_successes``
  answered within ``timeout_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.checks import waivers
from harness.db.database import Database
from harness.latency.health import Connection, Probe
from harness.latency.settings import Budget, ConnectBudget, HealthCheck, LatencySettings
from harness.latency.timing import Timing, executor, summary, time_pair
from harness.plan.model import ExpectedDifference
from harness.queries.answers import QueryFailed, statement_timeout
from harness.queries.corpus import QuerySpec
from harness.results.check import CheckResult, Finding, FindingKind, Severity, Status, conclude

AREA = "latency"
KINDS = ("p95", "ratio")


@dataclass(frozen=True)
class Item:
    """One latency check to run: a query's budget, or the target's connect or health check."""

    name: str
    """The result's name, e.g. ``orders_by_customer-p95`` or ``health``."""
    kind: str
    """``p95``, ``ratio``, ``connect`` or ``health``."""
    query: str | None = None


def items(query_names: list[str], settings: LatencySettings) -> list[Item]:
    """Every latency check the plan asks for, in a stable order."""
    out = []
    for name in sorted(query_names):
        budget = settings.budget(name)
        if budget.p95_ms is not None:
            out.append(Item(f"{name}-p95", "p95", name))
        if budget.max_ratio is not None:
            out.append(Item(f"{name}-ratio", "ratio", name))
    if settings.connect is not None:
        out.append(Item("connect", "connect"))
    if settings.health is not None:
        out.append(Item("health", "health"))
    return out


def measure(
    spec: QuerySpec,
    param_sets: list[dict[str, Any]],
    *,
    source_db: Database,
    target_db: Database,
    settings: LatencySettings,
) -> dict[str, Timing] | str:
    """Both sides' timings for one query, or why it could not be timed."""
    for role, side in (("source", spec.source), ("target", spec.target)):
        if side.text is None:
            return f"cannot time {spec.name}: no SQL for the {role} ({side.problem})"
    sides = {
        "source": executor(source_db, spec.source.text or ""),
        "target": executor(target_db, spec.target.text or ""),
    }
    try:
        # A single run longer than the whole time allowance is cancelled by the server
        # (outside the clock: the setting is made once, before the loop).
        with (
            statement_timeout(source_db, settings.max_seconds),
            statement_timeout(target_db, settings.max_seconds),
        ):
            return time_pair(
                sides,
                param_sets,
                warmup=settings.warmup,
                runs=settings.runs,
                max_seconds=settings.max_seconds,
            )
    except QueryFailed as exc:
        return f"cannot time {spec.name}: the query fails ({exc.text()}); see queries[{spec.name}]"


def check_budget(
    item: Item,
    timings: dict[str, Timing] | str,
    budget: Budget,
    settings: LatencySettings,
    expected: tuple[ExpectedDifference, ...] = (),
) -> CheckResult:
    """The ``p95`` or ``ratio`` item of one query (an expected difference naming the query
    excuses a missed budget)."""
    if isinstance(timings, str):
        return CheckResult(AREA, item.name, Status.ERROR, timings)
    source, target = timings["source"].stats(), timings["target"].stats()
    evidence: dict[str, Any] = {
        "query": item.query,
        "budget": item.kind,
        "source_ms": source,
        "target_ms": target,
        "runs": {"warmup": settings.warmup, "timed": settings.runs},
    }
    stopped = [r for r, t in timings.items() if t.stopped_early]
    if stopped:
        evidence["stopped_early"] = stopped
    target_p95 = float(target["p95"] or 0.0)
    findings: list[Finding] = []
    if item.kind == "p95":
        limit = float(budget.p95_ms or 0.0)
        evidence["p95_ms_budget"] = limit
        ok = f"target p95 {target_p95:.2f} ms within {limit:g} ms"
        if target_p95 > limit:
            findings.append(
                _finding(
                    item,
                    f"target p95 {target_p95:.2f} ms exceeds the {limit:g} ms budget",
                    f"{source['p95']} ms",
                    f"{target_p95} ms",
                )
            )
    else:
        floor = (
            budget.ratio_floor_ms if budget.ratio_floor_ms is not None else settings.ratio_floor_ms
        )
        limit = float(budget.max_ratio or 0.0)
        source_p95 = float(source["p95"] or 0.0)
        ratio = max(target_p95, floor) / max(source_p95, floor, 1e-9)
        evidence.update(max_ratio=limit, ratio_floor_ms=floor, ratio=round(ratio, 3))
        evidence["p95_ms_budget"] = round(max(source_p95, floor) * limit, 3)
        ok = f"target p95 {ratio:.2f}x the source's (budget {limit:g}x)"
        if ratio > limit:
            findings.append(
                _finding(
                    item,
                    f"target p95 {target_p95:.2f} ms is {ratio:.1f}x the source's "
                    f"{source_p95:.2f} ms (budget {limit:g}x, floor {floor:g} ms)",
                    f"{source_p95} ms",
                    f"{target_p95} ms",
                )
            )
    evidence["samples_ms"] = {r: [round(s, 3) for s in t.samples_ms] for r, t in timings.items()}
    if item.query is not None:
        findings = waivers.apply_to_query(findings, expected, item.query)
    return conclude(AREA, item.name, findings, evidence, ok=ok)


def check_connect(done: list[Connection], budget: ConnectBudget) -> CheckResult:
    """The success rate of ``budget.runs`` fresh sessions, and their connect-time percentiles
    (of the sessions that opened) against the budgets the plan sets."""
    name = "connect"
    opened = [c.ms for c in done if c.ok]
    failed = [c for c in done if not c.ok]
    stats = summary(opened)
    evidence: dict[str, Any] = {
        "runs": budget.runs,
        "measured": len(done),
        "successes": len(opened),
        "success_rate": round(len(opened) / len(done), 4) if done else 0.0,
        "min_success_rate": budget.min_success_rate,
        "max_ms": budget.max_ms,
        "connect_ms": stats,
        "budgets_ms": {
            q: v
            for q, v in (("p50", budget.p50_ms), ("p95", budget.p95_ms), ("p99", budget.p99_ms))
            if v is not None
        },
        "retried": sum(c.attempts > 1 for c in done),
        "strip": "".join("1" if c.ok else "0" for c in done),
        "samples_ms": [c.ms for c in done],
    }
    errors = sorted({c.error for c in failed if c.error})
    if errors:
        evidence["errors"] = errors[:5]
    findings = []
    needed = budget.runs - budget.allowed_failures
    if len(opened) < needed:
        stopped = (
            f" (stopped after {len(done)}: the rate was decided)" if len(done) < budget.runs else ""
        )
        findings.append(
            _finding(
                Item(name, "connect"),
                f"{len(failed)} of {len(done)} connections failed{stopped}; the plan allows "
                f"{budget.allowed_failures} of {budget.runs} (min_success_rate "
                f"{budget.min_success_rate:g})" + (f"; first error: {errors[0]}" if errors else ""),
                target=f"{len(opened)}/{len(done)}",
            )
        )
    for quantile, limit in evidence["budgets_ms"].items():
        value = stats[quantile]
        if value is not None and value > limit:
            findings.append(
                _finding(
                    Item(name, "connect"),
                    f"connect-time {quantile} {value:.1f} ms exceeds the {limit:g} ms budget",
                    target=f"{value} ms",
                )
            )
    shown = ", ".join(
        f"{q} {stats[q]:.1f} ms" for q in ("p50", "p95", "p99") if stats[q] is not None
    )
    return conclude(
        AREA,
        name,
        findings,
        evidence,
        ok=f"{len(opened)} of {len(done)} sessions opened ({shown}; budgets: "
        + ", ".join(f"{q} {v:g} ms" for q, v in evidence["budgets_ms"].items())
        + (", " if evidence["budgets_ms"] else "")
        + f"rate ≥ {budget.min_success_rate:g})",
    )


def check_health(probes: list[Probe], settings: HealthCheck) -> CheckResult:
    """At least ``min_successes`` of ``runs`` probes answered within the timeout."""
    name = "health"
    successes = sum(p.ok for p in probes)
    errors = sorted({p.error for p in probes if p.error})
    evidence: dict[str, Any] = {
        "runs": len(probes),
        "successes": successes,
        "min_successes": settings.min_successes,
        "timeout_ms": settings.timeout_ms,
        "probe_ms": summary([p.ms for p in probes if p.ok]),
        "strip": "".join("1" if p.ok else "0" for p in probes),
    }
    if errors:
        evidence["errors"] = errors[:5]
    findings = []
    if successes < settings.min_successes:
        findings.append(
            _finding(
                Item(name, "health"),
                f"{successes} of {len(probes)} SELECT 1 probes answered within "
                f"{settings.timeout_ms:g} ms (need {settings.min_successes})"
                + (f"; first error: {errors[0]}" if errors else ""),
                target=str(successes),
            )
        )
    return conclude(
        AREA,
        name,
        findings,
        evidence,
        ok=f"{successes} of {len(probes)} SELECT 1 probes answered within "
        f"{settings.timeout_ms:g} ms",
    )


def _finding(
    item: Item, message: str, source: str | None = None, target: str | None = None
) -> Finding:
    return Finding(
        FindingKind.LATENCY,
        Severity.ERROR,
        item.query or item.name,
        message,
        source=source,
        target=target,
    )
