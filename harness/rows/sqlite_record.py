"""A SQLite row's record text, computed by SQLite itself where the value's shape allows.

Canonising every SQLite value in Python costs ~20 µs a row. Most values are in a handful
of storage shapes (an INTEGER in an integer column, TEXT in a text column, cents stored as
REAL, ISO timestamps with microseconds, booleans as 0/1); for those, SQLite's own functions
build the same ``record_out`` field that :func:`harness.rows.canon.python` followed by
:func:`harness.rows.encode.record_field` would. Every other value goes to that Python canon
through a registered function, so the Python canon stays the one definition and this module
only a faster route to the same bytes — ``tests/test_rows_sqlite_record.py`` holds the two
to the same text for random values of every storage class.

Only the row hash and the multiset texts use this; the row diff's values still come from
the Python canon, one row at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from harness.rows import canon
from harness.rows.encode import record_field
from harness.types import TypeInfo

# Characters that make record_out quote a field (encode._NEEDS_QUOTES), for a GLOB class.
_QUOTE_CLASS = ' \t\n\r\v\f"\\(),'
_DIGIT = "[0-9]"
_SECONDS = f"{_DIGIT * 4}-{_DIGIT * 2}-{_DIGIT * 2}[ T]{_DIGIT * 2}:{_DIGIT * 2}:{_DIGIT * 2}"
_MAX_FAST_SCALE = 12


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def field_sql(column: str, target: TypeInfo, options: canon.CanonOptions, fallback: str) -> str:
    """A SQLite expression giving ``column``'s ``record_out`` field ('' for NULL).

    ``column`` is a quoted identifier; ``fallback`` names a registered one-argument function
    (see :func:`register`) that computes the field in Python for shapes without a fast path.
    """
    x = column
    fast = _fast_paths(x, target, options)
    whens = "".join(f" WHEN {cond} THEN {expr}" for cond, expr in fast)
    return f"(CASE WHEN {x} IS NULL THEN ''{whens} ELSE {fallback}({x}) END)"


def record_sql(fields: Sequence[str]) -> str:
    """The row's ``record_out`` text from its fields."""
    return "'(' || " + " || ',' || ".join(fields) + " || ')'"


def register(
    conn: sqlite3.Connection, name: str, target: TypeInfo, options: canon.CanonOptions
) -> None:
    """Register ``name`` on ``conn``: the Python canon's record field of a non-NULL value."""
    convert: Callable[[Any], str] = canon.python(target, options)
    conn.create_function(name, 1, lambda value: record_field(convert(value)), deterministic=True)


def _fast_paths(x: str, target: TypeInfo, options: canon.CanonOptions) -> list[tuple[str, str]]:
    """(condition, field expression) pairs, each exactly what the Python canon gives."""
    family = target.family
    if family == "integer":
        return [(f"typeof({x}) = 'integer'", f"CAST({x} AS TEXT)")]
    if family == "numeric" and target.scale is not None and target.scale <= _MAX_FAST_SCALE:
        return _numeric(x, target.scale)
    if family == "text":
        trim = options.rtrim or target.fixed_length
        value = f"rtrim({x}, ' ')" if trim else x
        # GLOB stops at a NUL; PostgreSQL text never holds one, so Python may canonise those.
        return [(f"typeof({x}) = 'text' AND instr({x}, char(0)) = 0", _quoted_if_needed(value))]
    if family == "timestamp":
        # Python's fast path takes these two shapes verbatim (canon._naive_timestamp); the
        # canonical text has a space, so record_out always quotes it.
        return [
            (
                f"typeof({x}) = 'text' AND {x} GLOB '{_SECONDS}.{_DIGIT * 6}'",
                f"""'"' || substr({x}, 1, 10) || ' ' || substr({x}, 12) || '"'""",
            ),
            (
                f"typeof({x}) = 'text' AND {x} GLOB '{_SECONDS}'",
                f"""'"' || substr({x}, 1, 10) || ' ' || substr({x}, 12) || '.000000"'""",
            ),
        ]
    if family == "boolean":
        return [
            (f"typeof({x}) = 'integer' AND {x} = 1", "'t'"),
            (f"typeof({x}) = 'integer' AND {x} = 0", "'f'"),
        ]
    return []


def _numeric(x: str, scale: int) -> list[tuple[str, str]]:
    """numeric(p, s): integers get ``.000``; a REAL that is the double nearest to a decimal
    with at most ``s`` places is printed from that decimal.

    ``k = round(|x| * 10^s)`` is that decimal scaled to an integer exactly when ``k / 10^s``
    (a correctly rounded IEEE division) gives ``|x|`` back. Below ``10^(15-s)`` doubles are
    closer together than ``10^-s``, so only one such decimal exists: the one Python's
    ``Decimal(repr(x))`` holds, which then quantizes without rounding. Anything else (a REAL
    between two decimals, huge magnitudes, text) goes to Python.
    """
    unit = 10**scale
    integer = f"CAST({x} AS TEXT)" if scale == 0 else f"{x} || '.{'0' * scale}'"
    k = f"CAST(round(abs({x}) * {unit}) AS INTEGER)"
    sign = f"CASE WHEN {x} < 0 THEN '-' ELSE '' END"
    digits = f"{k} / {unit}" if scale == 0 else f"{k} / {unit}, {k} % {unit}"
    pattern = "%s%d" if scale == 0 else f"%s%d.%0{scale}d"
    return [
        (f"typeof({x}) = 'integer'", integer),
        (
            f"typeof({x}) = 'real' AND abs({x}) < 1e{15 - scale}"
            f" AND round(abs({x}) * {unit}) / {unit}.0 = abs({x})",
            f"printf('{pattern}', {sign}, {digits})",
        ),
    ]


def _quoted_if_needed(value: str) -> str:
    """record_out's quoting of a text field (see encode.record_field)."""
    special = _literal(f"*[{_QUOTE_CLASS}]*")
    escaped = f"""replace(replace({value}, '\\', '\\\\'), '"', '""')"""
    return (
        f"""(CASE WHEN {value} = '' OR {value} GLOB {special} THEN '"' || {escaped} || '"'"""
        f" ELSE {value} END)"
    )
