"""Queries read out of application code (``queries.from``), one per call site.

The string and template literals that look like SQL are found by the linter's own reader
(:mod:`harness.lint.sources`), so the queries verified are the ones linted. Each becomes a
query named for where it sits: ``backend/src/db.ts:getUser`` (the enclosing function), with
``:LINE`` added when one function holds several, or ``backend/src/db.ts:42`` outside any
function. A tagged template (``sql`SELECT … ${id}```) binds its ``${…}`` as values, so each
becomes a positional parameter; a plain template or f-string interpolates text into the SQL,
which cannot be run as written, so that call site is reported as an error rather than guessed.
Statements that are not queries or writes (DDL, ``BEGIN``) are left to the linter.
"""

from __future__ import annotations

import ast
import glob
import re
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from harness.errors import PlanError
from harness.lint.engine import Fragment
from harness.lint.sources import PLACEHOLDER, kind_of, read_fragments

KINDS = ("python", "javascript")

_RUNNABLE = (exp.Query, exp.Insert, exp.Update, exp.Delete, exp.Merge)


@dataclass(frozen=True)
class CallSite:
    """One SQL literal of the application: its name, text, and why it cannot run, if so."""

    name: str
    sql: str
    file: str
    line: int
    problem: str | None = None


def call_sites(patterns: tuple[str, ...], base: Path, dialect: str) -> list[CallSite]:
    """Every query and write of the files ``patterns`` match (globs relative to ``base``)."""
    files: list[Path] = []
    for pattern in patterns:
        matched = sorted(
            Path(p) for p in glob.glob(str(base / pattern), recursive=True) if Path(p).is_file()
        )
        if not matched:
            raise PlanError(
                f"'{pattern}' matches no file (relative to the plan's folder)", key="queries.from"
            )
        for path in matched:
            if kind_of(path) not in KINDS:
                raise PlanError(
                    f"{path}: not Python or TypeScript/JavaScript; .sql files go in queries.paths",
                    key="queries.from",
                )
            if path not in files:
                files.append(path)
    out: list[CallSite] = []
    for path in files:
        out += _sites(path, base, dialect)
    return out


def _sites(path: Path, base: Path, dialect: str) -> list[CallSite]:
    kind = kind_of(path)
    assert kind is not None
    text = path.read_text(encoding="utf-8", errors="replace")
    found: list[tuple[Fragment, str, str | None]] = []
    for fragment in read_fragments(path, kind):
        sql, problem = _bound(fragment, text)
        if not _runnable(sql, dialect):
            continue
        found.append((fragment, sql, problem))
    owners = _functions(text, kind)
    label = _label(path, base)
    by_function: dict[str | None, int] = {}
    named = []
    for fragment, sql, problem in found:
        owner = _owner(owners, fragment.line)
        by_function[owner] = by_function.get(owner, 0) + 1
        named.append((owner, fragment, sql, problem))
    out = []
    for owner, fragment, sql, problem in named:
        if owner is None:
            name = f"{label}:{fragment.line}"
        elif by_function[owner] > 1:
            name = f"{label}:{owner}:{fragment.line}"
        else:
            name = f"{label}:{owner}"
        out.append(CallSite(name, sql, label, fragment.line, problem))
    return out


def _label(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _bound(fragment: Fragment, text: str) -> tuple[str, str | None]:
    """The literal's SQL with a tagged template's ``${…}`` as ``$1``, ``$2``…; or the text
    and why it cannot run (an interpolation into untagged text)."""
    sql = fragment.text
    if PLACEHOLDER not in sql:
        return sql, None
    if _tagged(fragment, text):
        count = 0

        def number(_: re.Match[str]) -> str:
            nonlocal count
            count += 1
            return f"${count}"

        return re.sub(rf"\b{PLACEHOLDER}\b", number, sql), None
    return sql, (
        "the SQL is built by interpolating into the text (a ${…} in a plain template or an "
        "f-string), so it cannot run as written; bind the values as parameters, or give the "
        "query in queries.corpus"
    )


def _tagged(fragment: Fragment, text: str) -> bool:
    """The literal is a template whose backtick follows a tag (``sql`…```, ``db.sql`…```)."""
    lines = text.splitlines()
    if fragment.line > len(lines):
        return False
    before = lines[fragment.line - 1][: max(fragment.col - 1, 0)]
    return re.search(r"[\w$)\]]\s*`$", before) is not None


def _runnable(sql: str, dialect: str) -> bool:
    """A query or a write (not DDL or transaction control, which the linter looks at)."""
    try:
        trees = [t for t in sqlglot.parse(sql.replace(PLACEHOLDER, "NULL"), read=dialect) if t]
    except SqlglotError:
        return bool(re.match(r"\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b", sql, re.IGNORECASE))
    return len(trees) == 1 and isinstance(trees[0], _RUNNABLE)


# Function heads in TypeScript/JavaScript: declarations, arrow functions bound to a name,
# methods and object properties. A pre-scan, not a parser: the name is only a label, and the
# line is always there to tell two call sites apart.
_JS_FUNCTION = re.compile(
    r"""^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:
      (?:async[ \t]+)?function[ \t]*\*?[ \t]*(?P<decl>[\w$]+)
    | (?:const|let|var)[ \t]+(?P<arrow>[\w$]+)[ \t]*(?::[^=\n]+)?=[ \t]*(?:async[ \t]*)?
      (?:function\b|\([^)]*\)[^=\n{]*=>|[\w$]+[ \t]*=>)
    | (?:(?:public|private|protected|static|async|readonly)[ \t]+)*
      (?P<method>(?!(?:if|for|while|switch|catch|return|function)\b)[\w$]+)
      [ \t]*(?:<[^>\n]*>)?\([^)\n]*\)[^;{\n]*\{
    | (?P<prop>[\w$]+)[ \t]*:[ \t]*(?:async[ \t]*)?(?:function\b|\([^)]*\)[^=\n{]*=>)
    )""",
    re.MULTILINE | re.VERBOSE,
)


def _functions(text: str, kind: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of each function, innermost last among overlaps."""
    if kind == "python":
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return []
        return [
            (node.lineno, node.end_lineno or node.lineno, node.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
    heads = []
    for m in _JS_FUNCTION.finditer(text):
        name = m.group("decl") or m.group("arrow") or m.group("method") or m.group("prop")
        heads.append((text.count("\n", 0, m.start()) + 1, name))
    # Each head reaches to the next one (module-level code after a function is rare in a
    # db module; a query there is still named by its line when it precedes any function).
    last = text.count("\n") + 1
    return [
        (line, heads[i + 1][0] - 1 if i + 1 < len(heads) else last, name)
        for i, (line, name) in enumerate(heads)
    ]


def _owner(functions: list[tuple[int, int, str]], line: int) -> str | None:
    inside = [f for f in functions if f[0] <= line <= f[1]]
    return max(inside, key=lambda f: f[0])[2] if inside else None
