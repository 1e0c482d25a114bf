"""SQL fragments carried across dialects: index expressions, partial-index predicates and
view queries.

The schema check compares them and the SQLite copier recreates them, so both need the same
spelling: PostgreSQL syntax, target column names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.schema import MappingSchema

from harness.db import typemap as types


def postgres_expression(
    text: str, dialect: str, column: Callable[[str], str], *, quote: bool = False
) -> str:
    """An index expression or predicate as PostgreSQL would write it, with target column
    names; the casts and parentheses PostgreSQL adds around plain columns are dropped, so
    SQLite's ``lower(x)`` and PostgreSQL's ``lower((x)::text)`` read the same. Column names
    are compared as names, however each side quoted them, and quoted where PostgreSQL needs
    it (``"Code"``, ``"order"``); ``quote`` quotes them all, for DDL."""
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError:
        return text

    def simplify(node: exp.Expression) -> exp.Expression:
        inner = node.unnest() if isinstance(node, exp.Paren) else node
        if isinstance(inner, exp.Cast) and isinstance(inner.this.unnest(), exp.Column):
            inner = inner.this.unnest()
        if isinstance(inner, exp.Column):
            name = column(inner.name)
            return exp.column(name, quoted=quote or needs_quotes(name))
        return node

    tree = tree.unnest().transform(simplify)
    return tree.sql("postgres")


_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")
_RESERVED_WORDS = """
all analyse analyze and any array as asc asymmetric authorization binary both case cast check
collate collation column concurrently constraint create cross current_catalog current_date
current_role current_schema current_time current_timestamp current_user default deferrable desc
distinct do else end except false fetch for foreign freeze from full grant group having ilike in
initially inner intersect into is isnull join lateral leading left like limit localtime
localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
references returning right select session_user similar some symmetric system_user table
tablesample then to trailing true union unique user using variadic verbose when where window with
"""
_RESERVED = frozenset(_RESERVED_WORDS.split())
"""PostgreSQL 16's reserved key words (appendix C), which a column name must be quoted as."""


def needs_quotes(name: str) -> bool:
    """Whether PostgreSQL reads ``name`` only when quoted (upper case, symbols, key words)."""
    return _PLAIN_NAME.fullmatch(name) is None or name in _RESERVED


Relations = Mapping[str, Mapping[str, str]]
"""Tables and views by name, each its columns by name with their type family (:mod:`typemap`);
an empty family when unknown (a view's columns)."""

_IMPLICIT_WIDENINGS = {
    ("integer", "numeric"),
    ("integer", "float"),
    ("date", "timestamp"),
    ("date", "timestamptz"),
    ("timestamp", "timestamptz"),
}
"""Casts PostgreSQL adds itself when it stores a view (``(int_col)::numeric > 1.5``)."""


def _same(name: str) -> str:
    return name


def _same_column(_table: str, name: str) -> str:
    return name


