"""Cross-area sections of the report: what a reviewer reads before any drill-down.

Each function reads the raw check dicts of ``results.json`` (their evidence has the shape the
producing check wrote: :mod:`harness.checks.schema`, :mod:`harness.checks.rows`,
:mod:`harness.lint.api`, :mod:`harness.residue.checks`) and returns small frozen records. A
missing or oddly shaped key yields an empty cell, never an exception: a report of a run that
crashed half-way still has to render.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.capabilities import DSQL_COMPAT, RESIDUE, RESIDUE_TARGET, ROW_COUNT, ROWS, SCHEMA

LINT_AREA = DSQL_COMPAT.area
RESIDUE_AREAS = (RESIDUE.area, RESIDUE_TARGET.area)
_SAMPLES_SHOWN = 10
"""Sample rows shown per table; the counts above them stay exact."""


@dataclass(frozen=True)
class SchemaDifference:
    """One schema finding, across all tables, as a row of the schema-differences table."""

    table: str
    object: str
    kind: str
    severity: str
    message: str
    source: str | None
    target: str | None
    waived_by: str | None
    anchor: str | None


@dataclass(frozen=True)
class Cell:
    """One column of a sample row: the source and target value side by side."""

    column: str
    source: str
    target: str
    changed: bool


@dataclass(frozen=True)
class Sample:
    """One differing row: which, what kind, and its values on both sides."""

    kind: str
    """``changed``, ``missing`` (only on the source) or ``extra`` (only on the target)."""
    label: str
    key: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class DataState:
    """One table's data as both checks saw it: counts, then row-level parity."""

    table: str
    status: str
    """The worst status of its checks: what the table's row reads as."""
    count_status: str | None
    rows_status: str | None
    state: str | None
    """``validated``, ``mismatched`` or ``no_key`` (compared as a multiset)."""
    source_rows: str
    target_rows: str
    missing: int
    extra: int
    changed: int
    changed_columns: tuple[tuple[str, int], ...]
    key: str
    samples: tuple[Sample, ...]
    samples_hidden: int
    anchor: str | None


@dataclass(frozen=True)
class LintRow:
    """A lint finding at ``path:line:col`` with the statement it fired on."""

    severity: str
    rule: str
    name: str
    where: str
    message: str
    fix: str | None
    excerpt: str | None
    waived_by: str | None
    anchor: str | None


@dataclass(frozen=True)
class ResidueRow:
    """A reference to the retired database at ``file:line`` (or a template-level finding)."""

    severity: str
    rule: str | None
    where: str
    message: str
    excerpt: str | None
    context: str | None
    waived_by: str | None
    anchor: str | None


@dataclass(frozen=True)
class AppliedWaiver:
    """A waiver some finding relied on, flagged when its expiry is before the run."""

    area: str
    object: str
    reviewer: str | None
    reason: str | None
    expires: str | None
    expired: bool
    anchor: str | None


_WORST = ("error", "fail", "waived", "skip", "pass")
_KIND_ORDER = {"changed": 0, "missing": 1, "extra": 2}


def schema_differences(
    checks: Sequence[Mapping[str, Any]], anchors: Mapping[str, str]
) -> tuple[SchemaDifference, ...]:
    rows = []
    for check in checks:
        if check.get("area") != SCHEMA.area:
            continue
        for f in map(_map, _list(check.get("findings"))):
            rows.append(
                SchemaDifference(
                    table=_str(check.get("name")),
                    object=_str(f.get("object")) or _str(check.get("name")),
                    kind=_str(f.get("kind")).replace("_", " "),
                    severity=_str(f.get("severity")) or "info",
                    message=_str(f.get("message")),
                    source=_opt(f.get("source")),
                    target=_opt(f.get("target")),
                    waived_by=_waiver_text(f.get("waived_by")),
                    anchor=anchors.get(_str(check.get("id"))),
                )
            )
    order = {"error": 0, "warning": 1}
    return tuple(sorted(rows, key=lambda r: (order.get(r.severity, 2), r.table, r.object)))


