"""HCL expressions as trees with lines: the values posture follows to where they are set.

Literals, string templates, lists, objects, references (``var.x``, ``aws_db_instance.db.id``)
and function calls, each with its line. Anything else (operators, conditionals, ``for``
expressions, ``%{`` directives) is an :class:`Opaque` expression — a value known only when
Terraform runs, never guessed at. :mod:`harness.iac.hcl` reads every attribute's value with
:class:`Parser`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class HclError(ValueError):
    """Text that is not HCL this reader can follow."""


# -- expressions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    line: int


@dataclass(frozen=True)
class Lit(Expr):
    value: str | int | float | bool | None


@dataclass(frozen=True)
class Template(Expr):
    parts: tuple[str | Expr, ...]


@dataclass(frozen=True)
class Ref(Expr):
    """A traversal: ``var.x``, ``aws_db_instance.db.id``, ``local.tags["env"]``."""

    path: tuple[str | int, ...]


@dataclass(frozen=True)
class ListExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ObjExpr(Expr):
    items: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Opaque(Expr):
    text: str


# -- expression tokens and parser ------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<newline>\n)
  | (?P<space>[ \t\r]+)
  | (?P<heredoc><<-?(?P<tag>[A-Za-z_][A-Za-z0-9_]*)[ \t]*\n)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||=>|\.\.\.|[{}\[\]().,=:?!<>+\-*/%])
    """,
    re.X | re.S,
)


@dataclass(frozen=True)
class Token:
    kind: str
    """``newline``, ``number``, ``ident``, ``op``, ``string`` (raw template text) or ``eof``."""
    text: str
    line: int


def _quote_end(text: str, start: int) -> int:
    """The index of the quote closing the string that opens at ``start``."""
    i, depth = start + 1, 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if text.startswith(("${", "%{"), i):
            depth += 1
            i += 2
            continue
        if depth and char == "}":
            depth -= 1
        elif depth and char == '"':
            i = _quote_end(text, i)
        elif not depth and char == '"':
            return i
        elif char == "\n" and not depth:
            break
        i += 1
    raise HclError("unterminated string")


def tokens(text: str, first_line: int = 1) -> list[Token]:
    out: list[Token] = []
    line, i = first_line, 0
    while i < len(text):
        if text[i] == '"':
            end = _quote_end(text, i)
            out.append(Token("string", text[i + 1 : end], line))
            line += text.count("\n", i, end)
            i = end + 1
            continue
        match = _TOKEN.match(text, i)
        if match is None:
            raise HclError(f"line {line}: unexpected {text[i]!r}")
        kind = match.lastgroup or ""
        if kind == "tag":
            kind = "heredoc"
        if kind == "heredoc":
            tag = match.group("tag")
            close = re.compile(rf"^[ \t]*{re.escape(tag)}[ \t]*$", re.M)
            found = close.search(text, match.end())
            if found is None:
                raise HclError(f"line {line}: heredoc {tag} never closed")
            out.append(Token("string", text[match.end() : found.start()], line))
            line += text.count("\n", i, found.end())
            i = found.end()
            continue
        if kind == "newline":
            out.append(Token("newline", "\n", line))
        elif kind == "comment":
            if "\n" in match.group():
                out.append(Token("newline", "\n", line))
        elif kind != "space":
            out.append(Token(kind, match.group(), line))
        line += match.group().count("\n")
        i = match.end()
    out.append(Token("eof", "", line))
    return out


# -- parser ---------------------------------------------------------------------------------

_OPEN = {"(": ")", "[": "]", "{": "}"}


