"""Compare two answers with the row-level check's value canon (:mod:`harness.rows.canon`).

Each result column is canonised in the form both sides' types call for, as row parity does
(:func:`harness.rows.canon.domain`: mostly the target's, never one that rounds a source
value into a target one). PostgreSQL names a column's type; SQLite does not, so a SQLite
answer's values are typed one by one from what the driver returned. Ordered
queries compare row by row; unordered ones compare as multisets (sorted canonical rows).
A column with a tolerance compares numerically within it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from harness.db.typemap import TypeInfo
from harness.queries.answers import Answer
from harness.rows import canon
from harness.rows.canon import CanonOptions

Row = tuple[str | None, ...]


@dataclass(frozen=True)
class RowDiff:
    """One position where the answers disagree, each side's row as canonical text."""

    position: int
    """0-based row number (in sorted order for an unordered query)."""
    source: Row | None
    target: Row | None


@dataclass(frozen=True)
class AnswerDiff:
    """How two answers compare; ``same`` when nothing differs."""

    columns_differ: str | None = None
    source_rows: int = 0
    target_rows: int = 0
    differing: int = 0
    """Rows that differ (positions for ordered queries, unmatched rows for unordered)."""
    examples: tuple[RowDiff, ...] = ()
    types: tuple[str, ...] = field(default_factory=tuple)

    @property
    def same(self) -> bool:
        return self.columns_differ is None and self.differing == 0


def by_value(value: Any) -> TypeInfo:
    """The type a driver value stands for, for answers with no column types (SQLite)."""
    if isinstance(value, bool):
        return TypeInfo("boolean", "boolean")
    if isinstance(value, int):
        return TypeInfo("integer", "bigint", bits=64)
    if isinstance(value, float):
        return TypeInfo("float", "double precision", bits=53)
    if isinstance(value, Decimal):
        return TypeInfo("numeric", "numeric")
    if isinstance(value, bytes | bytearray | memoryview):
        return TypeInfo("bytes", "bytea")
    if isinstance(value, datetime):
        return TypeInfo("timestamptz" if value.tzinfo else "timestamp", "timestamp")
    if isinstance(value, date):
        return TypeInfo("date", "date")
    if isinstance(value, time):
        return TypeInfo("time", "time")
    return TypeInfo("text", "text")


def column_types(source: Answer, target: Answer) -> tuple[TypeInfo | None, ...]:
    """The type deciding each column's canon: both sides' :func:`canon.domain`, else the
    one side's that names one, else None (typed value by value)."""
    return tuple(
        canon.domain(s, t) if s is not None and t is not None else t or s
        for s, t in zip(_typed(source), _typed(target), strict=False)
    )


def _typed(answer: Answer) -> tuple[TypeInfo | None, ...]:
    """The answer's column types; a column the driver did not type (SQLite) that holds a
    float is a double: a target's ``real`` must not round it before it is compared."""
    floats = {i for row in answer.rows for i, v in enumerate(row) if isinstance(v, float)}
    return tuple(
        by_value(0.0) if t is None and i in floats else t for i, t in enumerate(answer.types)
    )


def canonise(
    answer: Answer, types: tuple[TypeInfo | None, ...], options: dict[str, CanonOptions]
) -> list[Row]:
    """Every row of ``answer`` as canonical text (NULL stays None)."""
    forms: list[Callable[[Any], str] | None] = [
        None if t is None else canon.python(t, options.get(name, CanonOptions()))
        for name, t in zip(answer.columns, types, strict=False)
    ]
    out = []
    for row in answer.rows:
        texts: list[str | None] = []
        for i, value in enumerate(row):
            if value is None:
                texts.append(None)
                continue
            form = forms[i] if i < len(forms) else None
            if form is None:
                form = canon.python(by_value(value))
            texts.append(form(value))
        out.append(tuple(texts))
    return out


def compare(
    source: Answer,
    target: Answer,
    *,
    ordered: bool,
    tolerance: dict[str, float],
    options: dict[str, CanonOptions] | None = None,
    examples: int = 5,
) -> AnswerDiff:
    """Compare two answers (see module docstring)."""
    if len(source.columns) != len(target.columns):
        return AnswerDiff(
            columns_differ=f"the source returns {len(source.columns)} column(s) "
            f"({', '.join(source.columns)}), the target {len(target.columns)} "
            f"({', '.join(target.columns)})",
            source_rows=len(source.rows),
            target_rows=len(target.rows),
        )
    types = column_types(source, target)
    opts = options or {}
    left = canonise(source, types, opts)
    right = canonise(target, types, opts)
    tolerant = [
        tolerance.get(name) for name in target.columns
    ]  # by the target's names: that is what the application reads
    type_names = tuple(t.name if t is not None else "by value" for t in types)
    if not ordered and not any(t is not None for t in tolerant):
        return _multiset(left, right, examples, type_names)
    if not ordered:
        left, right = _sorted(left, tolerant), _sorted(right, tolerant)
    diffs: list[RowDiff] = []
    differing = 0
    for position in range(max(len(left), len(right))):
        a = left[position] if position < len(left) else None
        b = right[position] if position < len(right) else None
        if a is not None and b is not None and _same_row(a, b, tolerant):
            continue
        differing += 1
        if len(diffs) < examples:
            diffs.append(RowDiff(position, a, b))
    return AnswerDiff(
        source_rows=len(left),
        target_rows=len(right),
        differing=differing,
        examples=tuple(diffs),
        types=type_names,
    )


def _multiset(
    left: list[Row], right: list[Row], examples: int, types: tuple[str, ...]
) -> AnswerDiff:
    """Unordered and exact: rows only on one side, counted with multiplicity."""
    only_source = Counter(left)
    only_source.subtract(Counter(right))
    missing = sorted(only_source.elements(), key=_text_key)
    only_target = Counter(right)
    only_target.subtract(Counter(left))
    extra = sorted(only_target.elements(), key=_text_key)
    shown = [RowDiff(-1, row, None) for row in missing[:examples]]
    shown += [RowDiff(-1, None, row) for row in extra[: max(examples - len(shown), 0)]]
    return AnswerDiff(
        source_rows=len(left),
        target_rows=len(right),
        differing=len(missing) + len(extra),
        examples=tuple(shown),
        types=types,
    )


def _text_key(row: Row) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, v or "") for v in row)


def _sorted(rows: list[Row], tolerant: list[float | None]) -> list[Row]:
    """Rows in a stable canonical order: exact columns first, tolerant ones numerically."""
    exact = [i for i, tol in enumerate(tolerant) if tol is None]
    loose = [i for i, tol in enumerate(tolerant) if tol is not None]

    def key(row: Row) -> tuple[Any, ...]:
        return (
            tuple((v is None, v or "") for v in (row[i] for i in exact)),
            tuple(_number(row[i]) for i in loose),
        )

    return sorted(rows, key=key)


def _number(text: str | None) -> float:
    if text is None:
        return -math.inf
    try:
        return float(text)
    except ValueError:
        return math.inf


def _same_row(a: Row, b: Row, tolerant: list[float | None]) -> bool:
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x == y:
            continue
        tol = tolerant[i] if i < len(tolerant) else None
        if tol is None or x is None or y is None:
            return False
        try:
            if abs(float(x) - float(y)) > tol:
                return False
        except ValueError:
            return False
    return True
