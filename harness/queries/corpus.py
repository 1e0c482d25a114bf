"""The query corpus: each named query with the exact SQL each side runs.

Queries come from the plan inline (``corpus``) or from ``.sql`` files and folders
(``paths``). A query written in one dialect is transpiled to the other side's with sqlglot
and the transpiled text is kept as evidence; a query given per dialect runs as written.
Parameters are named (``:customer``) in every dialect; for PostgreSQL they become psycopg's
``%(customer)s`` (and literal ``%`` becomes ``%%``), found with sqlglot's tokenizer rather
than a regex so a ``::cast`` or a ``':x'`` string is never mistaken for one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.dialects import Dialect as SqlglotDialect
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.tokenizer_core import TokenType

from harness.errors import PlanError, did_you_mean
from harness.queries.settings import Query, QuerySettings

SUFFIXES = {"sqlite", "postgres"}


@dataclass(frozen=True)
class SideSql:
    """What one side runs: text in the driver's parameter style, and where it came from."""

    text: str | None
    """``None`` when it could not be produced (see ``problem``)."""
    origin: str
    """``as written``, ``given for postgres``, ``transpiled by sqlglot X from sqlite``."""
    shown: str | None = None
    """The SQL as a person reads it (named parameters, no ``%%``), for the evidence."""
    problem: str | None = None
    """Why there is no text: a syntax error sqlglot found, with line and column."""


@dataclass(frozen=True)
class QuerySpec:
    """One query ready to run on both sides."""

    name: str
    query: Query
    source: SideSql
    target: SideSql
    ordered: bool
    params: frozenset[str] = field(default_factory=frozenset)
    """The named parameters the SQL uses."""


def load_corpus(
    settings: QuerySettings, *, source_dialect: str, target_dialect: str
) -> tuple[QuerySpec, ...]:
    """Every query of the section, in name order; file problems are :class:`PlanError`."""
    written = settings.dialect or source_dialect
    queries = dict(settings.corpus)
    for name, query in _from_paths(settings.paths):
        if name in queries:
            raise PlanError(f"query '{name}' is defined twice (inline and in a file)")
        queries[name] = query
    specs = []
    for name in sorted(queries):
        query = queries[name]
        if query.file is not None:
            query = query.model_copy(update={"sql": _read(query.file), "file": None})
        specs.append(_spec(name, query, written, source_dialect, target_dialect))
    return tuple(specs)


def _from_paths(paths: tuple[Path, ...]) -> list[tuple[str, Query]]:
    texts: dict[str, dict[str, str]] = {}
    for path in paths:
        if path.is_dir():
            files = sorted(path.rglob("*.sql"))
        elif path.is_file():
            files = [path]
        else:
            raise PlanError(f"{path} not found", key="queries.paths")
        for file in files:
            stem, _, suffix = file.name.removesuffix(".sql").rpartition(".")
            if suffix not in SUFFIXES:
                stem, suffix = file.name.removesuffix(".sql"), ""
            if not stem.replace("_", "a").isalnum():
                raise PlanError(
                    f"{file}: a query file is named NAME.sql (letters, digits, _)",
                    key="queries.paths",
                )
            if suffix in texts.setdefault(stem, {}):
                raise PlanError(f"{file}: query '{stem}' is defined twice", key="queries.paths")
            texts[stem][suffix] = _read(file)
    out = []
    for name, by_dialect in texts.items():
        plain = by_dialect.pop("", None)
        out.append((name, Query(sql=plain, dialects=by_dialect)))
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read {path}: {exc.strerror}", key="queries") from None


