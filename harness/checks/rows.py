"""Row-level parity of one table pair: the check around :func:`harness.rows.compare_table`.

A large table is compared in shards, one item each (:mod:`harness.rows.shards`): the controller
plans them (:func:`shard_table`), each item checks its key range (``rows[events#3/8]``), and
:func:`merge_shards` folds a table's shard results into one ``rows[events]`` before the run
record is written, with exact counts; a difference or an error in any shard fails the table.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from harness.checks import waivers
from harness.db.database import Database
from harness.errors import CheckError
from harness.plan.model import ExpectedDifference
from harness.plan.scope import TablePair
from harness.results.check import (
    CheckResult,
    Finding,
    FindingKind,
    Severity,
    Status,
    Waiver,
    conclude,
    errored,
)
from harness.rows import shards
from harness.rows.canon import CanonOptions
from harness.rows.compare import RowDiff, RowOptions, RowSample, compare_table, pairing
from harness.rows.settings import RowSettings
from harness.rows.shards import WHOLE, Shard
from harness.rows.sides.postgres import BOUNDED_SEGMENTS

AREA = "rows"
_SHARD_NAME = re.compile(r"^(?P<table>.+)#(?P<number>[0-9]+)/(?P<of>[0-9]+)$")


@dataclass(frozen=True)
class RowItem:
    """One row-parity item: a table pair, or one shard of it."""

    pair: TablePair
    shard: Shard = WHOLE

    @property
    def id(self) -> str:
        """``orders``, or ``events#3/8`` for a shard."""
        return self.shard.label(self.pair.id)


def shard_table(
    pair: TablePair, *, source_db: Database, target_db: Database, settings: RowSettings
) -> tuple[Shard, ...]:
    """The pair's shards (:func:`harness.rows.shards.plan`). A table that cannot be compared
    (no key, a key column missing, a query refused) stays whole, so its one item reports why."""
    if pair.source is None or pair.target is None:
        return (WHOLE,)
    source = source_db.catalog().table(pair.source)
    target = target_db.catalog().table(pair.target)
    if source is None or target is None:
        return (WHOLE,)
    options = row_options(settings, pair.source)
    try:
        both = pairing(
            source_db, target_db, source, target, pair.target_column, pair.keys or None, options
        )
        if not both.key_index:
            return (WHOLE,)
        bounded = any(getattr(db, "bounded", False) for db in (source_db, target_db))
        return shards.plan(
            both.src,
            both.tgt,
            integer_key=both.integer_key,
            shard_rows=settings.shard_rows,
            bounded_rows=BOUNDED_SEGMENTS * settings.segment_rows if bounded else None,
        )
    except CheckError:
        return (WHOLE,)


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
    shard: Shard = WHOLE,
) -> CheckResult:
    """Every row of the source is on the target with the same values, and nothing more.

    The pair decides the comparison: its column renames, and its key (the plan's
    ``tables.keys`` entry; without one the source's primary key, and without that a
    multiset comparison). ``shard``: only its key range, named ``table#n/of``.
    """
    name = shard.label(pair.id)
    if pair.source is None or pair.target is None:
        where = "target" if pair.source is None else "source"
        return CheckResult(AREA, name, Status.SKIP, f"only on the {where}; nothing to compare")
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
        shard=shard,
    )
    findings = waivers.apply(_findings(pair.id, diff), expected, pair)
    evidence = _evidence(diff, options)
    if shard.of > 1:
        evidence["shard"] = shard.to_dict()
    return conclude(AREA, name, findings, evidence, ok=_ok(diff))


def _ok(diff: RowDiff) -> str:
    if diff.keyed:
        return f"all {diff.source_rows} rows match ({diff.segments} segments checksummed)"
    return f"all {diff.source_rows} rows match as a multiset (no key)"


