"""Where the comments are: character spans of comments (and prose) in a source file.

The scanners report a reference in a comment separately from one in code, and the structure
scanners (CDK, Terraform) must not see commented-out code. Both need the same thing: the
comment spans of a file, found by a small lexer that knows each family's comment and string
syntax. Python uses the standard library's tokenizer; the other families use one
configurable character scanner. The scanners are deliberately forgiving: on text they cannot
lex they return what they found so far rather than fail, because an unlexable file must still
be scanned for identifiers.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

Span = tuple[int, int]
"""Character offsets ``[start, end)`` in the file's text."""


@dataclass(frozen=True)
class Syntax:
    """The comment and string syntax of one family of languages."""

    line: tuple[str, ...] = ()
    block: tuple[str, str] | None = None
    quotes: str = ""
    quote_at_token_start: bool = False
    """YAML, shell, .env: a quote only opens a string where a value starts (``don't`` is text)."""
    hash_after_space: bool = False
    """YAML and shell: ``#`` starts a comment only at line start or after whitespace."""
    heredocs: bool = False
    """HCL: ``<<EOF`` … ``EOF`` bodies are strings."""


C_LIKE = Syntax(line=("//",), block=("/*", "*/"), quotes="\"'`")
HCL = Syntax(line=("#", "//"), block=("/*", "*/"), quotes='"', heredocs=True)
HASH = Syntax(line=("#",), quotes="\"'", quote_at_token_start=True, hash_after_space=True)
SQL = Syntax(line=("--",), block=("/*", "*/"), quotes="'\"")
INI = Syntax(line=(";", "#"), quotes="\"'", quote_at_token_start=True, hash_after_space=True)
NONE = Syntax()

_TOKEN_START = " \t\n:=,[{("
_HEREDOC = re.compile(r"<<-?\s*([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n")


def comment_spans(text: str, syntax: Syntax) -> list[Span]:
    """The comments of ``text`` under ``syntax``, in order."""
    spans: list[Span] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if syntax.heredocs and text.startswith("<<", i):
            match = _HEREDOC.match(text, i)
            if match:
                i = _heredoc_end(text, match.end(), match.group(1))
                continue
        if ch in syntax.quotes and (
            not syntax.quote_at_token_start or i == 0 or text[i - 1] in _TOKEN_START
        ):
            i = _string_end(text, i, ch)
            continue
        if syntax.block and text.startswith(syntax.block[0], i):
            end = text.find(syntax.block[1], i + len(syntax.block[0]))
            end = n if end < 0 else end + len(syntax.block[1])
            spans.append((i, end))
            i = end
            continue
        marker = next((m for m in syntax.line if text.startswith(m, i)), None)
        if marker is not None and not (
            marker == "#" and syntax.hash_after_space and i > 0 and text[i - 1] not in " \t\n"
        ):
            end = text.find("\n", i)
            end = n if end < 0 else end
            spans.append((i, end))
            i = end
            continue
        i += 1
    return spans


def _string_end(text: str, start: int, quote: str) -> int:
    """Offset just past the string opened at ``start``; single-line unless a backtick."""
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        if ch == "\n" and quote != "`":
            return i  # an unterminated string ends at the line, as a forgiving lexer should
        i += 1
    return len(text)


def _heredoc_end(text: str, body: int, marker: str) -> int:
    for match in re.finditer(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", text[body:], re.M):
        return body + match.end()
    return len(text)


def python_comment_spans(text: str) -> list[Span]:
    """Comments and docstrings of Python source (a docstring is prose, not code)."""
    starts = _line_starts(text)
    spans: list[Span] = []
    previous = tokenize.NEWLINE
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            start = starts[tok.start[0] - 1] + tok.start[1]
            end = starts[tok.end[0] - 1] + tok.end[1]
            if tok.type == tokenize.COMMENT:
                spans.append((start, end))
            elif tok.type == tokenize.STRING and previous in (
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
            ):
                spans.append((start, end))  # a bare string statement: a docstring
            if tok.type not in (tokenize.NL, tokenize.COMMENT):
                previous = tok.type
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # keep what was found: the identifier scan must still run on a broken file
    return spans


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    starts.append(len(text))
    return starts


def blank(text: str, spans: list[Span]) -> str:
    """``text`` with every span replaced by spaces, newlines kept, so offsets still line up."""
    out = list(text)
    for start, end in spans:
        for i in range(start, end):
            if out[i] != "\n":
                out[i] = " "
    return "".join(out)


class Locator:
    """Offsets to 1-based (line, column) and comment membership, for one file's text."""

    def __init__(self, text: str, spans: list[Span]) -> None:
        self._starts = _line_starts(text)
        self._spans = spans

    def position(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:  # the last line start <= offset
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self._starts[lo] + 1

    def in_comment(self, offset: int) -> bool:
        return any(start <= offset < end for start, end in self._spans)
