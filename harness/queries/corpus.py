"""The query corpus: each named query with the exact SQL each side runs.

Queries come from the plan inline (``corpus``) or from ``.sql`` files and folders
(``paths``). A query written in one dialect is transpiled to the other side's with sqlglot
and the transpiled text is kept as evidence; a query given per dialect runs as written.
Parameters may be written in any driver's style (:mod:`harness.queries.placeholders`) and are
spelled ``:name`` from then on (``$1`` is ``:p1``); for PostgreSQL they become psycopg's
``%(customer)s`` (and literal ``%`` becomes ``%%``), found with sqlglot's tokenizer rather
than a regex so a ``::cast`` or a ``':x'`` string is never mistaken for one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects import Dialect as SqlglotDialect
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.tokenizer_core import TokenType

from harness.errors import PlanError, did_you_mean
from harness.queries.extract import call_sites
from harness.queries.placeholders import PlaceholderError, canonical
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
    """The named parameters the SQL uses (``p1``, ``p2``… for positional ones)."""
    fixed: tuple[dict[str, Any], ...] = ()
    """The plan's fixed parameter sets, by name (list sets matched to ``p1``, ``p2``…)."""
    style: str = "none"
    """How the application wrote its parameters (``$n``, ``?``, ``:name``…)."""
    as_written: str | None = None
    """The SQL before its placeholders were spelled ``:name`` (when that changed it)."""
    write: bool = False
    """An INSERT, UPDATE, DELETE or MERGE (anywhere in the statement, CTEs included)."""
    infer: frozenset[str] = field(default_factory=frozenset)
    """Parameters with no value in the plan, drawn from their columns (:mod:`.infer`)."""
    site: str | None = None
    """``file line N`` for a query taken from application code."""
    problem: str | None = None
    """Why the query cannot run at all (dynamic SQL in code): the check is an error."""
    skipped: str | None = None
    """The plan's reason for not verifying this call site (``queries.sites.NAME.skip``)."""


def load_corpus(
    settings: QuerySettings,
    *,
    source_dialect: str,
    target_dialect: str,
    base: Path | None = None,
) -> tuple[QuerySpec, ...]:
    """Every query of the section, in name order; file problems are :class:`PlanError`.
    ``base``: the plan's folder, which ``queries.from`` globs are relative to."""
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
    specs += _from_code(settings, base or Path.cwd(), written, source_dialect, target_dialect)
    names = [s.name for s in specs]
    unknown = sorted(set(settings.sites) - set(names))
    if unknown:
        hint = did_you_mean(unknown[0], names)
        raise PlanError(
            f"no query taken from code is named '{unknown[0]}'.{hint}",
            key=f"queries.sites.{unknown[0]}",
        )
    return tuple(sorted(specs, key=lambda s: s.name))


def _from_code(
    settings: QuerySettings, base: Path, written: str, source: str, target: str
) -> list[QuerySpec]:
    """A spec per call site of ``queries.from`` (:mod:`harness.queries.extract`)."""
    specs = []
    for site in call_sites(settings.from_, base, written):
        given = settings.sites.get(site.name)
        where = f"{site.file} line {site.line}"
        if site.problem is not None or (given is not None and given.skip):
            query = Query(sql=site.sql)
            spec = QuerySpec(site.name, query, _none(), _none(), ordered=False)
            specs.append(
                replace(
                    spec,
                    site=where,
                    problem=site.problem,
                    skipped=given.skip if given is not None else None,
                )
            )
            continue
        query = Query(
            sql=site.sql,
            params=given.params if given else (),
            generate=dict(given.generate) if given else {},
            ordered=given.ordered if given else None,
        )
        spec = _spec(site.name, query, written, source, target, key=f"queries.sites.{site.name}")
        specs.append(replace(spec, site=where))
    return specs


def _none() -> SideSql:
    return SideSql(None, "not run")


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