def _findings(table: str, diff: RowDiff) -> list[Finding]:
    found: list[Finding] = []
    if diff.missing:
        found.append(
            Finding(
                FindingKind.ROW_MISSING,
                Severity.ERROR,
                table,
                f"{diff.missing} row(s) missing on the target",
                source=str(diff.missing),
            )
        )
    if diff.extra:
        found.append(
            Finding(
                FindingKind.ROW_EXTRA,
                Severity.ERROR,
                table,
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
                table,
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
        "sample_cap": options.sample_cap,
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


# -- a table's shards merged into one result ---------------------------------------------------

_SUMMED = ("source_rows", "target_rows", "missing", "extra", "changed")
_SUMMED_WORK = ("segments", "segments_split", "rows_fetched")


def merge_shards(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``checks`` (results.json form) with each sharded table's ``rows[table#n/of]`` results
    replaced by one ``rows[table]``, where its first shard stood: counts summed, samples
    kept in shard order up to the cap, findings counted afresh. A shard that errored or
    never reported makes the table an error; a difference in any shard fails it."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for check in checks:
        shard = _shard_of(check)
        if shard is not None:
            groups[shard[0]].append(check)
    out: list[dict[str, Any]] = []
    for check in checks:
        shard = _shard_of(check)
        if shard is None:
            out.append(check)
        elif check is groups[shard[0]][0]:
            out.append(_merged(shard[0], shard[2], groups[shard[0]]))
    return out


def _shard_of(check: dict[str, Any]) -> tuple[str, int, int] | None:
    """(table, shard number, shard count) of a shard's result, None for any other check."""
    if check.get("area") != AREA:
        return None
    found = _SHARD_NAME.match(str(check.get("name", "")))
    return None if found is None else (found["table"], int(found["number"]), int(found["of"]))


def _merged(table: str, of: int, parts: list[dict[str, Any]]) -> dict[str, Any]:
    number = {id(c): shard[1] for c in parts if (shard := _shard_of(c)) is not None}
    parts = sorted(parts, key=lambda c: number[id(c)])
    duration = round(sum(float(c.get("duration_s", 0.0)) for c in parts), 6)
    numbers = set(number.values())
    broken = [c for c in parts if c["status"] not in ("pass", "fail", "waived")]
    absent = sorted(set(range(1, of + 1)) - numbers)
    if broken or absent:
        reasons = [f"{c['name']}: {c['summary']}" for c in broken]
        if absent:
            reasons.append(f"shard(s) {', '.join(map(str, absent))} of {of} never reported")
        result = errored(AREA, table, "; ".join(reasons))
        return {**result.to_dict(), "duration_s": duration}
    diff = RowDiff()
    first = parts[0]["evidence"]
    diff.key, diff.columns = tuple(first["key"]), tuple(first["columns_compared"])
    cap = int(first["sample_cap"])
    for part in parts:
        evidence = part["evidence"]
        for name in (*_SUMMED, *_SUMMED_WORK):
            setattr(diff, name, getattr(diff, name) + int(evidence[name]))
        for column, count in evidence["changed_columns"].items():
            diff.changed_columns[column] = diff.changed_columns.get(column, 0) + int(count)
        for role, count in evidence["round_trips"].items():
            diff.round_trips[role] = diff.round_trips.get(role, 0) + int(count)
        for sample in evidence["samples"]:
            if len(diff.samples) < cap:
                diff.samples.append(_sample(sample))
    if diff.differences:
        diff.state = "mismatched"
    waived = {
        (f["kind"], f["column"]): f["waived_by"]
        for part in parts
        for f in part["findings"]
        if f["waived_by"] is not None
    }
    findings = [
        f if (w := waived.get((f.kind.value, f.column))) is None else _waive(f, w)
        for f in _findings(table, diff)
    ]
    evidence = _evidence(diff, RowOptions(sample_cap=cap))
    evidence["shards"] = [
        {**p["evidence"]["shard"], "duration_s": p.get("duration_s", 0.0)} for p in parts
    ]
    for key in ("value_options",):
        if key in first:
            evidence[key] = first[key]
    result = conclude(AREA, table, findings, evidence, ok=_ok(diff) + f" in {of} shards")
    return {**result.to_dict(), "duration_s": duration}


def _sample(data: dict[str, Any]) -> RowSample:
    columns = {c: (v["source"], v["target"]) for c, v in data.get("columns", {}).items()}
    return RowSample(data["kind"], data["key"], columns)


def _waive(finding: Finding, waiver: dict[str, Any]) -> Finding:
    return replace(finding, waived_by=Waiver(**waiver))