def _spec(name: str, query: Query, written: str, source: str, target: str) -> QuerySpec:
    source_sql = _side(query, written, source)
    target_sql = _side(query, written, target)
    params = _placeholders(query, written)
    declared = {k for p in query.params for k in p} | set(query.generate)
    for unused in sorted(declared - params):
        hint = did_you_mean(unused, params)
        raise PlanError(
            f"parameter '{unused}' is not used by the query (it uses "
            f"{', '.join(':' + p for p in sorted(params)) or 'none'}).{hint}",
            key=f"queries.corpus.{name}",
        )
    for fixed in query.params:
        missing = sorted(params - set(fixed))
        if missing:
            raise PlanError(
                f"a fixed parameter set lacks {', '.join(missing)}",
                key=f"queries.corpus.{name}.params",
            )
    if not query.params and params - set(query.generate):
        missing = sorted(params - set(query.generate))
        raise PlanError(
            f"the query uses :{', :'.join(missing)} but no value is given "
            "(add fixed 'params' or a 'generate' strategy)",
            key=f"queries.corpus.{name}",
        )
    ordered = query.ordered
    if ordered is None:
        ordered = _has_order_by(query.dialects.get(written) or query.sql or "", written)  # type: ignore[call-overload]
    return QuerySpec(name, query, source_sql, target_sql, ordered, frozenset(params))


def _side(query: Query, written: str, dialect: str) -> SideSql:
    given = query.dialects.get(dialect)  # type: ignore[call-overload]
    if given is not None:
        return _driver_text(given, dialect, f"given for {dialect}")
    text = query.sql if query.sql is not None else query.dialects.get(written)  # type: ignore[call-overload]
    if text is None:
        return SideSql(None, "missing", problem=f"no SQL for {dialect}: add dialects.{dialect}")
    if dialect == written:
        return _driver_text(text, dialect, "as written")
    try:
        tree = _parse_one(text, written)
    except SqlglotError as exc:
        return SideSql(None, f"not transpiled from {written}", problem=_syntax(exc))
    # Keep parameters as ``:name`` through generation (sqlglot would print psycopg's style
    # itself, but then a literal % could not be told from a placeholder afterwards).
    tree = tree.transform(
        lambda node: (
            exp.Var(this=f":{node.name}")
            if isinstance(node, exp.Placeholder) and node.name
            else node
        )
    )
    transpiled = tree.sql(dialect=dialect)
    origin = f"transpiled by sqlglot {version('sqlglot')} from {written}"
    return _driver_text(transpiled, dialect, origin)


def _parse_one(text: str, dialect: str) -> exp.Expr:
    trees = [t for t in sqlglot.parse(text, read=dialect) if t is not None]
    if len(trees) != 1:
        raise ParseError(f"a query is one statement; found {len(trees)}")
    return trees[0]


def _syntax(exc: SqlglotError) -> str:
    errors = getattr(exc, "errors", None) or []
    if errors:
        first = errors[0]
        near = (first.get("highlight") or "").strip()
        return (
            f"syntax error at line {first.get('line')}, column {first.get('col')}"
            + (f" near '{near}'" if near else "")
            + f": {first.get('description')}"
        )
    return f"syntax error: {str(exc).splitlines()[0]}"


def _driver_text(text: str, dialect: str, origin: str) -> SideSql:
    text = text.strip().rstrip(";").strip()
    if dialect == "sqlite":
        return SideSql(text, origin, shown=text)  # sqlite3 binds :name itself
    out, last = [], 0
    for start, end, name in _named(text, dialect):
        out.append(text[last:start].replace("%", "%%"))
        out.append(f"%({name})s")
        last = end
    out.append(text[last:].replace("%", "%%"))
    return SideSql("".join(out), origin, shown=text)


def _named(text: str, dialect: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every ``:name`` placeholder, from sqlglot's tokens."""
    try:
        tokens = SqlglotDialect.get_or_raise(dialect).tokenize(text)
    except SqlglotError:
        return []
    found = []
    for colon, word in itertools.pairwise(tokens):
        if (
            colon.token_type is TokenType.COLON
            and word.start == colon.end + 1
            and word.token_type not in (TokenType.STRING, TokenType.NUMBER)
            and word.text.replace("_", "a").isalnum()
        ):
            found.append((colon.start, word.end + 1, word.text))
    return found


def _placeholders(query: Query, written: str) -> set[str]:
    names: set[str] = set()
    texts = [(query.sql, written)] if query.sql is not None else []
    texts += [(t, d) for d, t in query.dialects.items()]
    for text, dialect in texts:
        if text is not None:
            names |= {name for _, _, name in _named(text, dialect)}
    return names


def _has_order_by(text: str, dialect: str) -> bool:
    try:
        tree = _parse_one(text, dialect)
    except SqlglotError:
        return False
    return tree.args.get("order") is not None