def view_query(
    definition: str,
    dialect: str,
    relations: Relations,
    *,
    schema: str | None = None,
    table: Callable[[str], str] = _same,
    column: Callable[[str, str], str] = _same_column,
    projection: bool = True,
) -> str:
    """A view's query in one spelling for both dialects, to compare a view with its copy.

    ``definition`` is what the database keeps: SQLite the whole ``CREATE VIEW`` as written,
    PostgreSQL its re-rendering of the query (every column table-qualified, casts and
    parentheses added, ``IN (…)`` as ``= ANY (ARRAY[…])``, ``BETWEEN`` as two comparisons).
    The query is read in ``dialect``, columns are resolved against ``relations`` with
    sqlglot's qualifier (identifiers compared as names: quoted or not, and case-insensitively
    on SQLite), tables and columns take the names ``table`` and ``column`` give them, table
    aliases become canonical (``_0``, ``_1`` …), and the parentheses, casts and spellings the
    server adds are normalised away; the result is rendered fully parenthesised, so two
    definitions compare equal exactly when their normalised trees do. ``projection=False``
    leaves the top-level select list out (compared as the view's columns instead).

    Raises ValueError when the text cannot be read or resolved.
    """
    try:
        tree = sqlglot.parse_one(definition.strip().rstrip(";"), read=dialect)
    except sqlglot.errors.SqlglotError as exc:
        raise ValueError(f"cannot parse it: {_first_line(exc)}") from None
    if isinstance(tree, exp.Create):
        tree = tree.expression
    if not isinstance(tree, exp.Query):
        raise ValueError("it is not a query")
    fold: Callable[[str], str] = str.lower if dialect == "sqlite" else _same
    known = {
        fold(name): (name, {fold(c): (c, family) for c, family in columns.items()})
        for name, columns in relations.items()
    }
    try:
        return _normalised(tree, dialect, known, schema, table, column, projection)
    except Exception as exc:  # sqlglot on SQL it half-understands: never taken as a match
        raise ValueError(f"cannot normalise it: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _normalised(
    tree: exp.Query,
    dialect: str,
    known: dict[str, tuple[str, dict[str, tuple[str, str]]]],
    schema: str | None,
    table: Callable[[str], str],
    column: Callable[[str, str], str],
    projection: bool,
) -> str:
    layout: dict[str, object] = {
        key: dict.fromkeys(columns, "text") for key, (_, columns) in known.items()
    }
    tree = qualify(
        tree,
        dialect=dialect,
        schema=MappingSchema(layout, dialect=dialect, normalize=False),
        canonicalize_table_aliases=True,
        quote_identifiers=False,
        validate_qualify_columns=False,
    )
    _expand_order_aliases(tree)
    named = _name_objects(tree, known, schema, table, column)
    for ident in tree.find_all(exp.Identifier):
        if id(ident) not in named:
            ident.set("this", ident.name.lower())  # aliases: any spelling, same meaning
        ident.set("quoted", True)
    _strip_parentheses(tree)
    _strip_implicit_casts(tree, named)
    _canonical_operators(tree)
    for select in tree.find_all(exp.Select):
        if not _feeds_a_source(select):  # IN, EXISTS and scalar subqueries: names unused
            select.set("expressions", [e.unalias() for e in select.expressions])
    for select in _top_selects(tree):
        select.set(
            "expressions",
            [e.unalias() for e in select.expressions] if projection else [exp.Star()],
        )
    for function in tree.find_all(exp.Anonymous):
        if isinstance(function.this, str):
            function.set("this", function.this.lower())
    _parenthesise(tree)
    return tree.sql(dialect="postgres", comments=False)


def _expand_order_aliases(tree: exp.Expr) -> None:
    """``ORDER BY name`` of an output column as that column's expression, however the
    qualifier of each dialect resolved it."""
    for select in tree.find_all(exp.Select):
        order = select.args.get("order")
        if order is None:
            continue
        outputs = {e.alias: e.this for e in select.expressions if isinstance(e, exp.Alias)}
        for key in order.expressions:
            ref = key.this
            if isinstance(ref, exp.Column) and not ref.table and ref.name in outputs:
                ref.replace(outputs[ref.name].copy())


