"""Read a SQLite schema through its PRAGMA table-valued functions (parameters, never glued SQL)."""

from __future__ import annotations

import sqlite3
import string
from collections import defaultdict
from collections.abc import Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from harness.db import typemap as types
from harness.db.catalog import Catalog, Check, Column, ForeignKey, Index, Table, View


def read_catalog(conn: sqlite3.Connection) -> Catalog:
    """Every user table and view of the main database."""
    rows = conn.execute(
        "SELECT name, type, sql FROM sqlite_schema"
        " WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        " ORDER BY name"
    ).fetchall()
    tables = tuple(_table(conn, name, sql) for name, kind, sql in rows if kind == "table")
    views = tuple(
        View(name, tuple(c.name for c in _columns(conn, name, ())), sql or "")
        for name, kind, sql in rows
        if kind == "view"
    )
    return Catalog("sqlite", None, tables, views)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _declared(name: str, names: Iterable[str]) -> str:
    """``name`` as declared among ``names``: SQLite matches identifiers case-insensitively
    (ASCII letters only), so ``REFERENCES PARENT(ID)`` names ``parent.id``; a foreign key
    or an index expression keeps the spelling it was written in, the catalog does not."""
    folded = name.translate(_ASCII_LOWER)
    return next((n for n in names if n.translate(_ASCII_LOWER) == folded), name)


def _column_names(conn: sqlite3.Connection, table: str) -> list[str]:
    return [name for (name,) in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))]


def _columns(conn: sqlite3.Connection, table: str, primary_key: tuple[str, ...]) -> list[Column]:
    columns = []
    for cid, name, declared, notnull, default, _pk, hidden in conn.execute(
        'SELECT cid, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)',
        (table,),
    ):
        if hidden == 1:  # columns of virtual tables' internals, not user data
            continue
        columns.append(
            Column(
                name=name,
                declared_type=declared or "",
                type=types.parse(declared or "", "sqlite").name,
                # PostgreSQL makes key columns NOT NULL; SQLite only enforces it for INTEGER
                # PRIMARY KEY. Modelling keys as not-null keeps that quirk out of the diff.
                nullable=not notnull and name not in primary_key,
                default=default,
                position=cid + 1,
            )
        )
    return columns


def _checks(create: str | None, names: list[str]) -> tuple[Check, ...]:
    """The table's CHECKs, read from its ``CREATE TABLE`` text (SQLite keeps no other record
    of them), each with the columns it reads in their declared spelling; text it cannot
    parse yields none, so nothing is assumed about them."""
    try:
        tree = sqlglot.parse_one(create or "", read="sqlite")
    except (SqlglotError, ValueError):
        return ()
    found = []
    for check in tree.find_all(exp.CheckColumnConstraint, bfs=False):  # as written
        read = [_declared(c.name, names) for c in check.this.find_all(exp.Column)]
        owner = check.find_ancestor(exp.ColumnDef)
        if owner is not None:
            read.insert(0, _declared(owner.name, names))
        named = check.find_ancestor(exp.Constraint)
        columns = tuple(sorted(set(read), key=names.index if set(read) <= set(names) else str))
        found.append(Check(columns, check.this.sql("sqlite"), named.name if named else None))
    return tuple(found)


def _table(conn: sqlite3.Connection, name: str, create: str | None) -> Table:
    pk_rows = conn.execute(
        "SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (name,)
    ).fetchall()
    primary_key = tuple(col for col, _ in pk_rows)
    uniques: list[tuple[str, ...]] = []
    indexes: list[Index] = []
    for index_name, unique, origin, partial in conn.execute(
        'SELECT name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY name', (name,)
    ):
        cols = tuple(
            col
            for (col,) in conn.execute(
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (index_name,)
            )
        )
        if origin == "pk":
            continue
        if origin == "u":
            uniques.append(cols)  # constraints name plain columns, never expressions
        elif None in cols or partial:
            indexes.append(_parsed_index(conn, name, index_name, bool(unique)))
        else:
            indexes.append(Index(index_name, cols, bool(unique)))
    return Table(
        name=name,
        columns=tuple(_columns(conn, name, primary_key)),
        primary_key=primary_key,
        unique_constraints=tuple(uniques),
        foreign_keys=_foreign_keys(conn, name),
        indexes=tuple(indexes),
        checks=_checks(create, _column_names(conn, name)),
    )


def _foreign_keys(conn: sqlite3.Connection, table: str) -> tuple[ForeignKey, ...]:
    grouped: dict[int, list[tuple[str, str, str | None]]] = defaultdict(list)
    for fk_id, ref_table, src, dst in conn.execute(
        'SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq',
        (table,),
    ):
        grouped[fk_id].append((ref_table, src, dst))
    tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
    keys = []
    for parts in grouped.values():
        ref_table = _declared(parts[0][0], tables)
        ref_names = _column_names(conn, ref_table)
        ref_columns = tuple(_declared(dst, ref_names) for _, _, dst in parts if dst is not None)
        if not ref_columns:  # "REFERENCES parent" without columns means the parent's key
            ref_columns = tuple(
                col
                for (col,) in conn.execute(
                    "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (ref_table,)
                )
            )
        keys.append(ForeignKey(None, tuple(src for _, src, _ in parts), ref_table, ref_columns))
    return tuple(sorted(keys, key=lambda k: (k.columns, k.ref_table)))


def _parsed_index(conn: sqlite3.Connection, table: str, name: str, unique: bool) -> Index:
    """An expression or partial index: SQLite keeps only its SQL text, so parse that; its
    columns take their declared names (SQLite matched them case-insensitively)."""
    (text,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
    ).fetchone()
    params = sqlglot.parse_one(text, read="sqlite").this.args["params"]
    names = _column_names(conn, table)
    for column in params.find_all(exp.Column):
        declared = _declared(column.name, names)
        if declared != column.name:
            column.set("this", exp.to_identifier(declared, quoted=True))
    keys = [key.this if isinstance(key, exp.Ordered) else key for key in params.args["columns"]]
    where = params.args.get("where")
    return Index(
        name,
        tuple(k.name if isinstance(k, exp.Column) else k.sql("sqlite") for k in keys),
        unique,
        predicate=where.this.sql("sqlite") if where is not None else None,
        expressions=tuple(i for i, k in enumerate(keys) if not isinstance(k, exp.Column)),
    )