def data_states(
    checks: Sequence[Mapping[str, Any]], anchors: Mapping[str, str]
) -> tuple[DataState, ...]:
    counts: dict[str, Mapping[str, Any]] = {}
    rows: dict[str, Mapping[str, Any]] = {}
    for check in checks:
        if check.get("area") == ROW_COUNT.area:
            counts[_str(check.get("name"))] = check
        elif check.get("area") == ROWS.area:
            rows[_str(check.get("name"))] = check
    states = []
    for table in sorted(set(counts) | set(rows)):
        count, row = counts.get(table, {}), rows.get(table, {})
        ce, re_ = _map(count.get("evidence")), _map(row.get("evidence"))
        # Key order as a person reads it (id 500 before id 1500), whatever order segments
        # happened to be fetched in.
        samples = sorted(
            (_sample(_map(s)) for s in _list(re_.get("samples"))),
            key=lambda sample: (_KIND_ORDER.get(sample.kind, 3), _natural(sample.key)),
        )
        statuses = [_str(c.get("status")) for c in (count, row) if c]
        first = row or count
        states.append(
            DataState(
                table=table,
                status=min(statuses, key=lambda s: _WORST.index(s) if s in _WORST else 0),
                count_status=_opt(count.get("status")),
                rows_status=_opt(row.get("status")),
                state=_opt(re_.get("state")),
                source_rows=_num(re_.get("source_rows", ce.get("source"))),
                target_rows=_num(re_.get("target_rows", ce.get("target"))),
                missing=_int(re_.get("missing")),
                extra=_int(re_.get("extra")),
                changed=_int(re_.get("changed")),
                changed_columns=tuple(
                    (str(k), _int(v)) for k, v in _map(re_.get("changed_columns")).items()
                ),
                key=", ".join(map(str, _list(re_.get("key")))),
                samples=tuple(samples[:_SAMPLES_SHOWN]),
                samples_hidden=max(0, len(samples) - _SAMPLES_SHOWN),
                anchor=anchors.get(_str(first.get("id"))),
            )
        )
    return tuple(states)


def _sample(raw: Mapping[str, Any]) -> Sample:
    kind = _str(raw.get("kind")) or "changed"
    key = ", ".join(f"{k} = {_value(v)}" for k, v in _map(raw.get("key")).items())
    if kind == "changed":
        cells = tuple(
            Cell(
                str(column),
                _value(_map(pair).get("source")),
                _value(_map(pair).get("target")),
                True,
            )
            for column, pair in _map(raw.get("columns")).items()
        )
        label = "Changed"
    elif kind == "missing":
        cells = (Cell("(whole row)", "present", "absent", True),)
        label = "Missing on target"
    else:
        cells = (Cell("(whole row)", "absent", "present", True),)
        label = "Only on target"
    return Sample(kind=kind, label=label, key=key, cells=cells)


def lint_rows(
    checks: Sequence[Mapping[str, Any]], anchors: Mapping[str, str]
) -> tuple[LintRow, ...]:
    rows = []
    for check in checks:
        if check.get("area") != LINT_AREA:
            continue
        for f in map(_map, _list(_map(check.get("evidence")).get("findings"))):
            place = ":".join(str(p) for p in (f.get("path"), f.get("line"), f.get("col")) if p)
            rows.append(
                LintRow(
                    severity=_str(f.get("severity")) or "warning",
                    rule=_str(f.get("rule")),
                    name=_str(f.get("name")),
                    where=place or _str(check.get("name")),
                    message=_str(f.get("message")),
                    fix=_opt(f.get("fix")),
                    excerpt=_opt(f.get("preview")),
                    waived_by=_waiver_text(f.get("suppressed_by")),
                    anchor=anchors.get(_str(check.get("id"))),
                )
            )
    return tuple(sorted(rows, key=_severity_then_place))


