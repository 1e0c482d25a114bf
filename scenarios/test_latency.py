"""Latency budgets: one item per budget (``latency[orders_by_customer-p95]``, ``-ratio``),
plus the target's connection reliability (``latency[connect]``) and ``SELECT 1`` health check
(``latency[health]``). Every item keeps the timed distribution as its evidence. A query is
timed once for the whole run and both its items judge that timing, and no two timings overlap,
on whichever xdist workers the items run (:mod:`harness.latency.store`).
"""

from __future__ import annotations

from collections.abc import Callable

from harness.capabilities import query_session
from harness.latency.check import AREA, Item, check_budget, check_connect, check_health
from harness.latency.health import connections, health_probes
from harness.latency.store import TimingStore
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_latency(
    latency_item: Item, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    record(cutover.run_check(AREA, latency_item.name, lambda: _check(latency_item, cutover)))


def _check(item: Item, cutover: CutoverRun) -> CheckResult:
    settings = cutover.plan.latency
    assert settings is not None  # the section switches these items on
    target = cutover.connectors["target"]
    # connect and health need no queries (nor a source): the run's timing lock only
    store = cutover.memo("latency.store", lambda: TimingStore.for_run(cutover.config))
    if item.kind == "connect":
        budget = settings.connect
        assert budget is not None  # no item otherwise
        with store.exclusive():
            done = connections(
                target,
                budget.runs,
                max_ms=budget.max_ms,
                allowed_failures=budget.allowed_failures,
            )
        return check_connect(done, budget)
    if item.kind == "health":
        assert settings.health is not None  # no item otherwise
        health = settings.health
        with store.exclusive():
            probes = health_probes(target, health.runs, health.timeout_ms)
        return check_health(probes, health)
    assert item.query is not None
    session = query_session(cutover)
    return check_budget(
        item,
        session.timings(item.query),
        settings.budget(item.query),
        settings,
        cutover.plan.expected_differences,
    )