def _name_objects(
    tree: exp.Expr,
    known: dict[str, tuple[str, dict[str, tuple[str, str]]]],
    schema: str | None,
    table: Callable[[str], str],
    column: Callable[[str, str], str],
) -> dict[int, str]:
    """Give catalog tables and columns their (mapped) names, and the output columns of
    subqueries and CTEs named after them too; returns the ids of the identifiers now holding
    catalog names, each with its column's type family (empty for tables and outputs)."""
    named: dict[int, str] = {}
    tables: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {}
    for relation in tree.find_all(exp.Table):
        hit = known.get(relation.name)
        if hit is None or (relation.db and relation.db != schema):
            continue
        relation.set("catalog", None)
        relation.set("db", None)
        relation.set("this", exp.to_identifier(table(hit[0])))
        named[id(relation.this)] = ""
        tables[relation.alias_or_name] = hit  # aliases are canonical: unique in the query
    derived: dict[str, exp.Expr] = {}
    outputs: dict[int, dict[str, str]] = {}  # a subquery's renamed output columns
    done: set[int] = set()
    for scope in traverse_scope(tree):  # innermost first
        derived.update(
            (alias, source.expression)
            for alias, source in scope.sources.items()
            if isinstance(source, Scope)
        )
        renamed: dict[int, str] = {}  # id(column) -> its name before renaming
        for node in scope.columns:
            if id(node) in done:
                continue
            done.add(id(node))
            before = node.name
            if node.table in tables:
                source, columns = tables[node.table]
                found = columns.get(before)
                if found is None:
                    continue
                new, family = column(source, found[0]), found[1]
            elif node.table in derived:
                new = outputs.get(id(_first_select(derived[node.table])), {}).get(before, "")
                family = ""
                if not new:
                    continue
            else:
                continue
            node.set("this", exp.to_identifier(new))
            named[id(node.this)] = family
            renamed[id(node)] = before
        if isinstance(scope.expression, exp.Select):
            outputs[id(scope.expression)] = names = {}
            for projection in scope.expression.expressions:
                inner = projection.this if isinstance(projection, exp.Alias) else None
                if not isinstance(inner, exp.Column):
                    continue
                before = renamed.get(id(inner), "")
                if before and before.lower() == projection.alias.lower():
                    # An output named after its column (implicitly, or in another case as
                    # SQLite allows) is renamed with it, and so is every reference to it.
                    names[projection.alias] = inner.name
                    projection.set("alias", exp.to_identifier(inner.name))
                    named[id(projection.args["alias"])] = ""
    return named


def _first_select(query: exp.Expr) -> exp.Expr:
    """The select naming a query's output columns (the first branch of a UNION)."""
    while isinstance(query, exp.SetOperation | exp.Subquery):
        query = query.this
    return query


def _strip_parentheses(tree: exp.Expr) -> None:
    for paren in list(tree.find_all(exp.Paren)):
        if paren is not tree:
            paren.replace(paren.this)


def _family(node: exp.Expr, named: dict[int, str]) -> str | None:
    """The type family of a catalog column, else None."""
    if isinstance(node, exp.Column) and id(node.this) in named:
        return named[id(node.this)]
    return None


def _strip_implicit_casts(tree: exp.Expr, named: dict[int, str]) -> None:
    """Drop the casts PostgreSQL writes into a stored view: on constants (``100::numeric``,
    ``'x'::text``, ``'-1'::integer``) and on columns into their own or a wider family
    (``name::text`` of a varchar); an explicit cast into another type stays."""
    for cast in reversed(list(tree.find_all(exp.Cast))):
        operand, target = cast.this, _cast_family(cast.to)
        if isinstance(operand, exp.Literal) and operand.is_string:
            if target in ("integer", "numeric", "float"):
                try:
                    float(operand.name)
                except ValueError:
                    continue
                operand = exp.Literal.number(operand.name)  # '-1'::integer is -1
            cast.replace(operand)
        elif _constant(operand) or _implicit(cast, target, named):
            cast.replace(operand)


def _constant(node: exp.Expr) -> bool:
    """A literal, NULL or boolean (a negative number is a negated literal), or NULLIF of
    constants (how a SQLite division or modulo by a constant is copied)."""
    if isinstance(node, exp.Neg):
        node = node.this
    if isinstance(node, exp.Nullif):
        return all(_constant(arg) for arg in node.iter_expressions())
    return isinstance(node, exp.Literal | exp.Null | exp.Boolean)


def _implicit(cast: exp.Cast, target: str, named: dict[int, str]) -> bool:
    """A cast of a catalog column into its own or a wider family."""
    family = _family(cast.this, named)
    if family is None or cast.to.expressions:
        return False
    return family == target or (family, target) in _IMPLICIT_WIDENINGS


