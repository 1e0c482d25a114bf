"""HCL (Terraform), read with positions: blocks, attributes and expressions, each with its line.

Every finding names its line, and python-hcl2 keeps none, so this is a small reader of its
own, in two layers.

The structure (:func:`document`, :func:`parse`) works on text whose comments are already
blanked (:func:`without_comments`): a body is a sequence of ``name = expression`` attributes
and ``type "label" … { body }`` blocks; an expression ends at the end of its line unless a
bracket, a string (with ``${…}`` interpolations, which may hold strings of their own) or a
heredoc is still open. It is forgiving: text it cannot read is skipped a line at a time and
noted in :attr:`Block.problems`, never an exception, because the residue identifier scan must
still run on a broken file. :func:`strict` is the same reading for a caller that skips a file
it cannot follow whole (posture: a value is never guessed at).

Each attribute's value is also read as an expression tree with lines
(:attr:`Attribute.expr`, :mod:`harness.iac.hclexpr`), for posture to follow ``var.x`` to the
line where the value is set.

:func:`mask` blanks string literals so references can be found by position (residue), and
:func:`value` reads an expression into :class:`Value` trees with offsets for the policy
documents written with ``jsonencode({...})``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

from harness.iac.hclexpr import (
    Call,
    Expr,
    HclError,
    ListExpr,
    Lit,
    ObjExpr,
    Opaque,
    Parser,
    Ref,
    Template,
)
from harness.iac.lexers import HCL, Span, blank, comment_spans

__all__ = [
    "Attribute",
    "Block",
    "Call",
    "Expr",
    "HclError",
    "ListExpr",
    "Lit",
    "ObjExpr",
    "Opaque",
    "Ref",
    "Template",
    "Value",
    "document",
    "expression_end",
    "literal",
    "mask",
    "parse",
    "strict",
    "value",
    "without_comments",
]

_IDENT = re.compile(r"[A-Za-z_][\w-]*")
_SPACE = re.compile(r"[ \t\r]*")
_GAP = re.compile(r"[ \t\r\n,]*")
_HEREDOC = re.compile(r"<<-?[ \t]*([A-Za-z_]\w*)[ \t]*\n")


# -- structure ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    """``name = expression``: where the name is and where its value starts and ends."""

    name: str
    start: int
    value_start: int
    value_end: int
    line: int
    """The line of the name."""
    expr: Expr
    """The value read as an expression tree (:class:`Opaque` where it cannot be followed)."""


@dataclass(frozen=True)
class Block:
    """``kind "label"… { … }`` with its attributes and nested blocks; the root of a file
    (:func:`document`) is a block of kind ``""``."""

    kind: str
    labels: tuple[str, ...]
    start: int
    open: int
    """Offset just after ``{``."""
    close: int
    """Offset of the closing ``}``."""
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]
    line: int
    """The line of the block's type name."""
    problems: tuple[str, ...] = ()
    """The root only: what the reader skipped (``line 3: …``), in order."""

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def children(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]

    def walk(self) -> list[Block]:
        """This block and every block nested in it."""
        found = [self]
        for child in self.blocks:
            found += child.walk()
        return found


def without_comments(text: str) -> str:
    """``text`` with its comments blanked (offsets and lines kept): what the reader reads."""
    return blank(text, comment_spans(text, HCL))


class _Reader:
    def __init__(self, code: str) -> None:
        self.code = code
        self.starts = [0, *(m.end() for m in re.finditer("\n", code))]
        self.problems: list[str] = []

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def skip(self, offset: int, what: str) -> None:
        self.problems.append(f"line {self.line(offset)}: {what}")

    def expression(self, start: int, end: int) -> Expr:
        line = self.line(start)
        text = self.code[start:end]
        try:
            parser = Parser(text, line)
            expr = parser.expression()
            parser.skip_newlines()
            if parser.tok.kind != "eof":
                raise HclError(f"line {parser.tok.line}: unexpected {parser.tok.text!r}")
        except (HclError, IndexError, AssertionError, RecursionError) as error:
            self.problems.append(
                str(error) if str(error).startswith("line") else f"line {line}: {error}"
            )
            return Opaque(line, " ".join(text.split()))
        return expr


def document(code: str) -> Block:
    """The whole of ``code`` (comments already blanked) as a root block of kind ``""``."""
    reader = _Reader(code)
    attributes, blocks, end = _body(reader, 0, top=True)
    return Block("", (), 0, 0, end, tuple(attributes), tuple(blocks), 1, tuple(reader.problems))


