"""Reading CDK app source (TypeScript or Python) as far as posture needs: construct calls.

Not a TypeScript or Python parser: a tokenizer over the text with its comments blanked (by
:mod:`harness.iac.lexers`, the way residue finds them) that keeps strings whole, then a
reader for the one shape CDK code has — ``new rds.DatabaseInstance(this, 'Db', {…})`` in
TypeScript, ``rds.DatabaseInstance(self, "Db", engine=…)`` in Python — whose arguments
become :class:`Node` values (objects, lists, calls, dotted names, literals, each with its
line). Keys are normalised to snake_case so one reader serves both languages. Anything
else in an argument (arrow functions, arithmetic) is :class:`Other`: a value cutover does not
work out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.iac.lexers import C_LIKE, blank, comment_spans, python_comment_spans

_TOKEN = re.compile(
    r"""
    (?P<string>'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>=>|==+|!=+|\.\.\.|\?\.|[{}\[\]().,:;=?!<>+\-*/%&|@\#])
  | (?P<space>\s+)
    """,
    re.X | re.S,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    line: int


def tokens(text: str, *, python: bool) -> list[Token]:
    text = blank(text, python_comment_spans(text) if python else comment_spans(text, C_LIKE))
    out, line, i = [], 1, 0
    while i < len(text):
        match = _TOKEN.match(text, i)
        if match is None:
            i += 1
            continue
        kind = match.lastgroup or ""
        if kind != "space":
            out.append(Token(kind, match.group(), line))
        line += match.group().count("\n")
        i = match.end()
    out.append(Token("eof", "", line))
    return out


def snake(name: str) -> str:
    """``storageEncrypted`` → ``storage_encrypted``; ``requireTLS`` → ``require_tls``."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


@dataclass(frozen=True)
class Node:
    line: int


@dataclass(frozen=True)
class Lit(Node):
    value: str | int | float | bool | None


@dataclass(frozen=True)
class Name(Node):
    """A dotted name: ``rds.PostgresEngineVersion.VER_15_4``, ``dbSg``, ``this.vpc``."""

    dotted: str

    @property
    def last(self) -> str:
        return self.dotted.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Obj(Node):
    items: dict[str, Node]
    key_lines: dict[str, int]


@dataclass(frozen=True)
class Arr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Call(Node):
    """``callee(args)``; Python keyword arguments arrive as one trailing :class:`Obj`."""

    callee: str
    args: tuple[Node, ...]

    @property
    def last(self) -> str:
        return self.callee.rsplit(".", 1)[-1]

    @property
    def props(self) -> Obj | None:
        """The construct's props: its last argument when that is an object."""
        return self.args[-1] if self.args and isinstance(self.args[-1], Obj) else None


@dataclass(frozen=True)
class Other(Node):
    pass


_CLOSE = {"(": ")", "[": "]", "{": "}"}


class Reader:
    def __init__(self, toks: list[Token], *, python: bool) -> None:
        self.toks, self.pos, self.python = toks, 0, python

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.toks[min(self.pos + ahead, len(self.toks) - 1)]

    def take(self) -> Token:
        tok = self.toks[self.pos]
        self.pos = min(self.pos + 1, len(self.toks) - 1)
        return tok

    def value(self) -> Node:
        """One argument or property value; a value with operators becomes :class:`Other`."""
        start = self.tok.line
        node = self.primary()
        if self.tok.text in (",", ")", "]", "}", ";") or self.tok.kind == "eof":
            return node
        if self.tok.text == "as":  # TypeScript `x as Y`
            self.take()
            self.take()
            return node
        depth = 0
        while self.tok.kind != "eof":
            if depth == 0 and self.tok.text in (",", ")", "]", "}", ";"):
                break
            if self.tok.text in _CLOSE:
                depth += 1
            elif self.tok.text in _CLOSE.values():
                depth -= 1
            self.take()
        return Other(start)

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "string":
            return Lit(tok.line, tok.text[1:-1] if "${" not in tok.text else None)
        if tok.kind == "number":
            return Lit(tok.line, float(tok.text) if "." in tok.text else int(tok.text))
        if tok.text == "new":
            return self.primary()
        if tok.text == "-" and self.tok.kind == "number":
            inner = self.primary()
            assert isinstance(inner, Lit)
            assert isinstance(inner.value, int | float)
            return Lit(tok.line, -inner.value)
        if tok.text == "{":
            return self.obj(tok.line)
        if tok.text == "[":
            return Arr(tok.line, tuple(self.items("]")))
        if tok.text == "(":
            inner = self.value()
            self.skip_to(")")
            return inner
        if tok.kind == "name":
            if tok.text in ("true", "True", "false", "False"):
                return Lit(tok.line, tok.text.lower() == "true")
            if tok.text in ("null", "None", "undefined"):
                return Lit(tok.line, None)
            dotted = tok.text
            while self.tok.text in (".", "?.") and self.peek().kind == "name":
                self.take()
                dotted += "." + self.take().text
            if self.tok.text == "!":  # TypeScript non-null assertion
                self.take()
            if self.tok.text == "(":
                self.take()
                call: Node = Call(tok.line, dotted, tuple(self.items(")")))
                while self.tok.text == "." and self.peek().kind == "name":
                    self.take()
                    name = self.take().text
                    if self.tok.text == "(":
                        self.take()
                        call = Call(tok.line, f"{dotted}().{name}", tuple(self.items(")")))
                    else:
                        call = Name(tok.line, f"{dotted}().{name}")
                return call
            return Name(tok.line, dotted)
        return Other(tok.line)

    def skip_to(self, closing: str) -> None:
        depth = 0
        while self.tok.kind != "eof":
            tok = self.take()
            if tok.text in _CLOSE:
                depth += 1
            elif tok.text in _CLOSE.values():
                if depth == 0 and tok.text == closing:
                    return
                depth -= 1

    def items(self, closing: str) -> list[Node]:
        """Call arguments or list items up to ``closing``; Python keywords gather in an Obj."""
        out: list[Node] = []
        keywords: dict[str, Node] = {}
        lines: dict[str, int] = {}
        while self.tok.kind != "eof" and self.tok.text != closing:
            if self.tok.text in ("...", "*", "**"):
                self.take()
            if self.python and self.tok.kind == "name" and self.peek().text == "=":
                key = self.take()
                self.take()
                keywords[snake(key.text)] = self.value()
                lines[snake(key.text)] = key.line
            else:
                out.append(self.value())
            if self.tok.text == ",":
                self.take()
            elif self.tok.text != closing:
                self.take()  # something this reader does not follow: step over it
        self.take()
        if keywords:
            out.append(Obj(min(lines.values()), keywords, lines))
        return out

    def obj(self, line: int) -> Obj:
        items: dict[str, Node] = {}
        lines: dict[str, int] = {}
        while self.tok.kind != "eof" and self.tok.text != "}":
            if self.tok.text == "...":
                self.take()
                self.value()
            elif self.tok.kind in ("name", "string") and self.peek().text == ":":
                key = self.take()
                self.take()
                name = snake(key.text.strip("'\"") if key.kind == "string" else key.text)
                items[name] = self.value()
                lines[name] = key.line
            elif self.tok.kind == "name" and self.peek().text in (",", "}"):
                key = self.take()  # shorthand `{ vpc }`
                items[snake(key.text)] = Name(key.line, key.text)
                lines[snake(key.text)] = key.line
            else:
                self.value()
            if self.tok.text == "," or self.tok.text != "}":
                self.take()
        self.take()
        return Obj(line, items, lines)


@dataclass(frozen=True)
class Statement:
    """A construct call found in the source, and the variable it is assigned to, if any."""

    call: Call
    variable: str | None


def statements(text: str, *, python: bool) -> list[Statement]:
    """Every call expression at statement level: assignments and bare calls."""
    toks = tokens(text, python=python)
    reader = Reader(toks, python=python)
    out: list[Statement] = []
    while reader.tok.kind != "eof":
        tok = reader.tok
        variable = None
        if tok.kind == "name" and reader.peek().text in ("=", ":"):
            pass
        if tok.kind == "name" and tok.text not in ("new", "return"):
            start = reader.pos
            dotted = tok.text
            ahead = 1
            while reader.peek(ahead).text == "." and reader.peek(ahead + 1).kind == "name":
                dotted += "." + reader.peek(ahead + 1).text
                ahead += 2
            after = reader.peek(ahead)
            if after.text == ":" and not python:  # `const x: Type = …`
                ahead += 1
                while reader.peek(ahead).text not in ("=", ";", "eof") and ahead < 8:
                    ahead += 1
                after = reader.peek(ahead)
            if after.text == "=" and reader.peek(ahead + 1).text not in ("=", ">"):
                variable = dotted.removeprefix("this.").removeprefix("self.")
                reader.pos = start + ahead + 1
                node = reader.primary()
                if isinstance(node, Call):
                    out.append(Statement(node, variable))
                continue
            if after.text in ("(", ".") or reader.peek(ahead).text == "(":
                node = reader.primary()
                if isinstance(node, Call):
                    out.append(Statement(node, None))
                    for arg in node.args:
                        out.extend(_nested(arg))
                continue
        if tok.text == "new":
            node = reader.primary()
            if isinstance(node, Call):
                out.append(Statement(node, None))
            continue
        reader.take()
    return out


def _nested(node: Node) -> list[Statement]:
    """Construct calls inside another call's arguments (``readers: [ClusterInstance…]``)."""
    if isinstance(node, Call):
        return [Statement(node, None)]
    return []