class Parser:
    """One expression's tokens, read into an :class:`Expr` tree with lines."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.toks = tokens(text, first_line)
        self.pos = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def take(self) -> Token:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def expect(self, text: str) -> Token:
        if self.tok.text != text or self.tok.kind not in ("op", "ident"):
            raise HclError(f"line {self.tok.line}: expected {text!r}, found {self.tok.text!r}")
        return self.take()

    def skip_newlines(self) -> None:
        while self.tok.kind == "newline":
            self.pos += 1

    def expression(self) -> Expr:
        """One expression; past a primary, anything (operators, ``? :``) makes it opaque."""
        start = self.pos
        first = self.primary()
        if self._ends_expression():
            return first
        depth = 0
        while True:
            tok = self.tok
            if tok.kind == "eof":
                break
            if depth == 0 and (tok.kind == "newline" or tok.text in (",", ")", "]", "}")):
                break
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _OPEN.values():
                depth -= 1
            self.pos += 1
        text = " ".join(t.text for t in self.toks[start : self.pos] if t.kind != "newline")
        return Opaque(first.line, text)

    def _ends_expression(self) -> bool:
        tok = self.tok
        return tok.kind in ("newline", "eof") or tok.text in (",", ")", "]", "}")

    def primary(self) -> Expr:
        tok = self.take()
        line = tok.line
        if tok.kind == "number":
            number = float(tok.text)
            return Lit(line, int(number) if number.is_integer() and "." not in tok.text else number)
        if tok.kind == "string":
            return self.template(tok)
        if tok.text == "-" and self.tok.kind == "number":
            inner = self.primary()
            assert isinstance(inner, Lit)
            assert isinstance(inner.value, int | float)
            return Lit(line, -inner.value)
        if tok.text == "(":
            self.skip_newlines()
            inner = self.expression()
            self.skip_newlines()
            self.expect(")")
            return self.traversal(inner) if isinstance(inner, Ref) else inner
        if tok.text == "[":
            return self.sequence(line)
        if tok.text == "{":
            return self.mapping(line)
        if tok.kind == "ident":
            if tok.text in ("true", "false"):
                return Lit(line, tok.text == "true")
            if tok.text == "null":
                return Lit(line, None)
            if self.tok.text == "(":
                return self.call(tok)
            return self.traversal(Ref(line, (tok.text,)))
        raise HclError(f"line {line}: unexpected {tok.text!r}")

    def traversal(self, ref: Ref) -> Expr:
        path = list(ref.path)
        while True:
            if self.tok.text == "." and self.toks[self.pos + 1].kind in ("ident", "number"):
                self.take()
                part = self.take().text
                path.append(int(part) if part.isdigit() else part)
            elif self.tok.text == "[":
                self.take()
                index = self.expression()
                self.expect("]")
                if isinstance(index, Lit) and isinstance(index.value, str | int):
                    path.append(index.value)
                else:
                    path.append("*")
            elif self.tok.text == "." and self.toks[self.pos + 1].text == "*":
                self.take()
                self.take()
                path.append("*")
            else:
                return Ref(ref.line, tuple(path))

    def call(self, name: Token) -> Expr:
        self.expect("(")
        args: list[Expr] = []
        while True:
            self.skip_newlines()
            if self.tok.text == ")":
                self.take()
                return Call(name.line, name.text, tuple(args))
            args.append(self.expression())
            self.skip_newlines()
            if self.tok.text == "...":
                self.take()
            if self.tok.text == ",":
                self.take()

    def sequence(self, line: int) -> Expr:
        self.skip_newlines()
        if self.tok.text == "for":
            return self._skip_to(line, "]")
        items: list[Expr] = []
        while True:
            self.skip_newlines()
            if self.tok.text == "]":
                self.take()
                return ListExpr(line, tuple(items))
            items.append(self.expression())
            self.skip_newlines()
            if self.tok.text == ",":
                self.take()

    def mapping(self, line: int) -> Expr:
        self.skip_newlines()
        if self.tok.text == "for":
            return self._skip_to(line, "}")
        items: list[tuple[str, Expr]] = []
        while True:
            self.skip_newlines()
            if self.tok.text == "}":
                self.take()
                return ObjExpr(line, tuple(items))
            key = self.primary()
            if self.tok.text not in ("=", ":"):
                raise HclError(f"line {self.tok.line}: expected = in an object")
            self.take()
            value = self.expression()
            if isinstance(key, Lit | Template) or (isinstance(key, Ref) and len(key.path) == 1):
                name = key.path[0] if isinstance(key, Ref) else _text(key)
                items.append((str(name), value))
            if self.tok.text == ",":
                self.take()

    def _skip_to(self, line: int, closing: str) -> Opaque:
        depth = 1
        while depth:
            tok = self.take()
            if tok.kind == "eof":
                raise HclError(f"line {line}: unclosed for expression")
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _OPEN.values():
                depth -= 1
        return Opaque(line, "for")

    def template(self, tok: Token) -> Expr:
        raw = tok.text
        if "${" not in raw and "%{" not in raw:
            return Lit(tok.line, _unescape(raw))
        if "%{" in raw:
            return Opaque(tok.line, raw)
        parts: list[str | Expr] = []
        i = 0
        while (start := raw.find("${", i)) >= 0:
            parts.append(_unescape(raw[i:start]))
            end, depth = start + 2, 1
            while depth and end < len(raw):
                depth += {"{": 1, "}": -1}.get(raw[end], 0)
                end += 1
            inner = Parser(raw[start + 2 : end - 1], tok.line + raw.count("\n", 0, start))
            parts.append(inner.expression())
            i = end
        parts.append(_unescape(raw[i:]))
        return Template(tok.line, tuple(p for p in parts if p != ""))


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _text(expr: Lit | Template) -> str:
    if isinstance(expr, Lit):
        return str(expr.value)
    return "".join(p if isinstance(p, str) else "?" for p in expr.parts)
