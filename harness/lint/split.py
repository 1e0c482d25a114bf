"""Split a SQL script into statements, keeping where each one is and the comments around it.

This is a hand-written scanner rather than sqlglot's tokenizer for two reasons: one bad
statement must not stop the rest of the file from being read (``sqlglot.parse`` raises for the
whole script), and the scan must be cheap enough to run over megabytes of ``pg_dump`` output
before any parsing. It understands exactly what decides where a statement ends: quotes
(``'…'``, ``E'…'``, ``"…"``), dollar quotes, line and nested block comments, ``BEGIN … END``
bodies (SQLite triggers, ``BEGIN ATOMIC``), psql meta-commands (``\\restrict``) and the data
block that follows ``COPY … FROM stdin``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# Positions where the scanner has to decide something; everything between is plain text.
_INTERESTING = re.compile(
    r"""--|/\*|\$(?:[A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)?\$|'|"|;|^\\|\b(?:BEGIN|CASE|END)\b""",
    re.IGNORECASE | re.MULTILINE,
)
_SINGLE = re.compile(r"'(?:[^']|'')*'")
_ESCAPED = re.compile(r"'(?:[^'\\]|\\.|'')*'", re.DOTALL)
_DOUBLE = re.compile(r'"(?:[^"]|"")*"')
_BLOCK_EDGE = re.compile(r"/\*|\*/")
# Statements whose body may hold a BEGIN … END block with semicolons inside.
_BLOCK_HEAD = re.compile(
    r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:CONSTRAINT\s+)?"
    r"(?:TRIGGER|FUNCTION|PROCEDURE)\b",
    re.IGNORECASE,
)
_COPY_FROM_STDIN = re.compile(r"\s*COPY\b[^;]*\bFROM\s+STDIN\b", re.IGNORECASE)
_COPY_END = re.compile(r"^\\\.[ \t]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment outside string literals, with its offset in the script."""

    start: int
    text: str


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: its text (no trailing ``;``), where it starts and ends in the script."""

    text: str
    start: int
    end: int
    """Offset just past the statement's last character (before ``;``)."""
    meta: bool = False
    """A psql meta-command (``\\connect``, ``\\restrict``): client-side, never sent to a server."""
    copy_rows: int = -1
    """For ``COPY … FROM stdin``: the number of data rows that follow it in the script."""


@dataclass(frozen=True)
class Script:
    """A split script: statements, comments, and a line index for offsets."""

    text: str
    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...]
    line_starts: tuple[int, ...]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of an offset."""
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _skip_block_comment(text: str, pos: int) -> int:
    depth = 0
    for m in _BLOCK_EDGE.finditer(text, pos):
        depth += 1 if m.group() == "/*" else -1
        if depth == 0:
            return m.end()
    return len(text)


def split(text: str) -> Script:
    """Split ``text`` into statements; never raises, unterminated constructs run to the end."""
    statements: list[Statement] = []
    comments: list[Comment] = []
    n = len(text)
    pos = 0
    stmt_start = -1  # offset of the first significant character of the current statement
    depth = 0  # BEGIN/CASE … END nesting inside a block-bodied statement
    block_ok = False  # current statement may contain BEGIN … END

    def begin_statement(at: int) -> None:
        nonlocal stmt_start, block_ok, depth
        if stmt_start < 0:
            stmt_start = at
            block_ok = _BLOCK_HEAD.match(text, at) is not None
            depth = 0

    def close(at: int) -> int:
        """End the statement at ``at`` (the ``;`` or end of text); return where to go on."""
        nonlocal stmt_start
        resume = min(at + 1, n)
        if stmt_start >= 0:
            body = text[stmt_start:at].rstrip()
            copy_rows = -1
            if _COPY_FROM_STDIN.match(body):
                end = _COPY_END.search(text, resume)
                data_end = end.start() if end else n
                first_nl = text.find("\n", resume)
                data = text[first_nl + 1 : data_end] if 0 <= first_nl < data_end else ""
                copy_rows = data.count("\n")
                resume = end.end() if end else n
            statements.append(
                Statement(body, stmt_start, stmt_start + len(body), copy_rows=copy_rows)
            )
        stmt_start = -1
        return resume

    while pos < n:
        m = _INTERESTING.search(text, pos)
        if m is None:
            break
        tok = m.group()
        at = m.start()
        if stmt_start < 0 and text[pos:at].strip():
            begin_statement(pos + len(text[pos:at]) - len(text[pos:at].lstrip()))
        if tok == "--":
            eol = text.find("\n", at)
            eol = n if eol < 0 else eol
            comments.append(Comment(at, text[at:eol]))
            pos = eol
        elif tok == "/*":
            pos = _skip_block_comment(text, at)
            comments.append(Comment(at, text[at:pos]))
        elif tok == ";":
            pos = at + 1 if depth > 0 else close(at)
        elif tok == "\\":
            if stmt_start < 0:  # a psql meta-command line
                eol = text.find("\n", at)
                eol = n if eol < 0 else eol
                statements.append(Statement(text[at:eol].rstrip(), at, eol, meta=True))
                pos = eol
            else:
                pos = at + 1
        elif tok[0] in "'\"$":
            begin_statement(at)
            if tok == "'":
                escaped = at > 0 and text[at - 1] in "eE" and (at < 2 or not _is_word(text[at - 2]))
                q = (_ESCAPED if escaped else _SINGLE).match(text, at)
                pos = q.end() if q else n
            elif tok == '"':
                q = _DOUBLE.match(text, at)
                pos = q.end() if q else n
            else:
                close_at = text.find(tok, m.end())
                pos = n if close_at < 0 else close_at + len(tok)
        else:  # BEGIN / CASE / END words
            begin_statement(at)
            if block_ok:
                word = tok.upper()
                if word in ("BEGIN", "CASE"):
                    # BEGIN right after a statement head is a transaction, not a block;
                    # block_ok is only set for CREATE TRIGGER/FUNCTION/PROCEDURE.
                    depth += 1
                elif depth > 0:
                    depth -= 1
            pos = m.end()
    if stmt_start < 0 and text[pos:].strip():
        begin_statement(pos + len(text[pos:]) - len(text[pos:].lstrip()))
    if stmt_start >= 0:
        close(n)
    line_starts = [0]
    line_starts.extend(m.end() for m in re.finditer("\n", text))
    return Script(text, tuple(statements), tuple(comments), tuple(line_starts))
