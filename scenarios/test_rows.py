"""Row-level parity: one item per table pair, or per shard of a large one (``events#3/8``),
checksums computed inside the databases."""

from __future__ import annotations

from collections.abc import Callable

from harness.checks.rows import AREA, RowItem, check_rows
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_rows(
    row_item: RowItem, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    record(
        cutover.run_check(
            AREA,
            row_item.id,
            lambda: check_rows(
                row_item.pair,
                source_db=cutover.database("source"),
                target_db=cutover.database("target"),
                settings=cutover.plan.rows,
                expected=cutover.plan.expected_differences,
                shard=row_item.shard,
            ),
        )
    )