def _spec(
    name: str, query: Query, written: str, source: str, target: str, *, key: str | None = None
) -> QuerySpec:
    key = key or f"queries.corpus.{name}"
    original = query.sql
    query, fixed, style = _canonical(key, query, written)
    source_sql = _side(query, written, source)
    target_sql = _side(query, written, target)
    params = _placeholders(query, written)
    declared = {k for p in fixed for k in p} | set(query.generate)
    for unused in sorted(declared - params):
        hint = did_you_mean(unused, params)
        raise PlanError(
            f"parameter '{unused}' is not used by the query (it uses "
            f"{', '.join(':' + p for p in sorted(params)) or 'none'}).{hint}",
            key=key,
        )
    for given in fixed:
        missing = sorted(params - set(given))
        if missing:
            raise PlanError(
                f"a fixed parameter set lacks {', '.join(missing)}", key=f"{key}.params"
            )
    infer = frozenset() if fixed else frozenset(params - set(query.generate))
    ordered = query.ordered
    if ordered is None:
        ordered = _has_order_by(query.dialects.get(written) or query.sql or "", written)  # type: ignore[call-overload]
    text = query.dialects.get(written) or query.sql or ""  # type: ignore[call-overload]
    return QuerySpec(
        name,
        query,
        source_sql,
        target_sql,
        ordered,
        frozenset(params),
        fixed,
        style,
        as_written=original if original != query.sql else None,
        write=is_write(text, written),
        infer=infer,
    )


def _canonical(
    key: str, query: Query, written: str
) -> tuple[Query, tuple[dict[str, Any], ...], str]:
    """``query`` with its placeholders spelled ``:name`` and its list parameter sets turned
    into mappings (``$1`` is ``p1``): see :mod:`harness.queries.placeholders`."""
    texts = [(query.sql, written)] if query.sql is not None else []
    texts += [(t, d) for d, t in query.dialects.items()]
    try:
        done = [canonical(t, d) for t, d in texts]
    except PlaceholderError as exc:
        raise PlanError(str(exc), key=key) from None
    positional = {c.positional for c in done if c.style != "none"}
    if len(positional) > 1:
        raise PlanError("one spelling of the query is positional, another named", key=key)
    names = max((c.names for c in done), key=len, default=())
    sets: list[dict[str, Any]] = []
    for index, given in enumerate(query.params):
        if isinstance(given, dict):
            if positional == {True}:
                raise PlanError(
                    f"the query's parameters are positional ({done[0].style}): give each set "
                    f"as a list of {len(names)} value(s)",
                    key=f"{key}.params.{index}",
                )
            sets.append(dict(given))
            continue
        if positional != {True}:
            raise PlanError(
                "a list of values fits positional parameters ($1, ?, %s); this query's are "
                f"named ({', '.join(':' + n for n in names) or 'none'}): give a mapping",
                key=f"{key}.params.{index}",
            )
        if len(given) != len(names):
            raise PlanError(
                f"{len(given)} value(s) for {len(names)} parameter(s)", key=f"{key}.params.{index}"
            )
        sets.append(dict(zip(names, given, strict=True)))
    style = next((c.style for c in done if c.style != "none"), "none")
    update: dict[str, Any] = {}
    if query.sql is not None:
        update["sql"] = done[0].text
        done = done[1:]
    update["dialects"] = {d: c.text for d, c in zip(query.dialects, done, strict=True)}
    return query.model_copy(update=update), tuple(sets), style


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


WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge)


def is_write(text: str, dialect: str) -> bool:
    """The statement changes rows somewhere (a data-modifying CTE under a SELECT counts).
    Text sqlglot cannot parse counts as a read: it runs read-only, where a write is refused."""
    try:
        tree = _parse_one(text, dialect)
    except SqlglotError:
        return False
    return tree.find(*WRITES) is not None


def _has_order_by(text: str, dialect: str) -> bool:
    try:
        tree = _parse_one(text, dialect)
    except SqlglotError:
        return False
    return tree.args.get("order") is not None
