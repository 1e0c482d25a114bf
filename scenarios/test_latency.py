"""Latency budgets: one item per budget (``latency[orders_by_customer-p95]``, ``-ratio``),
plus the target's connect time (``latency[connect]``) and ``SELECT 1`` health check
(``latency[health]``). Every item keeps the timed distribution as its evidence; all of them
run on one xdist worker.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.errors import HarnessError
from harness.latency.check import AREA, Item, check_budget, check_connect, check_health, items
from harness.latency.health import connect_times, health_probes
from harness.plugin import CutoverRun, not_applicable, planned_run, usage_error
from harness.queries.session import query_session, validate
from harness.results.check import CheckResult


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "latency_item" not in metafunc.fixturenames:
        return
    run = planned_run(metafunc, "latency_item")
    if run is None:
        return
    if run.plan.latency is None:
        not_applicable(metafunc, "latency_item")
        return
    try:
        validate(run)
    except HarnessError as exc:
        raise usage_error(metafunc.config, str(exc)) from None
    found = items(sorted(query_session(run).specs), run.plan.latency)
    # One xdist worker times them all, one after another (``cutover verify`` distributes by
    # group): timings on two workers at once would inflate each other, and a query's p95
    # and ratio items share one timing instead of each worker timing it again.
    together = pytest.mark.xdist_group("latency")
    metafunc.parametrize(
        "latency_item", [pytest.param(i, id=i.name, marks=together) for i in found]
    )


def test_latency(
    latency_item: Item, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    record(cutover.run_check(AREA, latency_item.name, lambda: _check(latency_item, cutover)))


def _check(item: Item, cutover: CutoverRun) -> CheckResult:
    session = query_session(cutover)
    settings = session.latency
    target = cutover.connectors["target"]
    if item.kind == "connect":
        assert settings.connect_ms is not None  # no item otherwise
        times, error = connect_times(target, settings.connect_runs)
        return check_connect(times, error, settings.connect_ms)
    if item.kind == "health":
        assert settings.health is not None  # no item otherwise
        health = settings.health
        return check_health(health_probes(target, health.runs, health.timeout_ms), health)
    assert item.query is not None
    return check_budget(
        item,
        session.timings(item.query),
        settings.budget(item.query),
        settings,
        cutover.plan.expected_differences,
    )
