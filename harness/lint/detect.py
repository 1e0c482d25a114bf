"""Statement-level rules read from the sqlglot AST (the source dialect's, never regenerated SQL).

Each ``_on_*`` function handles one statement class and fills the :class:`Analysis` the
pre-scan started. Anything sqlglot hands back as a generic ``Command`` at this point was not
classified by the pre-scan either, so it becomes a DSQL000 "could not analyse" finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlglot import exp

from harness.lint import analysis as A
from harness.lint.analysis import Analysis
from harness.lint.datatypes import check_datatype, type_name
from harness.lint.prescan import Prepared, cache_hits

ROW_LIMIT = 3000
_C_COLLATIONS = {"c", "posix", "ucs_basic", "pg_c_utf8"}
_FTS = re.compile(
    r"^(?:to_tsvector|to_tsquery|plainto_tsquery|phraseto_tsquery|websearch_to_tsquery|"
    r"ts_rank|ts_rank_cd|ts_headline|setweight|ts_rewrite|tsvector_update_trigger)$"
)
_GEOMETRIC = frozenset({"point", "line", "lseg", "box", "path", "polygon", "circle"})
"""Geometric types: DSQL fails a call of a function named after one (recorded for ``line``,
``circle``: ``0A000 datatype line not supported``)."""
_ADVISORY = re.compile(r"^pg_(?:try_)?advisory_(?:xact_)?(?:un)?lock(?:_shared|_all)?$")
_EXTENSION_FUNCS = re.compile(
    r"^(?:uuid_generate_v[1-5]|uuid_generate_v1mc|crypt|gen_salt|digest|hmac|pgp_\w+|"
    r"similarity|word_similarity|strict_word_similarity|show_trgm|levenshtein\w*|soundex|"
    r"difference|metaphone|dmetaphone\w*|earth_distance|ll_to_earth|earth_box|unaccent|st_\w+)$"
)


def _name(node: exp.Expr | None) -> str:
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Table):
        return ".".join(p.name for p in node.parts)
    return node.name if node is not None else ""


def _func_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return str(node.sql_name()).lower() if isinstance(node, exp.Func) else ""


def _subtree(node: exp.Expr) -> list[exp.Expr]:
    """Every node under ``node`` (itself first), in the breadth-first order of ``find_all``:
    walked once per statement and filtered per rule, because each ``find_all`` walks the
    whole tree again (most of the detect stage's time on a large corpus)."""
    return list(node.walk())


def _of(nodes: list[exp.Expr], *types: type[exp.Expr]) -> Iterator[Any]:
    return (n for n in nodes if isinstance(n, types))


def _tables(nodes: list[exp.Expr]) -> Iterator[str]:
    for t in _of(nodes, exp.Table):
        if t.name:
            yield A.bare(t.name)


# ----------------------------------------------------------------------------- CREATE
def _column_constraints(
    col: exp.ColumnDef, a: Analysis, caches: list[int | None], *, adding: bool
) -> list[str]:
    """Check one column definition; return its name if it is declared PRIMARY KEY."""
    pk: list[str] = []
    dt = col.kind if isinstance(col.kind, exp.DataType) else None
    identity = False
    for c in col.constraints:
        kind = c.kind
        if (
            isinstance(kind, exp.GeneratedAsIdentityColumnConstraint)
            and kind.args.get("this") is not None
        ):
            identity = True
            cache = caches.pop(0) if caches else None
            cache_hits(a, cache, f"identity column {col.name}", "DSQL021", "DSQL022")
            if dt is not None and dt.this is not exp.DataType.Type.BIGINT:
                a.hit("DSQL023", f"identity column {col.name} is {dt.sql('postgres')}",
                      rf"\b{re.escape(col.name)}\b")  # fmt: skip
        elif isinstance(kind, exp.AutoIncrementColumnConstraint):
            a.hit("DSQL020", f"AUTOINCREMENT column {col.name}", r"\bAUTOINCREMENT\b")
        elif isinstance(kind, exp.CollateColumnConstraint):
            collation = kind.this.name
            note = (
                " (removing it is faithful: the database collation is C)"
                if collation.lower() in _C_COLLATIONS
                else " (removing it changes sort order to C)"
            )
            a.hit("DSQL010", f"column {col.name} has COLLATE {collation}{note}", r"\bCOLLATE\b")
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            pk.append(col.name)
    if dt is not None and not identity:
        for rule, message in check_datatype(dt):
            a.hit(rule, f"column {col.name}: {message}", rf"\b{re.escape(col.name)}\b")
            if rule == "DSQL040" and dt.this is exp.DataType.Type.USERDEFINED:
                a.hits[-1].subject = A.bare(type_name(dt))
    if adding and col.constraints:
        kinds = ", ".join(sorted({_constraint_name(c.kind) for c in col.constraints}))
        a.hit("DSQL080", f"ADD COLUMN {col.name} with a constraint ({kinds})", r"\bADD\b")
    return pk


def _constraint_name(kind: object) -> str:
    """How a column constraint is written: ``NOT NULL``, ``NULL`` (sqlglot reads the plain
    NULL clause as a NotNull node that allows NULL; DSQL's parser still counts it as a
    constraint, so it stays a finding — dropping it is faithful), else its node's name."""
    if isinstance(kind, exp.NotNullColumnConstraint):
        return (
            "NULL: nullable is the default, drop the word"
            if kind.args.get("allow_null")
            else "NOT NULL"
        )
    return type(kind).__name__.replace("ColumnConstraint", "")


def _on_create_table(node: exp.Create, a: Analysis, p: Prepared) -> None:
    a.obj = _name(node.this)
    a.creates = (("table", A.bare(a.obj)),)
    props = node.args.get("properties")
    for prop in props.expressions if props else ():
        if isinstance(prop, exp.TemporaryProperty):
            a.hit("DSQL001", "temporary table", r"\bTEMP")
        elif isinstance(prop, exp.UnloggedProperty):
            pass  # reported by the pre-scan
        elif isinstance(prop, exp.PartitionedByProperty):
            a.hit("DSQL004", "PARTITION BY", r"\bPARTITION\s+BY\b")
        elif isinstance(prop, exp.PartitionedOfProperty):
            a.hit("DSQL005", f"partition of {_name(prop.this)}", r"\bPARTITION\s+OF\b")
        elif isinstance(prop, exp.InheritsProperty):
            a.hit("DSQL006", "INHERITS", r"\bINHERITS\b")
        elif isinstance(prop, exp.TableSpaceProperty):
            a.hit("DSQL007", "TABLESPACE clause", r"\bTABLESPACE\b")
        elif type(prop) is exp.Property or isinstance(prop, exp.WithDataProperty):
            a.hit("DSQL008", f"storage parameter {prop.name}", r"\bWITH\b")
    if isinstance(node.expression, exp.Query):
        a.hit("DSQL009", "CREATE TABLE … AS", r"\bAS\b")
        return
    schema = node.this if isinstance(node.this, exp.Schema) else None
    if schema is None:
        return
    caches = list(p.identity_caches)
    columns = [e for e in schema.expressions if isinstance(e, exp.ColumnDef)]
    pk: list[str] = []
    for col in columns:
        pk += _column_constraints(col, a, caches, adding=False)
    widest = len(pk)
    for e in schema.expressions:
        if isinstance(e, exp.PrimaryKey):
            pk = [c.name for c in e.expressions]
            widest = max(widest, len(pk))
        elif isinstance(e, exp.ExcludeColumnConstraint):
            a.hit("DSQL033", "EXCLUDE constraint", r"\bEXCLUDE\b")
        elif isinstance(e, exp.Constraint):
            for inner in e.expressions:
                if isinstance(inner, exp.PrimaryKey):
                    pk = [c.name for c in inner.expressions]
                    widest = max(widest, len(pk))
                elif isinstance(inner, exp.UniqueColumnConstraint) and isinstance(
                    inner.this, exp.Schema
                ):
                    widest = max(widest, len(inner.this.expressions))
        elif isinstance(e, exp.UniqueColumnConstraint) and isinstance(e.this, exp.Schema):
            widest = max(widest, len(e.this.expressions))
    a.primary_key = tuple(c.lower() for c in pk)
    if len(columns) > 255:
        a.hit("DSQL015", f"{len(columns)} columns; DSQL allows at most 255")
    if widest > 8:
        a.hit("DSQL015", f"a key with {widest} columns; DSQL allows at most 8", r"\bKEY\b")


def _on_create_index(node: exp.Create, a: Analysis) -> None:
    index = node.this
    if not isinstance(index, exp.Index):
        return
    table = _name(index.args.get("table"))
    a.obj = table
    a.creates = (("index", A.bare(table)),)
    if node.args.get("concurrently") and not any(h.rule == "DSQL051" for h in a.hits):
        a.hit("DSQL051", "CONCURRENTLY is not supported; use ASYNC", r"\bCONCURRENTLY\b")
    params = index.args.get("params")
    if not isinstance(params, exp.IndexParameters):
        return
    using = params.args.get("using")
    if using is not None and using.name.lower() != "btree":
        a.hit("DSQL053", f"USING {using.name}: only B-tree indexes exist", r"\bUSING\b")
    elif using is not None:
        # DSQL's CREATE INDEX grammar has no USING clause at all [S7][S27]; pg_dump always
        # writes USING btree, and dropping it is faithful.
        a.hit("DSQL053", "USING btree: DSQL's CREATE INDEX has no USING clause", r"\bUSING\b")
    columns = params.args.get("columns") or []
    if any(isinstance(c, exp.Ordered) and c.args.get("desc") for c in columns):
        a.hit("DSQL057", "DESC index key", r"\bDESC\b")
    a.key_columns = len(columns)
    if len(columns) > 8:
        a.hit("DSQL015", f"index with {len(columns)} key columns; DSQL allows at most 8")
    if params.args.get("tablespace") is not None:
        a.hit("DSQL007", "TABLESPACE clause", r"\bTABLESPACE\b")
    storage = params.args.get("with_storage")
    if isinstance(storage, exp.Expr) or (isinstance(storage, list) and storage):
        a.hit("DSQL008", "index storage parameters", r"\bWITH\b")


def _on_create(node: exp.Create, a: Analysis, p: Prepared) -> None:
    kind = (node.kind or "").upper()
    if kind == "TABLE":
        _on_create_table(node, a, p)
    elif kind == "INDEX":
        _on_create_index(node, a)
    elif kind == "VIEW":
        a.obj = _name(node.this)
        props = node.args.get("properties")
        for prop in props.expressions if props else ():
            if isinstance(prop, exp.MaterializedProperty):
                a.hit("DSQL062", "materialized view", r"\bMATERIALIZED\b")
            elif isinstance(prop, exp.TemporaryProperty):
                a.hit("DSQL061", "temporary view", r"\bTEMP")
        a.creates = (("view", A.bare(a.obj)),)
        if isinstance(node.expression, exp.Expr):
            _on_query(node.expression, a, top=False)
    elif kind == "SCHEMA":
        a.obj = node.this.args["db"].name if node.this.args.get("db") else _name(node.this)
        a.creates = (("schema", a.obj.lower()),)
    elif kind == "DATABASE":
        a.hit("DSQL011", "CREATE DATABASE: DSQL has one database", r"\bDATABASE\b")


# ----------------------------------------------------------------------------- ALTER
def _on_alter(node: exp.Alter, a: Analysis, p: Prepared) -> None:
    a.obj = _name(node.this)
    kind = (node.args.get("kind") or "").upper()
    if kind != "TABLE":
        if kind == "INDEX":
            a.hit("DSQL058", "ALTER INDEX is not supported", r"\bINDEX\b")
        return
    caches = list(p.identity_caches)
    not_valid = bool(node.args.get("not_valid"))
    for action in node.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            _column_constraints(action, a, caches, adding=True)
        elif isinstance(action, exp.AddConstraint):
            _on_add_constraint(action, a, not_valid=not_valid)
        elif isinstance(action, exp.AlterColumn):
            if action.args.get("dtype") is not None:
                a.hit("DSQL081", f"ALTER COLUMN {action.name} TYPE", r"\bTYPE\b")
            elif action.args.get("allow_null") is False and not action.args.get("drop"):
                a.hit("DSQL082", f"ALTER COLUMN {action.name} SET NOT NULL", r"\bNOT\s+NULL\b")
        elif isinstance(action, exp.Drop):
            dkind = (action.args.get("kind") or "").upper()
            if dkind == "COLUMN":
                dropped = action.args.get("tables") or action.expressions or [action.this]
                a.dropped_columns += tuple(t.name.lower() for t in dropped if t is not None)
            elif dkind == "CONSTRAINT":
                a.hit("DSQL032", "DROP CONSTRAINT (unconfirmed on DSQL)", r"\bDROP\b")
        elif isinstance(action, exp.AlterSet):
            option = action.args.get("option")
            if option is not None and option.name.upper() == "UNLOGGED":
                a.hit("DSQL002", "SET UNLOGGED", r"\bUNLOGGED\b")
            elif action.args.get("tablespace") is not None:
                a.hit("DSQL007", "SET TABLESPACE", r"\bTABLESPACE\b")
            elif action.expressions:
                a.hit("DSQL008", "SET (storage parameters)", r"\bSET\b")
        elif not isinstance(action, exp.AlterRename | exp.RenameColumn):
            a.hit("DSQL000", f"ALTER TABLE action {type(action).__name__} is not analysed")
            a.unanalysed = True


def _on_add_constraint(action: exp.AddConstraint, a: Analysis, *, not_valid: bool) -> None:
    for node in action.find_all(exp.PrimaryKey, exp.PrimaryKeyColumnConstraint):
        cols = tuple(c.name.lower() for c in node.expressions)
        a.primary_key = cols
        a.hit("DSQL031", "ADD PRIMARY KEY to an existing table (pg_dump writes keys this way: "
              "declare it in CREATE TABLE)", r"\bPRIMARY\b")  # fmt: skip
        return
    if any(action.find_all(exp.UniqueColumnConstraint)):
        a.hit("DSQL031", "ADD UNIQUE to an existing table (use CREATE UNIQUE INDEX ASYNC, then "
              "UNIQUE USING INDEX)", r"\bUNIQUE\b")  # fmt: skip
        return
    if not not_valid and any(action.find_all(exp.ForeignKey, exp.CheckColumnConstraint)):
        what = "FOREIGN KEY" if any(action.find_all(exp.ForeignKey)) else "CHECK"
        a.hit("DSQL029", f"ADD CONSTRAINT … {what} without NOT VALID", r"\bADD\b")


# ----------------------------------------------------------------------------- DML & queries
def _on_query(
    node: exp.Expr, a: Analysis, *, top: bool = True, nodes: list[exp.Expr] | None = None
) -> None:
    nodes = _subtree(node) if nodes is None else nodes
    for lock in _of(nodes, exp.Lock):
        update, key = bool(lock.args.get("update")), bool(lock.args.get("key"))
        if update and key:
            a.hit("DSQL097", "FOR NO KEY UPDATE is not supported", r"\bFOR\s+NO\s+KEY\b")
        elif not update and not key:
            a.hit("DSQL097", "FOR SHARE is not supported", r"\bFOR\s+SHARE\b")
        if lock.args.get("wait") is not None:
            a.hit("DSQL098", "NOWAIT/SKIP LOCKED never skip or fail fast on DSQL",
                  r"\bSKIP\s+LOCKED\b|\bNOWAIT\b")  # fmt: skip
        if update or key:
            a.locked += tuple(_tables(nodes))
    if any(_of(nodes, exp.TableSample)):
        a.hit("DSQL109", "TABLESAMPLE is not supported", r"\bTABLESAMPLE\b")
    for group in _of(nodes, exp.Group):
        if group.args.get("all"):
            a.hit("DSQL111", "GROUP BY ALL is not supported", r"\bGROUP\s+BY\s+ALL\b")
    for collate in _of(nodes, exp.Collate):
        if collate.expression.name.lower() not in _C_COLLATIONS:
            a.hit("DSQL017", f"COLLATE {collate.expression.name}", r"\bCOLLATE\b")
    for func in _of(nodes, exp.Func):
        name = _func_name(func)
        if _ADVISORY.match(name):
            a.hit("DSQL100", f"advisory lock {name}()", re.escape(name))
        elif _FTS.match(name):
            a.hit("DSQL048", f"full-text search function {name}()", re.escape(name))
        elif name == "pg_notify":
            a.hit("DSQL101", "pg_notify() (NOTIFY is not supported)", "pg_notify")
        elif _EXTENSION_FUNCS.match(name):
            a.hit("DSQL074", f"{name}() comes from an extension", re.escape(name))
        elif name in _GEOMETRIC:
            a.hit("DSQL040", f"{name}() builds a value of the geometric type {name}, which "
                  "DSQL does not have", rf"\b{name}\s*\(")  # fmt: skip
            a.hits[-1].subject = name
    if isinstance(node, exp.Select):
        into = node.args.get("into")
        if into is not None:
            a.hit("DSQL009", "SELECT … INTO a new table", r"\bINTO\b")
            a.category = A.DDL
        a.reads += tuple(t for t in _tables(nodes) if t not in a.locked)
        if top and _is_unbounded_count(node):
            a.hit("DSQL113", "COUNT(*) over a whole table", r"\bCOUNT\b")


def _is_unbounded_count(node: exp.Select) -> bool:
    if node.args.get("where") or node.args.get("joins") or node.args.get("group"):
        return False
    if node.args.get("with_") or node.args.get("with"):
        return False
    from_ = node.args.get("from_") or node.args.get("from")
    if not isinstance(from_, exp.From) or not isinstance(from_.this, exp.Table):
        return False
    return len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Count)