def _cast_family(datatype: exp.DataType) -> str:
    """The :mod:`harness.db.typemap` family of a cast's type."""
    return types.parse(datatype.sql("postgres"), "postgres").family


def _canonical_operators(tree: exp.Expr) -> None:
    """One spelling for what PostgreSQL rewrites: ``x = ANY (ARRAY[…])`` is ``x IN (…)``,
    ``x <> ALL (ARRAY[…])`` is ``x NOT IN (…)``, ``BETWEEN`` is two comparisons joined by
    AND, and chains of AND / OR are flat (PostgreSQL drops the parentheses grouping them)."""
    for node in list(tree.find_all(exp.EQ, exp.NEQ)):
        items = _array_items(node.expression, exp.Any if isinstance(node, exp.EQ) else None)
        if items is not None:
            listed = exp.In(this=node.this, expressions=items)
            node.replace(listed if isinstance(node, exp.EQ) else exp.Not(this=listed))
    for listed in list(tree.find_all(exp.In)):
        items = listed.expressions
        if len(items) == 1 and not listed.args.get("query"):  # x IN ('a') is x = 'a'
            listed.replace(exp.EQ(this=listed.this, expression=items[0]))
    for between in list(tree.find_all(exp.Between)):
        value = between.this
        between.replace(
            exp.And(
                this=exp.GTE(this=value.copy(), expression=between.args["low"]),
                expression=exp.LTE(this=value.copy(), expression=between.args["high"]),
            )
        )
    for connector in list(tree.find_all(exp.And, exp.Or)):
        if type(connector.parent) is type(connector) or connector.parent is None:
            continue
        operands = [o for o in connector.flatten() if o is not connector]
        chain = operands[0]
        for operand in operands[1:]:
            chain = type(connector)(this=chain, expression=operand)
        connector.replace(chain)


def _array_items(node: exp.Expr, wrapper: type[exp.Expr] | None) -> list[exp.Expr] | None:
    """The items of ``ANY (ARRAY[…])`` (``wrapper`` given) or ``ALL (ARRAY[…])``, else None."""
    if wrapper is not None:
        if not isinstance(node, wrapper):
            return None
        inner = node.this
    elif (
        isinstance(node, exp.Anonymous)
        and node.name.upper() == "ALL"
        and len(node.expressions) == 1
    ):
        inner = node.expressions[0]
    else:
        return None
    inner = inner.unnest() if isinstance(inner, exp.Paren) else inner
    if isinstance(inner, exp.Cast):  # (ARRAY['a'::varchar, …])::text[] on a varchar column
        inner = inner.this.unnest() if isinstance(inner.this, exp.Paren) else inner.this
    return list(inner.expressions) if isinstance(inner, exp.Array) else None


def _feeds_a_source(select: exp.Select) -> bool:
    """Whether the select's output names are read: the view's own, a CTE's, a derived
    table's (through any UNION), rather than those of a subquery inside an expression."""
    node: exp.Expr = select
    while isinstance(node.parent, exp.SetOperation | exp.Subquery):
        node = node.parent
    return node.parent is None or isinstance(node.parent, exp.From | exp.Join | exp.CTE)


def _top_selects(tree: exp.Expr) -> list[exp.Select]:
    """The selects whose lists are the view's columns (each branch of a UNION)."""
    if isinstance(tree, exp.SetOperation):
        return _top_selects(tree.this) + _top_selects(tree.expression)
    if isinstance(tree, exp.Subquery):
        return _top_selects(tree.this)
    return [tree] if isinstance(tree, exp.Select) else []


_GROUPING = (exp.Binary, exp.Unary)


def _parenthesise(tree: exp.Expr) -> None:
    """Parentheses around every operation inside another, so the text is the tree."""
    for node in list(tree.find_all(exp.Binary)):
        if isinstance(node, exp.Dot) or isinstance(node.parent, exp.Dot):
            continue
        if isinstance(node.parent, _GROUPING) and not isinstance(node.parent, exp.Paren):
            paren = exp.Paren()
            node.replace(paren)
            paren.set("this", node)
