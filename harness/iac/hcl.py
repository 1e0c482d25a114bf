"""HCL, read as far as the residue scan needs: blocks, attributes and values, with offsets.

python-hcl2 returns values without positions, and every finding must name its line, so this
is a small structural reader instead. It works on text whose comments are already blanked
(:func:`harness.residue.lexers.blank`): a body is a sequence of ``name = expression``
attributes and ``type "label" … { body }`` blocks; an expression ends at the end of its line
unless a bracket, a string (with ``${…}`` interpolations, which may hold strings of their
own) or a heredoc is still open. It is forgiving: text it cannot read is skipped a line at a
time, never an exception, because the identifier scan must still run on a broken file.

:func:`value` reads an expression into :class:`Value` trees (objects, tuples, strings and
opaque expressions) for the policy documents written with ``jsonencode({...})``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from harness.residue.lexers import Span, blank

_IDENT = re.compile(r"[A-Za-z_][\w-]*")
_SPACE = re.compile(r"[ \t\r]*")
_GAP = re.compile(r"[ \t\r\n,]*")
_HEREDOC = re.compile(r"<<-?[ \t]*([A-Za-z_]\w*)[ \t]*\n")


@dataclass(frozen=True)
class Attribute:
    """``name = expression``: where the name is and where its value starts and ends."""

    name: str
    start: int
    value_start: int
    value_end: int


@dataclass(frozen=True)
class Block:
    """``kind "label"… { … }`` with its attributes and nested blocks."""

    kind: str
    labels: tuple[str, ...]
    start: int
    open: int
    """Offset just after ``{``."""
    close: int
    """Offset of the closing ``}``."""
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]

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


def _past(pattern: re.Pattern[str], code: str, i: int, end: int | None = None) -> int:
    """Past what ``pattern`` (which matches the empty string too) matches at ``i``."""
    match = pattern.match(code, i, len(code) if end is None else end)
    return match.end() if match else i


def parse(code: str) -> tuple[Block, ...]:
    """Top-level blocks of ``code`` (comments already blanked)."""
    _attributes, blocks, _end = _body(code, 0, top=True)
    return tuple(blocks)


def _body(code: str, i: int, *, top: bool) -> tuple[list[Attribute], list[Block], int]:
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
            i += 1
            continue
        name = _IDENT.match(code, i)
        if name is None:
            i = _next_line(code, i)
            continue
        j = _past(_SPACE, code, name.end())
        if j < n and code[j] == "=" and not code.startswith("==", j):
            start = _past(_SPACE, code, j + 1)
            end = expression_end(code, start)
            attributes.append(Attribute(name.group(), name.start(), start, end))
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
            inner, nested, close = _body(code, k + 1, top=False)
            blocks.append(
                Block(
                    name.group(),
                    tuple(labels),
                    name.start(),
                    k + 1,
                    close,
                    tuple(inner),
                    tuple(nested),
                )
            )
            i = close + 1
            continue
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
