"""Schema parity: one item per table pair, one for the views."""

from __future__ import annotations

from collections.abc import Callable

from harness.capabilities import NoSource
from harness.checks.rows import row_options
from harness.checks.schema import AREA, check_table
from harness.checks.views import check_views
from harness.plan.scope import TablePair
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_table_schema(
    table_pair: TablePair, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    source, target = cutover.database("source"), cutover.database("target")

    def compute() -> CheckResult:
        return check_table(
            table_pair,
            source.catalog().table(table_pair.source) if table_pair.source else None,
            target.catalog().table(table_pair.target) if table_pair.target else None,
            renamer=cutover.scope().renamer,
            source_db=source,
            target_dialect=target.dialect,
            expected=cutover.plan.expected_differences,
            options=row_options(cutover.plan.rows, table_pair.source or "").columns,
        )

    record(cutover.run_check(AREA, table_pair.id, compute))


def test_views(cutover: CutoverRun, record: Callable[[CheckResult], None]) -> None:
    if cutover.plan.source is None:
        record(NoSource(AREA, "views").result())
        return
    source, target = cutover.database("source"), cutover.database("target")
    record(
        cutover.run_check(
            AREA,
            "views",
            lambda: check_views(
                source.catalog(),
                target.catalog(),
                cutover.scope(),
                cutover.plan.expected_differences,
            ),
        )
    )
