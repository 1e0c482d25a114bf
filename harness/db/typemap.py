"""Column types in one normal form, and how a source type relates to a target type.

Declared types are read with sqlglot (``exp.DataType.build``), which already folds the
aliases each dialect has (``int4``/``INTEGER``/``INT``, ``NVARCHAR(160)``/``character
varying(160)``, ``DATETIME``/``timestamp without time zone``). On top of that the harness
keeps a small :class:`TypeInfo` — family, width, precision, scale — and compares two of
them with :func:`compare`, which returns one :class:`Compat` class:

- **equivalent**: same values, same semantics (NVARCHAR(160) ~ varchar(160),
  DATETIME ~ timestamp, BLOB ~ bytea);
- **widening**: every source value fits; safe (varchar(40) → varchar(80), integer → bigint,
  numeric(10,2) → numeric(12,2), date → timestamp);
- **narrowing**: some source values may not fit; lossy unless the data says otherwise
  (numeric(12,2) → numeric(10,2), text → varchar(20), SQLite INTEGER (64-bit) → integer);
- **incompatible**: different kinds of value (text → integer, boolean → timestamp).

SQLite has type *affinity*, not types: any declared name is accepted and the five affinity
rules of https://www.sqlite.org/datatype3.html §3.1 decide storage. SQLite's INTEGER is
always 64-bit and its declared widths (``NVARCHAR(160)``) are never enforced, which is why a
narrowing from a SQLite source is settled by looking at the data (see
:mod:`harness.checks.schema`). ``docs/type-matrix.md`` is generated from :data:`MATRIX_EXAMPLES`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import SqlglotError

DType = exp.DataType.Type


class Compat(enum.Enum):
    """How a source column type relates to the target column type."""

    EQUIVALENT = "equivalent"
    """Same values and semantics."""
    WIDENING = "widening"
    """Every source value fits in the target; safe."""
    NARROWING = "narrowing"
    """Some source values may not fit; lossy unless the data shows they all fit."""
    INCOMPATIBLE = "incompatible"
    """Different kinds of value."""


@dataclass(frozen=True)
class TypeInfo:
    """A column type reduced to what matters for comparison."""

    family: str
    """integer, numeric, float, text, boolean, timestamp, timestamptz, date, time, bytes,
    uuid, json, interval, or ``other``."""
    name: str
    """The normal form shown to people, e.g. ``varchar(160)``, ``numeric(10,2)``, ``bigint``."""
    bits: int | None = None
    """Integer width (16/32/64) or float mantissa bits (24/53)."""
    length: int | None = None
    """Declared maximum length of character types; None means unbounded."""
    precision: int | None = None
    scale: int | None = None
    fixed_length: bool = False
    """CHAR(n): blank-padded."""


_INTEGERS = {
    DType.TINYINT: 16,
    DType.SMALLINT: 16,
    DType.INT: 32,
    DType.MEDIUMINT: 32,
    DType.BIGINT: 64,
    DType.UBIGINT: 64,
    DType.UINT: 64,
    DType.USMALLINT: 32,
}
_INTEGER_NAMES = {16: "smallint", 32: "integer", 64: "bigint"}
_INTEGER_DIGITS = {16: 5, 32: 10, 64: 19}
_TEXTS = {
    DType.VARCHAR,
    DType.NVARCHAR,
    DType.TEXT,
    DType.NCHAR,
    DType.CHAR,
    DType.MEDIUMTEXT,
    DType.LONGTEXT,
    DType.TINYTEXT,
    DType.NAME,
}
_SIMPLE = {
    DType.BOOLEAN: ("boolean", "boolean"),
    DType.DATETIME: ("timestamp", "timestamp"),
    DType.TIMESTAMP: ("timestamp", "timestamp"),
    DType.TIMESTAMPNTZ: ("timestamp", "timestamp"),
    DType.TIMESTAMPTZ: ("timestamptz", "timestamptz"),
    DType.TIMESTAMPLTZ: ("timestamptz", "timestamptz"),
    DType.DATE: ("date", "date"),
    DType.TIME: ("time", "time"),
    DType.TIMETZ: ("time", "timetz"),
    DType.VARBINARY: ("bytes", "bytea"),
    DType.BINARY: ("bytes", "bytea"),
    DType.BLOB: ("bytes", "bytea"),
    DType.LONGBLOB: ("bytes", "bytea"),
    DType.UUID: ("uuid", "uuid"),
    DType.JSON: ("json", "json"),
    DType.JSONB: ("json", "jsonb"),
    DType.INTERVAL: ("interval", "interval"),
}


def sqlite_affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (datatype3.html §3.1, rules in order)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


_AFFINITY_TYPES = {
    "INTEGER": TypeInfo("integer", "bigint", bits=64),
    "TEXT": TypeInfo("text", "text"),
    "BLOB": TypeInfo("bytes", "bytea"),
    "REAL": TypeInfo("float", "double precision", bits=53),
    "NUMERIC": TypeInfo("numeric", "numeric"),
}


def parse(declared: str, dialect: str) -> TypeInfo:
    """Read a declared type as the given dialect (``sqlite`` or ``postgres``) reports it."""
    text = declared.strip()
    if dialect == "sqlite":
        # Every SQLite integer is a 64-bit value whatever the declaration says (INT, SMALLINT…).
        if sqlite_affinity(text) == "INTEGER":
            return _AFFINITY_TYPES["INTEGER"]
        if sqlite_affinity(text) in ("BLOB", "REAL"):
            # REAL is always an 8-byte float in SQLite, whether declared FLOAT, REAL or DOUBLE.
            return _AFFINITY_TYPES[sqlite_affinity(text)]
    try:
        built = exp.DataType.build(text, dialect=dialect)
    except (SqlglotError, ValueError):  # sqlglot cannot read it: fall back to affinity
        if dialect == "sqlite":
            return _AFFINITY_TYPES[sqlite_affinity(text)]
        return TypeInfo("other", _squash(text))
    return _from_datatype(built, text)


def _from_datatype(built: exp.DataType, text: str) -> TypeInfo:
    kind = built.this
    args = [int(a.name) for a in built.expressions if a.name.isdigit()]
    if kind in _INTEGERS:
        bits = _INTEGERS[kind]
        return TypeInfo("integer", _INTEGER_NAMES[bits], bits=bits)
    if kind in (DType.DECIMAL, DType.BIGDECIMAL, DType.MONEY):
        if args:
            precision, scale = args[0], args[1] if len(args) > 1 else 0
            return TypeInfo(
                "numeric", f"numeric({precision},{scale})", precision=precision, scale=scale
            )
        return TypeInfo("numeric", "numeric")
    if kind in (DType.FLOAT, DType.DOUBLE):
        bits = 24 if kind == DType.FLOAT else 53
        return TypeInfo("float", "real" if bits == 24 else "double precision", bits=bits)
    if kind in _TEXTS:
        fixed = kind in (DType.CHAR, DType.NCHAR)
        if kind in (DType.CHAR, DType.NCHAR) and not args:
            args = [1]  # CHAR without a length is CHAR(1) in SQL.
        length = args[0] if args else None
        if length is None:
            return TypeInfo("text", "text")
        base = "char" if fixed else "varchar"
        return TypeInfo("text", f"{base}({length})", length=length, fixed_length=fixed)
    if kind in _SIMPLE:
        family, name = _SIMPLE[kind]
        if family in _FRACTIONAL and args and args[0] < _MICROSECONDS:
            # timestamp(0) … time(5): fewer fraction digits than the type's default six.
            return TypeInfo(family, f"{name}({args[0]})", precision=args[0])
        return TypeInfo(family, name)
    return TypeInfo("other", _squash(built.sql("postgres").lower() or text))


_FRACTIONAL = frozenset({"timestamp", "timestamptz", "time"})
_MICROSECONDS = 6


def fraction_digits(info: TypeInfo) -> int:
    """The fraction-of-a-second digits a timestamp or time type keeps (six by default)."""
    return _MICROSECONDS if info.precision is None else info.precision


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


_TEMPORAL_WIDENINGS = {("date", "timestamp"), ("date", "timestamptz"), ("timestamp", "timestamptz")}


def compare(source: TypeInfo, target: TypeInfo) -> Compat:
    """Classify moving values of type ``source`` into a column of type ``target``."""
    if source == target:
        return Compat.EQUIVALENT
    sf, tf = source.family, target.family
    if sf == tf == "integer":
        return _by_size(source.bits, target.bits)
    if sf == tf == "float":
        return _by_size(source.bits, target.bits)
    if sf == tf == "text":
        return _compare_text(source, target)
    if sf == tf == "numeric":
        return _compare_numeric(source, target)
    if sf == "integer" and tf == "numeric":
        if target.precision is None:
            return Compat.WIDENING
        digits = _INTEGER_DIGITS[source.bits or 64]
        return (
            Compat.WIDENING
            if target.precision - (target.scale or 0) >= digits
            else Compat.NARROWING
        )
    if sf == "numeric" and tf == "integer":
        return Compat.NARROWING
    if sf == "integer" and tf == "float":
        # Doubles hold integers exactly up to 2**53, so bigint → double can round.
        return Compat.WIDENING if (source.bits or 64) < (target.bits or 53) else Compat.NARROWING
    if {sf, tf} <= {"numeric", "float"}:
        return Compat.NARROWING
    if sf == tf in _FRACTIONAL and source.precision != target.precision:
        return _by_size(fraction_digits(source), fraction_digits(target))
    if sf == tf:
        if (sf, source.name, target.name) == ("json", "json", "jsonb"):
            return Compat.WIDENING
        return Compat.EQUIVALENT if sf != "other" else Compat.INCOMPATIBLE
    if (sf, tf) in _TEMPORAL_WIDENINGS:
        return Compat.WIDENING
    if (sf, tf) in {("timestamp", "date"), ("timestamptz", "date"), ("timestamptz", "timestamp")}:
        return Compat.NARROWING
    if tf == "text" and sf not in ("bytes", "other"):
        # Any value has a text form; bounded targets may truncate it.
        return Compat.WIDENING if target.length is None else Compat.NARROWING
    if sf == "text" and tf in ("uuid", "json", "timestamp", "timestamptz", "date", "time"):
        return Compat.NARROWING  # Text holding such values is a common SQLite idiom.
    return Compat.INCOMPATIBLE


def _by_size(source: int | None, target: int | None) -> Compat:
    if source == target:
        return Compat.EQUIVALENT
    return Compat.WIDENING if (target or 0) > (source or 0) else Compat.NARROWING


def _compare_text(source: TypeInfo, target: TypeInfo) -> Compat:
    if target.length is None:
        return Compat.EQUIVALENT if source.length is None else Compat.WIDENING
    if source.length is None or target.length < source.length:
        return Compat.NARROWING
    if source.fixed_length != target.fixed_length and target.length == source.length:
        # CHAR(n) values fit VARCHAR(n); VARCHAR(n) → CHAR(n) pads, and CHAR comparisons
        # ignore trailing spaces, so 'a ' and 'a' become equal: not safe that way round.
        return Compat.WIDENING if source.fixed_length else Compat.NARROWING
    return Compat.WIDENING if target.length > source.length else Compat.EQUIVALENT


def _compare_numeric(source: TypeInfo, target: TypeInfo) -> Compat:
    if target.precision is None:
        return Compat.WIDENING
    if source.precision is None:
        return Compat.NARROWING
    s_int = source.precision - (source.scale or 0)
    t_int = target.precision - (target.scale or 0)
    if t_int >= s_int and (target.scale or 0) >= (source.scale or 0):
        return Compat.WIDENING
    return Compat.NARROWING


MATRIX_EXAMPLES: tuple[tuple[str, str, str, str], ...] = (
    # (source dialect, source type, target dialect, target type), documented and tested.
    ("sqlite", "NVARCHAR(160)", "postgres", "character varying(160)"),
    ("sqlite", "DATETIME", "postgres", "timestamp without time zone"),
    ("sqlite", "NUMERIC(10,2)", "postgres", "numeric(10,2)"),
    ("sqlite", "BLOB", "postgres", "bytea"),
    ("sqlite", "BOOLEAN", "postgres", "boolean"),
    ("sqlite", "INTEGER", "postgres", "bigint"),
    ("sqlite", "INTEGER", "postgres", "integer"),
    ("sqlite", "TEXT", "postgres", "character varying(20)"),
    ("sqlite", "REAL", "postgres", "double precision"),
    ("sqlite", "CHAR(3)", "postgres", "character(3)"),
    ("sqlite", "TEXT", "postgres", "uuid"),
    ("sqlite", "TEXT", "postgres", "integer"),
    ("postgres", "character varying(40)", "postgres", "character varying(80)"),
    ("postgres", "integer", "postgres", "bigint"),
    ("postgres", "numeric(10,2)", "postgres", "numeric(12,2)"),
    ("postgres", "numeric(12,2)", "postgres", "numeric(10,2)"),
    ("postgres", "text", "postgres", "character varying(20)"),
    ("postgres", "date", "postgres", "timestamp without time zone"),
    ("postgres", "timestamp without time zone", "postgres", "timestamp with time zone"),
    ("postgres", "json", "postgres", "jsonb"),
    ("postgres", "bigint", "postgres", "double precision"),
    ("postgres", "boolean", "postgres", "timestamp without time zone"),
    ("sqlite", "DATETIME", "postgres", "timestamp(0) without time zone"),
    ("sqlite", "REAL", "postgres", "real"),
)


def matrix_markdown() -> str:
    """The documented type matrix (docs/type-matrix.md), derived from :func:`compare`."""
    lines = [
        "# Type compatibility matrix",
        "",
        "Generated from `harness/db/typemap.py` (`MATRIX_EXAMPLES`); a test fails when it is "
        "stale.",
        "Regenerate with `python -m harness.db.typemap > docs/type-matrix.md`.",
        "",
        "| source | source type | target | target type | normal forms | class |",
        "|---|---|---|---|---|---|",
    ]
    for s_dialect, s_type, t_dialect, t_type in MATRIX_EXAMPLES:
        s, t = parse(s_type, s_dialect), parse(t_type, t_dialect)
        lines.append(
            f"| {s_dialect} | `{s_type}` | {t_dialect} | `{t_type}` | "
            f"`{s.name}` → `{t.name}` | {compare(s, t).value} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(matrix_markdown(), end="")
