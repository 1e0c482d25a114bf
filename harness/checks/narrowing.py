"""Which source values a narrower target type would change: the test the schema check counts.

A value survives a move when, written into the target type, it compares equal to itself as
row parity compares values (:func:`harness.rows.canon.domain`): so a numeric(10,2) keeps
``19.99`` but not ``19.999``, a ``real`` keeps ``0.5`` but not ``1/3`` (at the plan's
``float_digits``), a varchar(5) keeps ``'abc'``, a timestamp(0) drops ``.25`` seconds and a
timestamp without time zone an offset. Counting happens inside the source database: a
PostgreSQL source casts every value itself; a SQLite source has no PostgreSQL types, so a
model of PostgreSQL's input runs there as a function (:mod:`harness.rows.stored`).
"""

from __future__ import annotations

from psycopg import sql

from harness.db.database import Database, FitReport, PostgresDatabase, Unfit
from harness.db.typemap import TypeInfo
from harness.rows import canon, stored

FLOAT4_MAX = "3.4028234663852886e38"
FLOAT4_MIN = "1.401298464324817e-45"  # below half of it a real underflows to an error

# Casts that can fail on a PostgreSQL source are guarded by the range they need, so a value
# out of it counts as unfit instead of failing the check's query.
_CASTABLE = frozenset(
    {"integer", "numeric", "float", "text", "timestamp", "timestamptz", "date", "time"}
)


def fit(
    db: Database,
    table: str,
    column: str,
    source: TypeInfo,
    target: TypeInfo,
    options: canon.CanonOptions,
) -> FitReport | None:
    """How many of the column's values a move into ``target`` would change; None where no
    test exists (a PostgreSQL source's text cast to a number, a time, a uuid)."""
    unfit = (
        _unfit(column, source, target, options)
        if isinstance(db, PostgresDatabase)
        else stored.would_change(source, target, options)
    )
    return None if unfit is None else db.fit(table, column, unfit)


def _unfit(
    column: str, source: TypeInfo, target: TypeInfo, options: canon.CanonOptions
) -> Unfit | None:
    numbers = ("integer", "numeric", "float")
    if target.family not in _CASTABLE or source.family not in _CASTABLE:
        return None
    if source.family == "text" and target.family != "text":
        return None  # text into a number or a time: no cast is safe on every server
    if (source.family in numbers) != (target.family in numbers):
        return None
    compared = canon.domain(source, target)
    c = sql.Identifier(column)
    before = sql.SQL(canon.sql("{c}", compared, options)).format(c=c)
    # TypeInfo names are PostgreSQL's spelling of the type (numeric(10,2), timestamp(0), real)
    after = sql.SQL(canon.sql("{c}::{t}", compared, options)).format(c=c, t=sql.SQL(target.name))
    guard = _out_of_range(c, source, target)
    return sql.SQL(
        "(CASE WHEN {c} IS NULL THEN false WHEN {g} THEN true ELSE {a} IS DISTINCT FROM {b} END)"
    ).format(c=c, g=guard, a=after, b=before)


def _out_of_range(c: sql.Composable, source: TypeInfo, target: TypeInfo) -> sql.Composable:
    """A condition true for values the cast to ``target`` would refuse."""
    numeric = source.family in ("integer", "numeric", "float")
    if target.family == "integer" and numeric:
        bound = 2 ** ((target.bits or 64) - 1)
        return sql.SQL("NOT ({c}::numeric >= {lo} AND {c}::numeric < {hi})").format(
            c=c, lo=sql.Literal(-bound), hi=sql.Literal(bound)
        )
    if target.family == "numeric" and target.precision is not None and numeric:
        scale = target.scale or 0
        return sql.SQL("NOT (abs(round({c}::numeric, {s})) < {b})").format(
            c=c, s=sql.Literal(scale), b=sql.SQL(f"1e{target.precision - scale}")
        )
    if target.family == "float" and target.bits == 24 and numeric:
        x = sql.SQL("{}::float8").format(c)
        return sql.SQL(
            "({x} <> 'NaN' AND abs({x}) <> 'Infinity'"
            f" AND (abs({{x}}) > {FLOAT4_MAX} OR ({{x}} <> 0 AND abs({{x}}) < {FLOAT4_MIN})))"
        ).format(x=x)
    return sql.SQL("false")