def _payload(nodes: list[exp.Expr]) -> int:
    size = 0
    for lit in _of(nodes, exp.Literal):
        size += len(lit.this) if lit.is_string else 8
    for func in _of(nodes, exp.Repeat):
        times = func.args.get("times")
        if isinstance(times, exp.Literal) and times.is_int:
            size += int(times.this) * max(1, len(func.this.name))
    return size


def _on_dml(node: exp.Expr, a: Analysis, nodes: list[exp.Expr] | None = None) -> None:
    a.category = A.DML
    nodes = _subtree(node) if nodes is None else nodes
    _on_query(node, a, top=False, nodes=nodes)
    target = node.this
    if isinstance(target, exp.Schema):
        target = target.this
    if isinstance(target, exp.Table) and target.name:
        a.writes = (A.bare(target.name),)
        a.obj = _name(target)
    if isinstance(node, exp.Update | exp.Delete) and not node.args.get("where"):
        a.rows = A.UNBOUNDED
    elif isinstance(node, exp.Insert):
        source = node.expression
        if isinstance(source, exp.Values):
            a.rows = len(source.expressions)
        elif isinstance(source, exp.Query):
            limit = source.args.get("limit")
            count = limit.expression if isinstance(limit, exp.Limit) else None
            if isinstance(count, exp.Literal) and count.is_int:
                a.rows = int(count.this)
            else:
                a.rows = A.UNBOUNDED
        a.payload = _payload(nodes)
    elif isinstance(node, exp.Merge):
        a.hit("DSQL110", "MERGE is not supported", r"\bMERGE\b")
    else:
        a.payload = _payload(nodes)


