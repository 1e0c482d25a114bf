"""Parameter sets for a query: the fixed ones, or values drawn from the plan's strategies.

Drawing uses one ``random.Random`` seeded with the section's seed and the query's name, so
every run (and every pytest-xdist worker) draws the same values and a failure can be replayed;
a new seed explores new values. Column samples are the source's distinct non-NULL values in
sorted order, so the draw does not depend on the order the database returns rows in.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from harness.db.database import Database, PostgresDatabase, SqliteDatabase
from harness.errors import CheckError, PlanError, did_you_mean
from harness.queries.corpus import QuerySpec
from harness.queries.infer import infer
from harness.queries.settings import (
    ChoiceParam,
    ColumnParam,
    DateParam,
    IntegerParam,
    ParamStrategy,
    QuerySettings,
)

COLUMN_SAMPLE_CAP = 10_000
"""Distinct column values a draw chooses from (the first ones in sort order)."""


def draw(spec: QuerySpec, settings: QuerySettings, source: Database) -> list[dict[str, Any]]:
    """The parameter sets of ``spec``: its fixed ones, else drawn from its strategies and,
    for parameters the plan gives nothing for, from the columns they stand for."""
    generate = dict(spec.query.generate)
    if spec.infer:
        written = settings.dialect or source.dialect
        text = spec.query.dialects.get(written) or spec.query.sql or ""  # type: ignore[call-overload]
        key = f"queries.sites.{spec.name}" if spec.site else f"queries.corpus.{spec.name}"
        generate |= infer(
            text,
            written,
            set(spec.infer),
            source.catalog(),
            largest=lambda table, column: largest(source, table, column),
            key=key,
        )
    return param_sets(
        spec.name,
        fixed=spec.fixed,
        generate=generate,
        samples=spec.query.samples or settings.samples,
        seed=settings.seed,
        source=source,
    )


def param_sets(
    name: str,
    *,
    fixed: tuple[dict[str, Any], ...],
    generate: dict[str, ParamStrategy],
    samples: int,
    seed: int,
    source: Database,
) -> list[dict[str, Any]]:
    """The parameter sets a query runs with: the fixed ones, else ``samples`` drawn ones."""
    if fixed:
        return [dict(p) for p in fixed]
    if not generate:
        return [{}]
    rng = random.Random(f"{seed}:{name}")
    pools = {key: _pool(name, key, strategy, source) for key, strategy in sorted(generate.items())}
    return [{key: draw(rng) for key, draw in pools.items()} for _ in range(samples)]


def _pool(query: str, key: str, strategy: ParamStrategy, source: Database) -> Any:
    if isinstance(strategy, IntegerParam):
        low, high = strategy.min, strategy.max
        return lambda rng: rng.randint(low, high)
    if isinstance(strategy, ChoiceParam):
        values = list(strategy.values)
        return lambda rng: rng.choice(values)
    if isinstance(strategy, DateParam):
        start, days = strategy.start, (strategy.end - strategy.start).days
        return lambda rng: (start + timedelta(days=rng.randint(0, days))).isoformat()
    assert isinstance(strategy, ColumnParam)
    values = column_values(query, key, strategy.column, source)
    return lambda rng: rng.choice(values)


def column_values(query: str, key: str, column: str, source: Database) -> list[Any]:
    """Distinct non-NULL values of ``table.column`` on the source, sorted, capped."""
    table_name, column_name = column.split(".")
    where = f"queries.corpus.{query}.generate.{key}.column"
    catalog = source.catalog()
    table = catalog.table(table_name)
    if table is None:
        hint = did_you_mean(table_name, catalog.table_names)
        raise PlanError(f"no table '{table_name}' on the source.{hint}", key=where)
    if table.column(column_name) is None:
        hint = did_you_mean(column_name, [c.name for c in table.columns])
        raise PlanError(f"no column '{column_name}' in {table_name}.{hint}", key=where)
    values = _distinct(source, table.name, column_name)
    if not values:
        raise PlanError(f"{column} has no non-NULL values to sample on the source", key=where)
    return values


def largest(source: Database, table: str, column: str) -> Any:
    """The source's largest value of ``table.column`` (None for an empty table)."""
    if isinstance(source, SqliteDatabase):
        t, c = source._ident(table), source._ident(column)
        return source._one(f"SELECT max({c}) FROM {t}")[0]  # noqa: S608
    assert isinstance(source, PostgresDatabase)
    from psycopg import sql

    query = sql.SQL("SELECT max({c}) FROM {t}").format(
        c=sql.Identifier(column), t=sql.Identifier(source.schema, table)
    )
    return source._one(query)[0]


def _distinct(source: Database, table: str, column: str) -> list[Any]:
    if isinstance(source, SqliteDatabase):
        t, c = source._ident(table), source._ident(column)
        text = f"SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY 1 LIMIT ?"  # noqa: S608
        try:
            return [row[0] for row in source.conn.execute(text, (COLUMN_SAMPLE_CAP,))]
        except Exception as exc:
            raise CheckError(f"{source.display}: {exc}") from None
    assert isinstance(source, PostgresDatabase)
    from psycopg import Error, sql

    query = sql.SQL(
        "SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY 1 LIMIT %s"
    ).format(c=sql.Identifier(column), t=sql.Identifier(source.schema, table))
    try:
        return [row[0] for row in source.conn.execute(query, (COLUMN_SAMPLE_CAP,))]
    except Error as exc:
        raise CheckError(f"{source.display}: {str(exc).strip().splitlines()[0]}") from None
