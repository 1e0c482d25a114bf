"""Query-result parity: one item per query of the plan's ``queries:`` section.

Each query runs on both sides with every parameter set; the answers are compared with the
row-level check's value canon, the first differing rows shown side by side.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.capabilities import query_session
from harness.plugin import CutoverRun
from harness.queries.check import AREA, check_query
from harness.results.check import CheckResult


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
                problem=session.problem(query_name),
            ),
        )
    )
