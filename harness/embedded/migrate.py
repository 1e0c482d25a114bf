"""Copy a SQLite database into a PostgreSQL database the harness created.

This is the migration the demo performs and what an ``embedded`` endpoint's ``{sqlite: FILE}``
load step does: tables with types mapped through :mod:`harness.db.typemap`, primary keys, NOT NULL,
defaults, rows (COPY), then unique constraints, indexes, foreign keys and CHECKs. It writes only to
the database it is given, which must be one the harness provisioned.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import sqlglot
from psycopg import sql
from sqlglot import exp

from harness.db import typemap as types
from harness.db.catalog import Column, Table
from harness.db.introspect.sqlite import read_catalog
from harness.db.sqltext import postgres_expression
from harness.endpoints.sqlite_file import open_read_only
from harness.errors import ProvisionError
from harness.plan.naming import POLICIES

Progress = Callable[[str, int, int], None]


def copy_sqlite(
    source: Path, target_dsn: str, *, naming: str = "none", progress: Progress | None = None
) -> dict[str, int]:
    """Copy every table of ``source``; return rows copied per (target) table."""
    rename = POLICIES[naming]
    src = open_read_only(Path(source).resolve(), "target.load")  # writes nothing beside it
    try:
        catalog = read_catalog(src)
    except sqlite3.Error as exc:
        src.close()
        raise ProvisionError(f"cannot read SQLite file {source}: {exc}") from None
    counts: dict[str, int] = {}
    try:
        with psycopg.connect(target_dsn) as conn:
            for table in catalog.tables:
                conn.execute(_create_table(table, rename))
            for table in catalog.tables:
                counts[rename(table.name)] = _copy_rows(src, conn, table, rename, progress)
            for table in catalog.tables:
                for statement in _constraints(table, rename):
                    conn.execute(statement)
                for check in _checks(table, rename):
                    # A CHECK in SQLite's own words (typeof(x) = 'text') may not read on
                    # PostgreSQL: that one stays behind, and the schema check says it is missing.
                    with contextlib.suppress(psycopg.Error), conn.transaction():
                        conn.execute(check)
            for view in catalog.views:
                conn.execute(_create_view(view.definition, rename))
    except psycopg.Error as exc:
        raise ProvisionError(f"copying {source} into PostgreSQL: {exc}".splitlines()[0]) from None
    finally:
        src.close()
    return counts


def _pg_type(column: Column) -> str:
    info = types.parse(column.declared_type, "sqlite")
    return info.name if info.family != "other" else "text"


def _default(column: Column) -> sql.SQL | None:
    if column.default is None:
        return None
    family = types.parse(column.declared_type, "sqlite").family
    text = column.default.strip()
    if family == "boolean" and text in ("0", "1"):
        return sql.SQL("true" if text == "1" else "false")
    # SQLite defaults are literals or CURRENT_TIMESTAMP-style keywords, which PostgreSQL
    # reads the same way; they come from the file the harness was told to copy.
    return sql.SQL(text)


def _create_table(table: Table, rename: Callable[[str], str]) -> sql.Composed:
    parts: list[sql.Composable] = []
    for column in table.columns:
        piece = sql.SQL("{} {}").format(
            sql.Identifier(rename(column.name)), sql.SQL(_pg_type(column))
        )
        if not column.nullable:
            piece = sql.SQL("{} NOT NULL").format(piece)
        default = _default(column)
        if default is not None:
            piece = sql.SQL("{} DEFAULT {}").format(piece, default)
        parts.append(piece)
    if table.primary_key:
        parts.append(
            sql.SQL("PRIMARY KEY ({})").format(
                sql.SQL(", ").join(sql.Identifier(rename(c)) for c in table.primary_key)
            )
        )
    return sql.SQL("CREATE TABLE {} ({})").format(
        sql.Identifier(rename(table.name)), sql.SQL(", ").join(parts)
    )


def _converter(column: Column) -> Callable[[Any], Any]:
    family = types.parse(column.declared_type, "sqlite").family
    if family == "boolean":
        return lambda v: v if v is None else bool(v)
    if family in ("timestamp", "timestamptz", "date", "time", "numeric", "float", "integer"):
        return lambda v: v if v is None else str(v)  # PostgreSQL parses SQLite's text forms
    if family == "bytes":
        return lambda v: v if v is None or isinstance(v, bytes) else str(v).encode()
    return lambda v: v if v is None or isinstance(v, str) else str(v)


def _copy_rows(
    src: sqlite3.Connection,
    conn: psycopg.Connection[Any],
    table: Table,
    rename: Callable[[str], str],
    progress: Progress | None,
) -> int:
    names = [c.name for c in table.columns]
    convert = [_converter(c) for c in table.columns]
    quoted = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
    total = src.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]  # noqa: S608
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(rename(table.name)),
        sql.SQL(", ").join(sql.Identifier(rename(n)) for n in names),
    )
    done = 0
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        rows = src.execute(f'SELECT {quoted} FROM "{table.name}"')  # noqa: S608
        for row in rows:
            copy.write_row([f(v) for f, v in zip(convert, row, strict=True)])
            done += 1
            if progress and done % 50_000 == 0:
                progress(rename(table.name), done, total)
    if progress:
        progress(rename(table.name), done, total)
    return done


def _create_view(definition: str, rename: Callable[[str], str]) -> sql.SQL:
    """Transpile a SQLite CREATE VIEW to PostgreSQL, renaming tables and columns on the way."""
    try:
        tree = sqlglot.parse_one(definition, read="sqlite")
    except sqlglot.errors.ParseError as exc:
        raise ProvisionError(f"cannot read view definition {definition[:60]!r}: {exc}") from None
    for node in tree.find_all(exp.Table, exp.Column):
        node.set("this", exp.to_identifier(rename(node.name), quoted=True))
    # The statement text comes from the SQLite file being copied, re-rendered by sqlglot.
    return sql.SQL(tree.sql(dialect="postgres"))


def _checks(table: Table, rename: Callable[[str], str]) -> list[sql.Composed]:
    # The expression comes from the SQLite file being copied, re-rendered by sqlglot.
    return [
        sql.SQL("ALTER TABLE {} ADD CHECK ({})").format(
            sql.Identifier(rename(table.name)),
            sql.SQL(postgres_expression(check.expression, "sqlite", rename, quote=True)),
        )
        for check in table.checks
    ]


def _constraints(table: Table, rename: Callable[[str], str]) -> list[sql.Composed]:
    name = sql.Identifier(rename(table.name))

    def cols(columns: tuple[str, ...]) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(rename(c)) for c in columns)

    out = [
        sql.SQL("ALTER TABLE {} ADD UNIQUE ({})").format(name, cols(u))
        for u in table.unique_constraints
    ]
    for index in table.indexes:
        keys = sql.SQL(", ").join(
            sql.SQL(f"({postgres_expression(key, 'sqlite', rename, quote=True)})")
            if i in index.expressions
            else sql.Identifier(rename(key))
            for i, key in enumerate(index.columns)
        )
        where = (
            sql.SQL(" WHERE " + postgres_expression(index.predicate, "sqlite", rename, quote=True))
            if index.predicate
            else sql.SQL("")
        )
        out.append(
            sql.SQL("CREATE {}INDEX {} ON {} ({}){}").format(
                sql.SQL("UNIQUE " if index.unique else ""),
                sql.Identifier(rename(index.name)),
                name,
                keys,
                where,
            )
        )
    for fk in table.foreign_keys:
        out.append(
            sql.SQL("ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES {} ({})").format(
                name, cols(fk.columns), sql.Identifier(rename(fk.ref_table)), cols(fk.ref_columns)
            )
        )
    return out
