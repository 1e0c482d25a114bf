"""Exact row counts: one item per table pair, counted inside each database."""

from __future__ import annotations

from collections.abc import Callable

from harness.checks.counts import AREA, check_row_count
from harness.plan.scope import TablePair
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_row_count(
    table_pair: TablePair, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    record(
        cutover.run_check(
            AREA,
            table_pair.id,
            lambda: check_row_count(
                table_pair,
                source_db=cutover.database("source"),
                target_db=cutover.database("target"),
                expected=cutover.plan.expected_differences,
            ),
        )
    )