def _modifies(nodes: list[exp.Expr]) -> exp.Expr | None:
    """The data-modifying statement inside a WITH query, if any."""
    return next(_of(nodes, exp.Insert, exp.Update, exp.Delete, exp.Merge), None)


# ----------------------------------------------------------------------------- dispatch
def detect(node: exp.Expr, a: Analysis, p: Prepared) -> None:
    """Fill ``a`` from the parsed statement ``node``."""
    a.method = "parsed"
    nodes = _subtree(node)
    a.calls = tuple(sorted({str(f.this).lower() for f in _of(nodes, exp.Anonymous)}))
    if isinstance(node, exp.Create):
        a.category = A.DDL
        _on_create(node, a, p)
    elif isinstance(node, exp.Alter):
        a.category = A.DDL
        _on_alter(node, a, p)
    elif isinstance(node, exp.Insert | exp.Update | exp.Delete | exp.Merge):
        _on_dml(node, a, nodes)
    elif isinstance(node, exp.Query):
        inner = _modifies(nodes)
        if inner is not None:
            _on_dml(inner, a)
            _on_query(node, a, top=False, nodes=nodes)
        else:
            a.category = A.QUERY if a.category == A.SESSION else a.category
            _on_query(node, a, nodes=nodes)
    elif isinstance(node, exp.Describe):  # EXPLAIN …
        a.category = A.QUERY
        if isinstance(node.this, exp.Expr):
            _on_query(node.this, a, top=False)
    elif isinstance(node, exp.Command):
        a.hit("DSQL000", f"{node.name} … is not understood by the parser or the pre-scan")
        a.unanalysed = True
    elif isinstance(node, exp.Drop | exp.Comment | exp.Grant | exp.Revoke):
        a.category = A.DDL
    elif isinstance(node, exp.Set | exp.Transaction | exp.Commit | exp.Rollback | exp.Analyze):
        pass
    elif isinstance(node, exp.Alias | exp.Column | exp.Identifier | exp.Paren | exp.Literal):
        # A bare word mis-read as an expression: an unknown statement keyword (§8).
        a.hit("DSQL000", "statement not recognised")
        a.unanalysed = True
    else:
        _on_query(node, a, top=False, nodes=nodes)