def parse(code: str) -> tuple[Block, ...]:
    """Top-level blocks of ``code`` (comments already blanked)."""
    return document(code).blocks


def strict(text: str) -> Block:
    """The root of one ``.tf`` or ``.tfvars`` file's text (comments and all); :class:`HclError`
    when any of it could not be followed."""
    root = document(without_comments(text))
    if root.problems:
        raise HclError(root.problems[0])
    return root


def _past(pattern: re.Pattern[str], code: str, i: int, end: int | None = None) -> int:
    """Past what ``pattern`` (which matches the empty string too) matches at ``i``."""
    match = pattern.match(code, i, len(code) if end is None else end)
    return match.end() if match else i


def _body(reader: _Reader, i: int, *, top: bool) -> tuple[list[Attribute], list[Block], int]:
    code = reader.code
    attributes: list[Attribute] = []
    blocks: list[Block] = []
    n = len(code)
    while i < n:
        ch = code[i]
        if ch in " \t\r\n,;":
            i += 1
            continue
        if ch == "}":
            if not top:
                return attributes, blocks, i
            reader.skip(i, "unexpected '}'")
            i += 1
            continue
        name = _IDENT.match(code, i)
        if name is None:
            reader.skip(i, f"unexpected {ch!r}")
            i = _next_line(code, i)
            continue
        j = _past(_SPACE, code, name.end())
        if j < n and code[j] == "=" and not code.startswith("==", j):
            start = _past(_SPACE, code, j + 1)
            end = expression_end(code, start)
            line = reader.line(name.start())
            expr = reader.expression(start, end)
            attributes.append(Attribute(name.group(), name.start(), start, end, line, expr))
            i = max(end, start + 1) if end == start else end
            continue
        labels: list[str] = []
        k = j
        while k < n:
            if code[k] == '"':
                end = _string_end(code, k)
                labels.append(code[k + 1 : end - 1])
            elif match := _IDENT.match(code, k):
                labels.append(match.group())
                end = match.end()
            else:
                break
            k = _past(_SPACE, code, end)
        if k < n and code[k] == "{":
            inner, nested, close = _body(reader, k + 1, top=False)
            if close >= n:
                reader.skip(name.start(), f"{name.group()} block never closed")
            blocks.append(
                Block(
                    name.group(),
                    tuple(labels),
                    name.start(),
                    k + 1,
                    close,
                    tuple(inner),
                    tuple(nested),
                    reader.line(name.start()),
                )
            )
            i = close + 1
            continue
        reader.skip(i, f"expected = or {{ after {name.group()!r}")
        i = _next_line(code, i)
    return attributes, blocks, n


def _next_line(code: str, i: int) -> int:
    end = code.find("\n", i)
    return len(code) if end < 0 else end + 1


def expression_end(code: str, i: int) -> int:
    """Where the expression starting at ``i`` ends: a newline, a comma or a closing bracket
    outside any bracket, string or heredoc of its own."""
    depth = 0
    n = len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            i = _string_end(code, i)
            continue
        if ch == "<" and (heredoc := _HEREDOC.match(code, i)):
            i = _heredoc_end(code, heredoc.end(), heredoc.group(1))
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return i
            depth -= 1
        elif ch in "\n," and depth == 0:
            return i
        i += 1
    return n


def _string_end(code: str, i: int) -> int:
    """Offset just past the string opened at ``i`` (its interpolations skipped whole)."""
    i += 1
    n = len(code)
    while i < n:
        ch = code[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        if ch == "\n":
            return i  # unterminated: the string ends with its line
        if ch in "$%" and code.startswith("{", i + 1):
            i = _interpolation_end(code, i + 2)
            continue
        i += 1
    return n


def _interpolation_end(code: str, i: int) -> int:
    depth = 1
    n = len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            i = _string_end(code, i)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _heredoc_end(code: str, body: int, marker: str) -> int:
    match = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.M).search(code, body)
    return match.end() if match else len(code)


def mask(code: str) -> str:
    """``code`` with the literal text of strings and heredocs blanked and their ``${…}``
    interpolations kept: what is left is where references can be written."""
    return blank(code, _literal_spans(code))


def _literal_spans(code: str) -> list[Span]:
    spans: list[Span] = []
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            i = _mask_string(code, i + 1, spans, closing='"')
            continue
        if ch == "<" and (heredoc := _HEREDOC.match(code, i)):
            end = _heredoc_end(code, heredoc.end(), heredoc.group(1))
            _mask_template(code, heredoc.end(), end, spans)
            i = end
            continue
        i += 1
    return spans


