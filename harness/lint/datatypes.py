"""Column types against DSQL's allow-list (dsql-compat.md §1c: DSQL020, DSQL040 to DSQL047)."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import SqlglotError

T = exp.DataType.Type

# The stored types DSQL accepts [S10][S23] as sqlglot names them (real → FLOAT, bytea → VARBINARY,
# numeric → DECIMAL, timestamp with time zone → TIMESTAMPTZ).
ALLOWED = frozenset(
    {
        T.SMALLINT, T.INT, T.BIGINT, T.FLOAT, T.DOUBLE, T.DECIMAL, T.CHAR, T.VARCHAR, T.BPCHAR,
        T.TEXT, T.DATE, T.TIME, T.TIMETZ, T.TIMESTAMP, T.TIMESTAMPTZ, T.INTERVAL, T.BOOLEAN,
        T.VARBINARY, T.UUID, T.JSON, T.JSONB,
    }
)  # fmt: skip
SERIALS = frozenset({T.SERIAL, T.BIGSERIAL, T.SMALLSERIAL})
SERIAL_NAMES = frozenset({"serial", "serial2", "serial4", "serial8", "bigserial", "smallserial"})
# Recorded as rejected on a real cluster [S23] (sqlglot enum members or user-defined names).
REJECTED = frozenset(
    {
        T.MONEY, T.XML, T.INET, T.POINT, T.POLYGON, T.IPADDRESS, T.IPPREFIX,
        T.INT4RANGE, T.INT8RANGE, T.NUMRANGE, T.TSRANGE, T.TSTZRANGE, T.DATERANGE, T.BIT,
        T.HSTORE, T.GEOMETRY, T.GEOGRAPHY, T.INT4MULTIRANGE, T.INT8MULTIRANGE,
        T.NUMMULTIRANGE, T.TSMULTIRANGE, T.TSTZMULTIRANGE, T.DATEMULTIRANGE,
    }
)  # fmt: skip
REJECTED_NAMES = frozenset(
    {"cidr", "macaddr", "macaddr8", "tsvector", "tsquery", "varbit", "bit varying", "pg_lsn",
     "line", "lseg", "box", "path", "polygon", "circle", "int4range", "int8range", "numrange",
     "tsrange", "tstzrange", "daterange"}
)  # fmt: skip
CHAR_MAX_BYTES = 4096
VARCHAR_MAX_BYTES = 65535


def type_name(dt: exp.DataType) -> str:
    """The type as the user wrote it, as far as sqlglot keeps it (``cidr``, ``integer``)."""
    kind = dt.args.get("kind")
    if dt.this is T.USERDEFINED and kind is not None:
        return str(kind.sql() if isinstance(kind, exp.Expr) else kind).lower()
    if isinstance(dt.this, str):
        return dt.this.lower()
    if dt.this is T.ARRAY:
        return dt.sql("postgres").lower()
    if dt.this not in ALLOWED:
        return str(dt.this.value).lower()
    return dt.sql("postgres").lower()


def _length(dt: exp.DataType) -> int | None:
    if not dt.expressions:
        return None
    first = dt.expressions[0]
    inner = first.this if isinstance(first, exp.DataTypeParam) else first
    if isinstance(inner, exp.Literal) and inner.is_int:
        return int(inner.this)
    return None


def check_datatype(dt: exp.DataType, *, column: bool = True) -> list[tuple[str, str]]:
    """(rule id, message) for each problem with a stored column of type ``dt``."""
    this = dt.this
    if this in ALLOWED:  # the common case: no need to render the type's name
        return _allowed_type_limits(dt, column=column)
    name = type_name(dt)
    if this in SERIALS or name in SERIAL_NAMES:
        return [("DSQL020", f"{name.upper()} column")]
    if this is T.ARRAY or name.endswith("[]"):
        return [("DSQL041", f"array column ({name})")]
    if this in REJECTED or name in REJECTED_NAMES:
        return [("DSQL042", f"{name} column is rejected by DSQL")]
    return [("DSQL040", f"{name} is not a DSQL column type")]


def _allowed_type_limits(dt: exp.DataType, *, column: bool) -> list[tuple[str, str]]:
    this = dt.this
    if this is T.DECIMAL and not dt.expressions and column:
        return [("DSQL046", "NUMERIC without precision is numeric(18,6) on DSQL")]
    length = _length(dt)
    if this is T.CHAR and length is not None and length > CHAR_MAX_BYTES:
        return [("DSQL047", f"char({length}) exceeds DSQL's {CHAR_MAX_BYTES}-byte limit")]
    if this is T.VARCHAR and length is not None and length > VARCHAR_MAX_BYTES:
        return [("DSQL047", f"varchar({length}) exceeds DSQL's {VARCHAR_MAX_BYTES}-byte limit")]
    return []


def check_type_text(text: str, dialect: str) -> list[tuple[str, str]]:
    """:func:`check_datatype` for a type written as text (domains, catalog columns)."""
    try:
        dt = exp.DataType.build(text.strip(), dialect=dialect, udt=True)
    except (SqlglotError, ValueError):
        return [("DSQL040", f"{text.strip()} is not a type DSQL knows")]
    return check_datatype(dt)
