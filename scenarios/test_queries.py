"""Query-result parity: one item per query of the plan's ``queries:`` section.

Each query runs on both sides with every parameter set; the answers are compared with the
row-level check's value canon, the first differing rows shown side by side.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.errors import HarnessError
from harness.plugin import CutoverRun, not_applicable, planned_run, usage_error
from harness.queries.check import AREA, check_query
from harness.queries.session import query_session, validate
from harness.results.check import CheckResult


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One ``query_name`` per query, id'd by its name (``queries[orders_by_customer]``)."""
    if "query_name" not in metafunc.fixturenames:
        return
    run = planned_run(metafunc, "query_name")
    if run is None:
        return
    if run.plan.queries is None:
        not_applicable(metafunc, "query_name")
        return
    try:
        validate(run)  # a bad parameter strategy stops the run here, not per item
    except HarnessError as exc:
        raise usage_error(metafunc.config, str(exc)) from None
    names = sorted(query_session(run).specs)
    metafunc.parametrize("query_name", names, ids=names)


def test_queries(
    query_name: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    session = query_session(cutover)
    record(
        cutover.run_check(
            AREA,
            query_name,
            lambda: check_query(
                session.specs[query_name],
                session.params(query_name),
                source_db=cutover.database("source"),
                target_db=cutover.database("target"),
                settings=session.settings,
                expected=cutover.plan.expected_differences,
            ),
        )
    )
