"""SQL fragments carried across dialects: index expressions and partial-index predicates.

The schema check compares them and the SQLite copier recreates them, so both need the same
spelling: PostgreSQL syntax, target column names.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp


def postgres_expression(
    text: str, dialect: str, column: Callable[[str], str], *, quote: bool = False
) -> str:
    """An index expression or predicate as PostgreSQL would write it, with target column
    names; the casts and parentheses PostgreSQL adds around plain columns are dropped, so
    SQLite's ``lower(x)`` and PostgreSQL's ``lower((x)::text)`` read the same. ``quote``
    quotes the column names, for DDL (mixed-case names must survive)."""
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError:
        return text

    def simplify(node: exp.Expression) -> exp.Expression:
        inner = node.unnest() if isinstance(node, exp.Paren) else node
        if isinstance(inner, exp.Cast) and isinstance(inner.this.unnest(), exp.Column):
            inner = inner.this.unnest()
        if isinstance(inner, exp.Column):
            return exp.column(column(inner.name), quoted=quote)
        return node

    tree = tree.unnest().transform(simplify)
    return tree.sql("postgres")
