"""Parameters the plan gives no values for, drawn from the columns they stand for.

A query taken from application code (``queries.from``) arrives with no parameter values. The
value each placeholder stands for is read off sqlglot's tree: the column it is compared with
(``WHERE s.name = $1``, ``IN (…)``, ``BETWEEN``, ``LIKE``), the column it is assigned to
(``SET total = $2``) or inserted into (``INSERT INTO t (a, b) VALUES ($1, $2)``), or a small
row count for ``LIMIT``/``OFFSET``. A compared or assigned column's values are sampled from the
source (:class:`~harness.queries.settings.ColumnParam`); a value inserted into an integer
primary key is drawn above the source's largest, so the rolled-back insert does not collide
with a row that is there. A placeholder with nothing to go by is a plan error naming it, and
saying how to give values.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from harness.db.catalog import Catalog
from harness.errors import PlanError
from harness.queries.settings import ColumnParam, IntegerParam, ParamStrategy

ROW_COUNTS = IntegerParam(kind="integers", min=1, max=20)
"""What a ``LIMIT`` placeholder is drawn from (``OFFSET``: from 0)."""
FRESH_KEYS = 1000
"""Integer keys drawn above the source's largest for an inserted primary key."""

_COMPARE = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike)
# What a placeholder may sit inside and still stand for the column's values (a LIKE prefix
# written ``$1 || '%'`` is still drawn from the column).
_WRAPPERS = (exp.Cast, exp.Paren, exp.Lower, exp.Upper, exp.Trim, exp.TryCast, exp.DPipe)


def infer(
    text: str,
    dialect: str,
    names: set[str],
    catalog: Catalog,
    *,
    largest: Any,
    key: str,
) -> dict[str, ParamStrategy]:
    """A strategy for each of ``names`` used in ``text`` (spelled ``:name``); ``largest(table,
    column)`` is the source's largest value of an integer column. :class:`PlanError` at
    ``key`` for a placeholder whose column cannot be told."""
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except SqlglotError:
        raise PlanError(
            "cannot generate parameter values for a query sqlglot cannot parse; give 'params'",
            key=key,
        ) from None
    tables = {t.alias_or_name: t.name for t in tree.find_all(exp.Table)}
    out: dict[str, ParamStrategy] = {}
    unknown: list[str] = []
    for node in tree.find_all(exp.Placeholder):
        name = node.name
        if name not in names or name in out:
            continue
        strategy = _strategy(node, tables, catalog, largest)
        if strategy is None:
            unknown.append(name)
        else:
            out[name] = strategy
    missing = sorted((names - set(out)) | set(unknown))
    if missing:
        raise PlanError(
            f"cannot tell which column {', '.join(':' + n for n in missing)} stands for "
            "(it is not compared with, assigned to or inserted into a column of a source "
            "table); give 'params' or 'generate'",
            key=key,
        )
    return out


def _strategy(
    node: exp.Placeholder, tables: dict[str, str], catalog: Catalog, largest: Any
) -> ParamStrategy | None:
    child: exp.Expr = node
    parent = node.parent
    while isinstance(parent, _WRAPPERS):
        child, parent = parent, parent.parent
    if isinstance(parent, exp.Limit | exp.Offset | exp.Fetch):
        low = 0 if isinstance(parent, exp.Offset) else 1
        return IntegerParam(kind="integers", min=low, max=ROW_COUNTS.max)
    column: exp.Column | None = None
    if isinstance(parent, _COMPARE):
        other = parent.expression if parent.this is child else parent.this
        column = _column(other)
    elif isinstance(parent, exp.In | exp.Between) and parent.this is not child:
        column = _column(parent.this)
    elif isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Values):
        return _inserted(parent, child, catalog, largest)
    if column is None:
        return None
    table = _table_of(column, tables, catalog)
    if table is None:
        return None
    return ColumnParam(kind="column", column=f"{table}.{column.name}")


def _column(node: exp.Expr | None) -> exp.Column | None:
    while isinstance(node, _WRAPPERS):
        node = node.this
    return node if isinstance(node, exp.Column) else None


def _table_of(column: exp.Column, tables: dict[str, str], catalog: Catalog) -> str | None:
    if column.table:
        name = tables.get(column.table)
        found = catalog.table(name) if name else None
        return found.name if found is not None and found.column(column.name) else None
    owners = [
        t
        for t in dict.fromkeys(tables.values())
        if (found := catalog.table(t)) is not None and found.column(column.name) is not None
    ]
    return owners[0] if len(owners) == 1 else None


def _inserted(
    row: exp.Tuple, child: exp.Expr, catalog: Catalog, largest: Any
) -> ParamStrategy | None:
    insert = row.find_ancestor(exp.Insert)
    if insert is None or not isinstance(insert.this, exp.Schema):
        return None
    target = insert.this.this
    table = catalog.table(target.name) if isinstance(target, exp.Table) else None
    if table is None:
        return None
    position = next((i for i, e in enumerate(row.expressions) if e is child), None)
    names = [c.name for c in insert.this.expressions]
    if position is None or position >= len(names):
        return None
    column = table.column(names[position])
    if column is None:
        return None
    if column.name in table.primary_key and _integer(column.type):
        top = int(largest(table.name, column.name) or 0)
        return IntegerParam(kind="integers", min=top + 1, max=top + FRESH_KEYS)
    return ColumnParam(kind="column", column=f"{table.name}.{column.name}")


def _integer(type_text: str) -> bool:
    return type_text.split("(")[0] in {"integer", "int", "bigint", "smallint", "int4", "int8"}