def _mask_string(code: str, i: int, spans: list[Span], *, closing: str) -> int:
    start = i
    n = len(code)
    while i < n:
        ch = code[i]
        if ch == "\\":
            i += 2
            continue
        if ch == closing or ch == "\n":
            spans.append((start, i))
            return i + 1 if ch == closing else i
        if ch in "$%" and code.startswith("{", i + 1):
            spans.append((start, i))
            i = _mask_interpolation(code, i + 2, spans)
            start = i
            continue
        i += 1
    spans.append((start, n))
    return n


def _mask_interpolation(code: str, i: int, spans: list[Span]) -> int:
    depth = 1
    n = len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            i = _mask_string(code, i + 1, spans, closing='"')
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _mask_template(code: str, start: int, end: int, spans: list[Span]) -> None:
    i = start
    literal = start
    while i < end:
        if code[i] in "$%" and code.startswith("{", i + 1):
            spans.append((literal, i))
            i = _mask_interpolation(code, i + 2, spans)
            literal = i
            continue
        i += 1
    spans.append((literal, end))


def literal(code: str, attribute: Attribute | None) -> str | None:
    """The value of a plain quoted string, ``true``/``false`` or a number; None otherwise."""
    if attribute is None:
        return None
    text = code[attribute.value_start : attribute.value_end].strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and _string_end(text, 0) == len(text):
        inner = text[1:-1]
        return None if "${" in inner else inner.replace('\\"', '"').replace("\\\\", "\\")
    if re.fullmatch(r"true|false|-?\d+(?:\.\d+)?", text):
        return text
    return None


@dataclass(frozen=True)
class Value:
    """A read expression: an object, a tuple, a string literal or anything else."""

    kind: Literal["object", "tuple", "string", "expression"]
    start: int
    end: int
    text: str = ""
    """A string's content or an expression's source."""
    items: tuple[tuple[str, Value], ...] = ()
    """An object's (key, value) pairs; a tuple's ("", value) items."""

    def get(self, key: str) -> Value | None:
        return next((v for k, v in self.items if k == key), None)

    def elements(self) -> list[Value]:
        """A tuple's items, or the value itself: IAM takes ``"x"`` and ``["x"]`` alike."""
        return [v for _k, v in self.items] if self.kind == "tuple" else [self]


_CALL = re.compile(r"(?:jsonencode|tolist|toset)\s*\(")


def value(code: str, start: int, end: int) -> Value:
    """Read the expression in ``code[start:end]`` (``jsonencode(…)`` is seen through)."""
    i = _past(_GAP, code, start)
    call = _CALL.match(code, i)
    if call:
        inner, _ = _value(code, call.end(), end)
        return inner
    read, _ = _value(code, i, end)
    return read


def _value(code: str, i: int, end: int) -> tuple[Value, int]:
    i = _past(_GAP, code, i, end)
    if i >= end:
        return Value("expression", i, i), i
    ch = code[i]
    if ch in "{[":
        closing = "}" if ch == "{" else "]"
        items: list[tuple[str, Value]] = []
        j = i + 1
        while True:
            j = _past(_GAP, code, j, end)
            if j >= end or code[j] == closing:
                break
            key = ""
            if ch == "{":
                key, j = _key(code, j, end)
                j = _past(_SPACE, code, j, end)
                if j < end and code[j] in "=:":
                    j += 1
            item, after = _value(code, j, end)
            items.append((key, item))
            j = max(after, j + 1)
        kind: Literal["object", "tuple"] = "object" if ch == "{" else "tuple"
        return Value(kind, i, min(j + 1, end), code[i : min(j + 1, end)], tuple(items)), j + 1
    if ch == '"':
        stop = min(_string_end(code, i), end)
        after = expression_end(code, stop)
        if after == stop or not code[stop:after].strip():
            return Value("string", i, stop, code[i + 1 : stop - 1]), stop
    stop = min(expression_end(code, i), end)
    return Value("expression", i, stop, code[i:stop].strip()), stop


def _key(code: str, i: int, end: int) -> tuple[str, int]:
    if code[i] == '"':
        stop = _string_end(code, i)
        return code[i + 1 : stop - 1], stop
    match = _IDENT.match(code, i)
    if match:
        return match.group(), match.end()
    stop = code.find("=", i, end)
    return code[i:stop].strip() if stop > 0 else "", stop if stop > 0 else end
