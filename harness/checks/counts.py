"""Exact row counts, counted inside each database."""

from __future__ import annotations

from harness.checks import waivers
from harness.db.database import Database
from harness.plan.model import ExpectedDifference
from harness.plan.scope import TablePair
from harness.results.check import CheckResult, Finding, FindingKind, Severity, Status, conclude

AREA = "row_count"
"""The area of the row count checks (the registry reads it: harness.capabilities)."""


def check_row_count(
    pair: TablePair,
    *,
    source_db: Database,
    target_db: Database,
    expected: tuple[ExpectedDifference, ...] = (),
) -> CheckResult:
    """Source and target hold the same number of rows in the paired tables."""
    if pair.source is None:
        assert pair.target is not None
        rows = target_db.count_rows(pair.target)
        return CheckResult(
            AREA,
            pair.id,
            Status.SKIP,
            f"only on the target ({rows} rows); nothing to compare",
            evidence={"target": rows},
        )
    source_rows = source_db.count_rows(pair.source)
    if pair.target is None:
        finding = Finding(
            FindingKind.MISSING_TABLE,
            Severity.ERROR,
            pair.id,
            f"table {pair.id} is missing on the target ({source_rows} source rows)",
            source=str(source_rows),
        )
        found = waivers.apply([finding], expected, pair)
        return conclude(AREA, pair.id, found, {"source": source_rows, "target": None}, ok="")
    target_rows = target_db.count_rows(pair.target)
    evidence = {
        "source": source_rows,
        "target": target_rows,
        "difference": target_rows - source_rows,
    }
    findings = []
    if source_rows != target_rows:
        missing = source_rows - target_rows
        what = f"{missing} fewer" if missing > 0 else f"{-missing} more"
        findings.append(
            Finding(
                FindingKind.ROW_COUNT,
                Severity.ERROR,
                pair.id,
                f"{pair.id}: target has {what} rows ({source_rows} → {target_rows})",
                source=str(source_rows),
                target=str(target_rows),
            )
        )
    findings = waivers.apply(findings, expected, pair)
    return conclude(AREA, pair.id, findings, evidence, ok=f"{source_rows} rows on both sides")
