"""Row-level parity: one item per table pair, checksums computed inside the databases."""

from __future__ import annotations

from collections.abc import Callable

from harness.checks.rows import AREA, check_rows
from harness.plan.scope import TablePair
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_rows(
    table_pair: TablePair, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    record(
        cutover.run_check(
            AREA,
            table_pair.id,
            lambda: check_rows(
                table_pair,
                source_db=cutover.database("source"),
                target_db=cutover.database("target"),
                settings=cutover.plan.rows,
                expected=cutover.plan.expected_differences,
            ),
        )
    )
