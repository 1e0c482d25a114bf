"""Row-level parity of one table pair: the check around :func:`harness.rows.compare_table`."""

from __future__ import annotations

from typing import Any

from harness.checks import waivers
from harness.db.database import Database
from harness.plan.model import ExpectedDifference
from harness.plan.scope import TablePair
from harness.results.check import CheckResult, Finding, FindingKind, Severity, Status, conclude
from harness.rows.canon import CanonOptions
from harness.rows.compare import RowDiff, RowOptions, compare_table
from harness.rows.settings import RowSettings

AREA = "rows"


def row_options(settings: RowSettings, source_table: str) -> RowOptions:
    prefix = f"{source_table}."
    columns = {
        name.removeprefix(prefix): CanonOptions(float_digits=c.float_digits, rtrim=c.rtrim)
        for name, c in settings.columns.items()
        if name.startswith(prefix)
    }
    return RowOptions(
        segment_rows=settings.segment_rows, sample_cap=settings.sample_cap, columns=columns
    )


def check_rows(
    pair: TablePair,
    *,
    source_db: Database,
    target_db: Database,
    settings: RowSettings,
    expected: tuple[ExpectedDifference, ...] = (),
) -> CheckResult:
    """Every row of the source is on the target with the same values, and nothing more.

    The pair decides the comparison: its column renames, and its key (the plan's
    ``tables.keys`` entry; without one the source's primary key, and without that a
    multiset comparison).
    """
    if pair.source is None or pair.target is None:
        where = "target" if pair.source is None else "source"
        return CheckResult(AREA, pair.id, Status.SKIP, f"only on the {where}; nothing to compare")
    source = source_db.catalog().table(pair.source)
    target = target_db.catalog().table(pair.target)
    assert source is not None
    assert target is not None
    options = row_options(settings, pair.source)
    diff = compare_table(
        source_db,
        target_db,
        source,
        target,
        pair.target_column,
        pair.keys or None,
        options,
    )
    findings = waivers.apply(_findings(pair, diff), expected, pair)
    evidence = _evidence(diff, options)
    if diff.keyed:
        ok = f"all {diff.source_rows} rows match ({diff.segments} segments checksummed)"
    else:
        ok = f"all {diff.source_rows} rows match as a multiset (no key)"
    return conclude(AREA, pair.id, findings, evidence, ok=ok)


def _findings(pair: TablePair, diff: RowDiff) -> list[Finding]:
    found: list[Finding] = []
    if diff.missing:
        found.append(
            Finding(
                FindingKind.ROW_MISSING,
                Severity.ERROR,
                pair.id,
                f"{diff.missing} row(s) missing on the target",
                source=str(diff.missing),
            )
        )
    if diff.extra:
        found.append(
            Finding(
                FindingKind.ROW_EXTRA,
                Severity.ERROR,
                pair.id,
                f"{diff.extra} row(s) only on the target",
                target=str(diff.extra),
            )
        )
    for column, count in sorted(diff.changed_columns.items()):
        example = next(
            (s for s in diff.samples if s.kind == "changed" and column in s.columns), None
        )
        source, target = example.columns[column] if example else (None, None)
        found.append(
            Finding(
                FindingKind.ROW_CHANGED,
                Severity.ERROR,
                pair.id,
                f"{column} differs in {count} row(s)"
                + (f", e.g. {_key_text(example.key)}: {source!r} → {target!r}" if example else ""),
                column=column,
                source=source,
                target=target,
            )
        )
    return found


def _key_text(key: dict[str, str | None]) -> str:
    return ", ".join(f"{k}={v}" for k, v in key.items())


def _evidence(diff: RowDiff, options: RowOptions) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "state": diff.state,
        "key": list(diff.key),
        "columns_compared": list(diff.columns),
        "source_rows": diff.source_rows,
        "target_rows": diff.target_rows,
        "missing": diff.missing,
        "extra": diff.extra,
        "changed": diff.changed,
        "changed_columns": dict(sorted(diff.changed_columns.items())),
        "segments": diff.segments,
        "segments_split": diff.segments_split,
        "rows_fetched": diff.rows_fetched,
        "round_trips": diff.round_trips,
        "samples": [
            {
                "kind": s.kind,
                "key": s.key,
                **(
                    {"columns": {c: {"source": a, "target": b} for c, (a, b) in s.columns.items()}}
                    if s.columns
                    else {}
                ),
            }
            for s in diff.samples
        ],
    }
    canon = {
        column: {"rtrim": o.rtrim, "float_digits": o.float_digits}
        for column, o in options.columns.items()
        if o != CanonOptions()
    }
    if canon:
        evidence["value_options"] = canon
    return evidence
