"""Where SQL comes from: files and migration folders, and string literals in application code.

SQL files are linted whole. Python, Ruby and TypeScript/JavaScript files contribute the string
literals that look like SQL (``cursor.execute("…")``, ``pool.query('…')``, template literals);
each literal becomes a :class:`~harness.lint.engine.Fragment` that remembers the line and
column it starts at, so findings point into the application file. A literal's ``{…}`` /
``${…}`` interpolations are replaced by a placeholder identifier so the rest still parses.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from fnmatch import fnmatch
from pathlib import Path

from harness.errors import HarnessError
from harness.lint.engine import Fragment
from harness.lint.suppress import Directive, parse_directives

SQL_SUFFIXES = (".sql", ".pgsql", ".psql")
PY_SUFFIXES = (".py",)
RB_SUFFIXES = (".rb",)
JS_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "dist", "build"}
FIXED_SUFFIX = ".dsql.sql"
"""What ``--fix`` writes; skipped in folders (name one explicitly to lint it)."""
PLACEHOLDER = "cutover_param"
STDIN = Path("-")
"""``cutover lint -``: SQL from standard input."""
_streams: dict[Path, str] = {}
"""What :func:`discover` read from pipes (``-``, ``/dev/stdin``, ``<(pg_dump …)``): a pipe
reads once, and every discovered file is read again after discovery."""

# A literal is SQL when it starts like a statement (a few words, not prose).
LOOKS_LIKE_SQL = re.compile(
    r"""^\s*(?:
      SELECT\s+(?:\*|[\w"(.]+).*?\bFROM\b | SELECT\s+[\w.]+\s*\( | SELECT\s+\d
    | INSERT\s+(?:OR\s+\w+\s+)?INTO\s | UPDATE\s+[\w".]+\s+SET\s | DELETE\s+FROM\s
    | (?:CREATE|ALTER|DROP)\s+
      (?:OR\s+REPLACE\s+|UNIQUE\s+|TEMP\w*\s+|UNLOGGED\s+|MATERIALIZED\s+|IF\s+\w+\s+)*
      (?:TABLE|INDEX|VIEW|SEQUENCE|TYPE|EXTENSION|FUNCTION|PROCEDURE|TRIGGER|SCHEMA|DOMAIN
        |POLICY|ROLE|DATABASE)\b
    | TRUNCATE\s | MERGE\s+INTO\s | COPY\s+[\w".]+ | DO\s+\$ | VACUUM\b | LOCK\s+TABLE\s
    | WITH\s+(?:RECURSIVE\s+)?[\w"]+\s+AS\s*\( | SAVEPOINT\s+\w+\s*;?\s*$ | RELEASE\s+SAVEPOINT\s
    | ROLLBACK\s+TO\s | LISTEN\s+\w+\s*;?\s*$ | UNLISTEN\s | NOTIFY\s+\w+
    | SET\s+(?:SESSION\s+|LOCAL\s+)?
      (?:TRANSACTION|CHARACTERISTICS|default_transaction_isolation|transaction_isolation)\b
    | (?:BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|END)
      (?:\s+(?:ISOLATION\s+LEVEL\s+)?[A-Z ]+)?\s*;?\s*$
    )""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)


_SENTENCE_CASE = re.compile(r"\s*[A-Z][a-z]+\b")
_SQL_MARK = re.compile(r"[=(*;$?]|%s|%\(|:\w")


def looks_like_sql(text: str) -> bool:
    """True for a literal that starts like a statement and is not prose ("Delete from the
    list…"): keywords in one case, or SQL punctuation somewhere."""
    if not LOOKS_LIKE_SQL.match(text):
        return False
    return not _SENTENCE_CASE.match(text) or _SQL_MARK.search(text) is not None


class LintSourceError(HarnessError):
    """A path given to the linter does not exist or cannot be read."""

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def kind_of(path: Path) -> str | None:
    """``sql``, ``python``, ``javascript`` or None for files the linter does not read."""
    name = path.name.lower()
    if name.endswith(SQL_SUFFIXES):
        return "sql"
    if name.endswith(PY_SUFFIXES):
        return "python"
    if name.endswith(RB_SUFFIXES):
        return "ruby"
    if name.endswith(JS_SUFFIXES) and not name.endswith(".d.ts"):
        return "javascript"
    return None


def migration_order(path: Path) -> tuple[object, ...]:
    """Sort key: names by their numbers' values, so ``V2__b.sql`` runs before ``V10__a.sql``,
    as Flyway orders versions (timestamped folders sort the same either way)."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", str(path))
    )


def discover(
    paths: Iterable[Path], *, app_code: bool = True, exclude: Iterable[str] = ()
) -> list[Path]:
    """The files to lint, in a stable order (folders sorted by name, as migrations run)."""
    patterns = tuple(exclude)
    out: list[Path] = []
    _streams.clear()
    for path in paths:
        if is_stream(path):
            _streams[path] = _read_stream(path)
            out.append(path)
            continue
        if not path.exists():
            raise LintSourceError("no such file or folder", path=str(path))
        if path.is_file():
            if kind_of(path) is None and path.suffix:
                raise LintSourceError(
                    "not a file the linter reads (.sql, .py, .rb, .ts, .js …)", path=str(path)
                )
            _check_text(path)
            out.append(path)
            continue
        for found in sorted(_walk(path), key=migration_order):
            kind = kind_of(found)
            if kind is None or (kind != "sql" and not app_code):
                continue
            if found.name.lower().endswith(FIXED_SUFFIX):  # our own --fix output
                continue
            if any(fnmatch(str(found), p) or fnmatch(found.name, p) for p in patterns):
                continue
            _check_text(found)
            out.append(found)
    return out


def is_stream(path: Path) -> bool:
    """``-`` or a pipe (``/dev/stdin``, a shell's ``<(…)``): read once, linted as SQL."""
    return path == STDIN or (path.exists() and not path.is_dir() and not path.is_file())


TEXT_PROBE_BYTES = 8000
"""How much of a file :func:`_check_text` reads: what git reads to tell binary from text."""


def _check_text(path: Path) -> None:
    """A file is linted as text: a NUL byte near its start (git's test) means it is not, so an
    executable, an archive or a compressed dump is refused in one line instead of read as SQL
    that yields a screen of parse errors. Text in another 8-bit encoding still passes (it is
    read with replacement characters, as before); UTF-16, which is full of NULs, is named."""
    try:
        with path.open("rb") as handle:
            head = handle.read(TEXT_PROBE_BYTES)
    except OSError as exc:
        raise LintSourceError(f"cannot read: {exc.strerror}", path=str(path)) from None
    _check_head(head, path)


def _read_stream(path: Path) -> str:
    """All of a pipe's text, read once (standard input for ``-``)."""
    try:
        data = sys.stdin.buffer.read() if path == STDIN else path.read_bytes()
    except OSError as exc:
        raise LintSourceError(f"cannot read: {exc.strerror}", path=str(path)) from None
    _check_head(data[:TEXT_PROBE_BYTES], path)
    return data.decode("utf-8", errors="replace")


def _check_head(head: bytes, path: Path) -> None:
    nul = head.find(b"\x00")
    if nul < 0:
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LintSourceError(
            "UTF-16 text, which the linter does not read; convert it to UTF-8 "
            "(iconv -f UTF-16 -t UTF-8)",
            path=str(path),
        )
    raise LintSourceError(
        f"not a text file (a NUL byte at offset {nul}); give SQL files, migration folders or "
        "application code",
        path=str(path),
    )


def _walk(folder: Path) -> Iterator[Path]:
    for child in folder.iterdir():
        if child.is_dir():
            if child.name not in SKIP_DIRS:
                yield from _walk(child)
        elif child.is_file():
            yield child


def read_fragments(path: Path, kind: str) -> list[Fragment]:
    """The SQL of one file as fragments (one for a SQL file, one per literal in code)."""
    if path in _streams:
        return fragments_of(_streams[path], kind)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise LintSourceError(f"cannot read: {exc.strerror}", path=str(path)) from None
    return fragments_of(text, kind)


def fragments_of(text: str, kind: str) -> list[Fragment]:
    if kind == "sql":
        return [Fragment(text)]
    if kind == "python":
        return list(python_fragments(text))
    if kind == "ruby":
        return list(ruby_fragments(text))
    return list(javascript_fragments(text))


def _host_directives(lines: list[str], line: int) -> tuple[Directive, ...]:
    """``# cutover: ignore[…] reason`` (or ``//``) on the literal's line or the one above."""
    found: list[Directive] = []
    for number in (line - 1, line):
        if 1 <= number <= len(lines):
            found += parse_directives(lines[number - 1], 0)
    return tuple(found)


# ----------------------------------------------------------------------------- Python
def python_fragments(text: str) -> Iterator[Fragment]:
    """SQL-looking string literals and f-strings of a Python module."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return
    lines = text.splitlines()
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    inside_fstrings = {
        id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values
    }
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in inside_fstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            sql = node.value
        elif isinstance(node, ast.JoinedStr):
            sql = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else PLACEHOLDER
                for v in node.values
            )
        else:
            continue
        if not looks_like_sql(sql):
            continue
        line, col = node.lineno, node.col_offset + 1
        source_line = lines[line - 1] if line - 1 < len(lines) else ""
        opener = re.match(r"[rRbBuUfF]*('''|\"\"\"|'|\")", source_line[col - 1 :])
        col += len(opener.group(0)) if opener else 0
        yield Fragment(sql, line, col, _host_directives(lines, line))


# ----------------------------------------------------------------------------- Ruby
_HEREDOC = re.compile(r"<<[~-]?(['\"]?)(\w+)\1[^\n]*\n(.*?)^\s*\2\b", re.DOTALL | re.MULTILINE)
_RUBY_STRING = re.compile(r"\bexecute\s*\(?\s*(['\"])((?:[^\\]|\\.)*?)\1", re.DOTALL)


def ruby_fragments(text: str) -> Iterator[Fragment]:
    """The SQL of a Ruby file: heredocs and ``execute "…"`` strings that look like SQL."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found = []
    for m in _HEREDOC.finditer(text):
        found.append((m.start(3), re.sub(r"#\{[^}]*\}", "cutover_param", m.group(3))))
    for m in _RUBY_STRING.finditer(text):
        found.append((m.start(2), re.sub(r"#\{[^}]*\}", "cutover_param", m.group(2))))
    for start, sql in sorted(found):
        if looks_like_sql(sql):
            line = _line_of(starts, start)
            yield Fragment(sql, line, start - starts[line - 1] + 1)


# ----------------------------------------------------------------------------- JS / TS
_JS_TOKEN = re.compile(
    r"//[^\n]*|/\*.*?\*/|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|`", re.DOTALL
)


def javascript_fragments(text: str) -> Iterator[Fragment]:
    """SQL-looking string and template literals of a TypeScript/JavaScript file."""
    lines = text.splitlines()
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    pos = 0
    while True:
        m = _JS_TOKEN.search(text, pos)
        if m is None:
            return
        token = m.group()
        if token.startswith(("//", "/*")):
            pos = m.end()
            continue
        if token == "`":
            body, pos = _template(text, m.end())
            start = m.end()
        else:
            body, pos = token[1:-1], m.end()
            start = m.start() + 1
        if looks_like_sql(body):
            line = _line_of(starts, start)
            yield Fragment(body, line, start - starts[line - 1] + 1, _host_directives(lines, line))


def _line_of(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid
    return lo + 1


def _template(text: str, pos: int) -> tuple[str, int]:
    """The body of a template literal starting at ``pos`` with ``${…}`` replaced."""
    out: list[str] = []
    i = pos
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            out.append(text[i : i + 2])
            i += 2
        elif ch == "`":
            return "".join(out), i + 1
        elif text.startswith("${", i):
            depth, begin, i = 1, i, i + 2
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            # Keep line numbers right when the interpolation spans lines.
            out.append(PLACEHOLDER + "\n" * text.count("\n", begin, i))
        else:
            out.append(ch)
            i += 1
    return "".join(out), len(text)
