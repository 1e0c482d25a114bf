"""Read a PostgreSQL schema from ``pg_catalog``.

Only catalog relations and ``pg_get_*`` functions that a non-superuser can read on RDS,
Aurora and DSQL are used (no ``pg_authid``, no ``pg_statistic``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import psycopg
from psycopg import sql

from harness.db import typemap as types
from harness.db.catalog import Catalog, Check, Column, ForeignKey, Index, Table, View

_RELATIONS = """
SELECT c.oid, c.relname, c.relkind, CASE WHEN c.relkind IN ('v', 'm')
       THEN pg_get_viewdef(c.oid, true) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm')
ORDER BY c.relname
"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attnum, a.attidentity, a.atttypid, t.typtype,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
       ARRAY(SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k
             WHERE k.contypid = t.oid AND k.contype = 'c' ORDER BY k.conname)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %(schema)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_CONSTRAINTS = """
SELECT k.conrelid, k.conname, k.contype, k.conindid, r.relname,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i),
       CASE WHEN k.contype = 'c' THEN pg_get_constraintdef(k.oid) END
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class r ON r.oid = k.confrelid
WHERE n.nspname = %(schema)s AND k.contype IN ('p', 'u', 'f', 'c')
ORDER BY k.conrelid, k.conname
"""

# Only asked when the schema has enum columns: Aurora DSQL has no enums, so a DSQL side never
# reads pg_enum.
_ENUM_LABELS = """
SELECT enumtypid::bigint, array_agg(enumlabel::text ORDER BY enumsortorder)
FROM pg_enum WHERE enumtypid::bigint = ANY(%s) GROUP BY enumtypid
"""

# A key column is its name from pg_attribute, as everywhere else in the catalog:
# pg_get_indexdef quotes names that need it ("Code", "order"), which would then never equal
# the same column read from SQLite or from a constraint. Expression keys keep its SQL text.
_INDEXES = """
SELECT i.indrelid, x.relname, i.indisunique, pg_get_expr(i.indpred, i.indrelid, true),
       i.indexrelid,
       ARRAY(SELECT CASE WHEN i.indkey[k - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k, true)
                         ELSE (SELECT a.attname::text FROM pg_attribute a
                               WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1])
                    END
             FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k),
       ARRAY(SELECT k - 1 FROM generate_series(1, i.indnkeyatts) AS k
             WHERE i.indkey[k - 1] = 0 ORDER BY k)
FROM pg_index i
JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_namespace n ON n.oid = x.relnamespace
WHERE n.nspname = %(schema)s AND NOT i.indisprimary
ORDER BY i.indrelid, x.relname
"""


def read_catalog(conn: psycopg.Connection[Any], schema: str) -> Catalog:
    """Every table, partitioned table, view and materialized view in ``schema``.

    The four catalog queries go as one simple-protocol query (the schema as a literal: the
    simple protocol has no parameters), answered in one round trip: over a link to Aurora or
    DSQL each statement would cost a round trip of its own. A schema with enum columns costs
    one more, for their labels.
    """
    script = sql.SQL(";").join(
        sql.SQL(query.replace("%(schema)s", "{schema}")).format(schema=sql.Literal(schema))
        for query in (_RELATIONS, _COLUMNS, _CONSTRAINTS, _INDEXES)
    )
    cursor = conn.execute(script)
    answers = [cursor.fetchall()]
    while cursor.nextset():
        answers.append(cursor.fetchall())
    relations, column_rows, constraint_rows, index_rows = answers
    checks: dict[int, list[Check]] = defaultdict(list)
    primary: dict[int, tuple[str, ...]] = {}
    uniques: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    foreign: dict[int, list[ForeignKey]] = defaultdict(list)
    constraint_indexes: set[int] = set()
    for relid, name, kind, index_oid, ref_table, cols, ref_cols, check in constraint_rows:
        if kind == "p":
            primary[relid] = tuple(cols)
        elif kind == "u":
            uniques[relid].append(tuple(cols))
            constraint_indexes.add(index_oid)
        elif kind == "f":
            foreign[relid].append(ForeignKey(name, tuple(cols), ref_table, tuple(ref_cols)))
        else:
            checks[relid].append(Check(tuple(cols), check_expression(check), name))
    enum_types = {row[7] for row in column_rows if row[8] == "e"}
    labels: dict[int, tuple[str, ...]] = (
        {oid: tuple(found) for oid, found in conn.execute(_ENUM_LABELS, (sorted(enum_types),))}
        if enum_types
        else {}
    )
    columns: dict[int, list[Column]] = defaultdict(list)
    for row in column_rows:
        relid, name, declared, notnull, default, num, identity, type_oid, _, base, domain = row
        if identity:
            default = (
                "generated by default as identity"
                if identity == "d"
                else "generated always as identity"
            )
        columns[relid].append(
            Column(
                name,
                declared,
                types.parse(declared, "postgres").name,
                not notnull,
                default,
                num,
                labels=labels.get(type_oid, ()),
                domain_checks=tuple(check_expression(d) for d in domain),
                base_type=base,
            )
        )
    indexes: dict[int, list[Index]] = defaultdict(list)
    for relid, name, unique, predicate, index_oid, cols, exprs in index_rows:
        if index_oid not in constraint_indexes:  # already listed as a unique constraint
            indexes[relid].append(Index(name, tuple(cols), unique, predicate, tuple(exprs)))
    tables, views = [], []
    for oid, name, kind, definition in relations:
        if kind in ("v", "m"):
            views.append(View(name, tuple(c.name for c in columns[oid]), definition or ""))
            continue
        tables.append(
            Table(
                name=name,
                columns=tuple(columns[oid]),
                primary_key=primary.get(oid, ()),
                unique_constraints=tuple(uniques[oid]),
                foreign_keys=tuple(sorted(foreign[oid], key=lambda k: (k.columns, k.ref_table))),
                indexes=tuple(indexes[oid]),
                checks=tuple(checks[oid]),
            )
        )
    return Catalog("postgres", schema, tuple(tables), tuple(views))


def check_expression(definition: str) -> str:
    """The expression of ``pg_get_constraintdef``'s ``CHECK (…) [NOT VALID]``."""
    text = definition.strip()
    text = text.removesuffix(" NOT VALID").strip()
    return text.removeprefix("CHECK").strip()
