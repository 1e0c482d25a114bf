"""A SQLite row's fields text (see :mod:`harness.rows.encode`), computed by SQLite itself.

Canonising every SQLite value in Python costs ~20 µs a row. Most values are in a handful of
storage shapes (an INTEGER in an integer column, TEXT in a text column, cents stored as REAL,
ISO timestamps, booleans as 0/1); for those, SQLite's own functions build the field. Every
other value goes to the Python canon through a registered function, so the Python canon
stays the one definition and this module only a faster route to it.

A fast path may differ from the Python canon only where its output can never be a
PostgreSQL field: a 26-character text in a timestamp column is taken as it is, and if it is
not a canonical timestamp, no PostgreSQL row can hash the same, so its segment is fetched and
compared by the Python canon after all. The argument needs two facts, each tested: every
PostgreSQL canonical text is a fixed point of the Python canon (``test_rows_canon.py``), and
every fast-path field either equals the Python canon's or is not such a fixed point
(``test_rows_sqlite_fields.py``, for values of every storage class).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from harness.db.typemap import TypeInfo
from harness.rows import canon
from harness.rows.encode import NULL_FIELD, FieldForm

_MAX_FAST_SCALE = 12


def field_sql(column: str, target: TypeInfo, options: canon.CanonOptions, fallback: str) -> str:
    """A SQLite expression giving ``column``'s field (:class:`FieldForm`), never NULL.

    ``column`` is a quoted identifier; ``fallback`` names a registered one-argument function
    (see :func:`register`) that computes the field in Python for shapes without a fast path.
    """
    x = column
    whens = "".join(f" WHEN {cond} THEN {expr}" for cond, expr in _fast_paths(x, target, options))
    return f"(CASE{whens} WHEN {x} IS NULL THEN '{NULL_FIELD}' ELSE {fallback}({x}) END)"


def row_sql(fields: Sequence[str]) -> str:
    """The row's fields text (:func:`harness.rows.encode.fields_text`)."""
    return " || ',' || ".join(fields)


def register(
    conn: sqlite3.Connection, name: str, target: TypeInfo, options: canon.CanonOptions
) -> None:
    """Register ``name`` on ``conn``: the Python canon's field of a non-NULL value."""
    convert: Callable[[Any], str] = canon.python(target, options)
    form = FieldForm.of(target)
    conn.create_function(name, 1, lambda value: form.write(convert(value)), deterministic=True)


def _fast_paths(x: str, target: TypeInfo, options: canon.CanonOptions) -> list[tuple[str, str]]:
    """(condition, field expression) pairs, most common shape first."""
    family = target.family
    if family == "integer":
        return [(f"typeof({x}) = 'integer'", x)]
    if family == "numeric" and target.scale is not None and target.scale <= _MAX_FAST_SCALE:
        return _numeric(x, target.scale)
    if family == "text":
        # length() counts characters as PostgreSQL does; it stops at a NUL, which no
        # PostgreSQL text holds, so such a row can only differ, as it should.
        value = f"rtrim({x}, ' ')" if options.rtrim or target.fixed_length else x
        return [(f"typeof({x}) = 'text'", f"length({value}) || ':' || {value}")]
    if family == "timestamp":
        return _timestamp(x)
    if family == "boolean":
        flag = f"(CASE {x} WHEN 1 THEN 't' ELSE 'f' END)"
        return [(f"typeof({x}) = 'integer' AND {x} IN (0, 1)", flag)]
    return []


def _timestamp(x: str) -> list[tuple[str, str]]:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` (the canonical text) or ``T`` for the space, and the same
    without the fraction. The text's shape is not checked beyond its length: one that is not
    a timestamp cannot equal PostgreSQL's canonical text (see the module's docstring). So a
    ``T`` anywhere stands for the 11th character's (a ``T`` elsewhere survives, and no
    canonical text has one), and the comma check only keeps the field readable
    (:func:`harness.rows.encode.parse_fields`)."""
    text = f"typeof({x}) = 'text' AND instr({x}, ',') = 0"
    spaced = (
        f"(CASE instr({x}, 'T') WHEN 0 THEN {x}"
        f" ELSE substr({x}, 1, 10) || ' ' || substr({x}, 12) END)"
    )
    return [
        (f"{text} AND length({x}) = 26", spaced),
        (f"{text} AND length({x}) = 19", f"{spaced} || '.000000'"),
    ]


def _numeric(x: str, scale: int) -> list[tuple[str, str]]:
    """numeric(p, s), written as the integer value times 10^s: an INTEGER is multiplied; a
    REAL that is the double nearest to a decimal with at most ``s`` places gives that
    decimal's digits.

    ``k = round(|x| * 10^s)`` is that decimal scaled to an integer exactly when ``k / 10^s``
    (a correctly rounded IEEE division) gives ``|x|`` back. Below ``10^(15-s)`` doubles are
    closer together than ``10^-s``, so only one such decimal exists: the one Python's
    ``Decimal(repr(x))`` holds, which then quantizes without rounding. Anything else (a REAL
    between two decimals, huge magnitudes, text) goes to Python. ``round()`` is spelled as
    a cast of ``+ 0.5``: SQLite's round() prints and re-parses its argument, several times
    slower, and the check makes any ``k`` that passes right. (An INTEGER so large that the
    product overflows becomes a REAL, whose text PostgreSQL never writes for a numeric.)
    """
    unit = 10**scale
    k = f"CAST(abs({x}) * {unit} + 0.5 AS INTEGER)"
    return [
        (
            f"typeof({x}) = 'real' AND abs({x}) < 1e{15 - scale} AND {k} / {unit}.0 = abs({x})",
            f"(CASE WHEN {x} < 0 THEN -{k} ELSE {k} END)",
        ),
        (f"typeof({x}) = 'integer'", f"{x} * {unit}"),
    ]