def residue_rows(
    checks: Sequence[Mapping[str, Any]], anchors: Mapping[str, str]
) -> tuple[ResidueRow, ...]:
    rows = []
    for check in checks:
        area = check.get("area")
        if area not in RESIDUE_AREAS:
            continue
        evidence = _map(check.get("evidence"))
        hits = {
            (_int(h.get("line")), _str(h.get("rule"))): h
            for context in ("code", "comments")
            for h in map(_map, _list(evidence.get(context)))
        }
        for f in map(_map, _list(check.get("findings"))):
            message = _str(f.get("message"))
            rule = message.rsplit("[", 1)[-1].rstrip("]") if message.endswith("]") else None
            where = _str(f.get("object"))
            line = where.rsplit(":", 1)[-1]
            hit = hits.get((int(line) if line.isdigit() else 0, rule or ""), {})
            rows.append(
                ResidueRow(
                    severity=_str(f.get("severity")) or "error",
                    rule=rule,
                    where=where,
                    message=message,
                    # A file finding's source is the matched text; a template's is a count.
                    excerpt=_opt(
                        hit.get("text") or (f.get("source") if area == RESIDUE.area else None)
                    ),
                    context=_opt(hit.get("context")),
                    waived_by=_waiver_text(f.get("waived_by")),
                    anchor=anchors.get(_str(check.get("id"))),
                )
            )
    return tuple(sorted(rows, key=_severity_then_place))


def applied_waivers(
    checks: Sequence[Mapping[str, Any]], anchors: Mapping[str, str], as_of: str | None
) -> tuple[AppliedWaiver, ...]:
    """Every waiver a finding relied on; ``as_of`` (the run's date) decides what has expired."""
    found = []
    for check in checks:
        for f in map(_map, _list(check.get("findings"))):
            waiver = _map(f.get("waived_by"))
            if not waiver:
                continue
            expires = _opt(waiver.get("expires"))
            found.append(
                AppliedWaiver(
                    area=_str(check.get("area")),
                    object=_str(f.get("object")) or _str(check.get("name")),
                    reviewer=_opt(waiver.get("reviewer")),
                    reason=_opt(waiver.get("reason")),
                    expires=expires,
                    # ISO dates compare as text; a waiver expiring on the run's day still holds.
                    expired=bool(expires and as_of and expires[:10] < as_of[:10]),
                    anchor=anchors.get(_str(check.get("id"))),
                )
            )
    return tuple(sorted(found, key=lambda w: (not w.expired, w.area, w.object)))


def tool_versions(results: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """cutover's version and every rule pack the evidence names (lint's DSQL pack, …)."""
    environment = _map(results.get("environment"))
    versions = [("cutover", _str(environment.get("harness_version")) or "unknown")]
    packs = {_str(_map(results.get("lint")).get("rule_pack"))}
    for check in _list(results.get("checks")):
        packs.add(_str(_map(_map(check).get("evidence")).get("rule_pack")))
    for pack in sorted(p for p in packs if p):
        versions.append(("DSQL rule pack", pack))
    if environment.get("python"):
        versions.append(("Python", _str(environment.get("python"))))
    return tuple(versions)


# --- small helpers ------------------------------------------------------------------------


def _severity_then_place(row: LintRow | ResidueRow) -> tuple[int, str]:
    return ({"error": 0, "warning": 1}.get(row.severity, 2), row.where)


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key reading runs of digits as numbers: ``id = 500`` before ``id = 1500``."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", text)
        if part
    )


def _waiver_text(raw: Any) -> str | None:
    waiver = _map(raw)
    if not waiver:
        return None
    who = _opt(waiver.get("reviewer")) or "an unnamed reviewer"
    text = f"waived by {who}"
    if waiver.get("reason"):
        text += f": {waiver['reason']}"
    if waiver.get("expires"):
        text += f" (until {waiver['expires']})"
    return text


def _value(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _num(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "—" if value is None else str(value)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()
