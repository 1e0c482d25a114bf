"""Parameters as the application writes them, turned into one spelling the corpus works in.

Drivers spell a bound value five ways: ``$1`` (node-postgres, Kysely's compiled SQL), ``?``
(SQLite drivers, JDBC), ``%s`` and ``%(name)s`` (psycopg), ``:name`` and ``@name``. A query is
rewritten to ``:name`` — positional values become ``:p1``, ``:p2``… in order of their number
(``$n``) or of their appearance (``?``, ``%s``) — and everything downstream (transpiling, the
driver's own spelling in :mod:`harness.queries.corpus`, parameter sets) speaks that one form.

Placeholders are found among sqlglot's tokens, never with a regex over the text, so a ``'$1'``
or ``'?'`` inside a string, a comment, a ``::cast`` or a ``5 % 2`` is left alone. A query mixing
styles is refused: which value goes where would be a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot.dialects import Dialect as SqlglotDialect
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

POSITIONAL = "p"
"""Prefix of the names positional values get: ``$1`` is ``:p1``."""


class PlaceholderError(ValueError):
    """A query whose parameters cannot be read (styles mixed)."""


@dataclass(frozen=True)
class Canonical:
    """A query with every placeholder spelled ``:name``."""

    text: str
    names: tuple[str, ...]
    """Parameter names in order of first use (``p1``, ``p2``… for positional styles)."""
    style: str
    """``$n``, ``?``, ``%s``, ``%(name)s``, ``:name``, ``@name`` or ``none``."""

    @property
    def positional(self) -> bool:
        return self.style in ("$n", "?", "%s")


def positional_name(number: int) -> str:
    return f"{POSITIONAL}{number}"


def canonical(text: str, dialect: str) -> Canonical:
    """``text`` with its placeholders spelled ``:name``; :class:`PlaceholderError` for mixed
    styles. Text sqlglot cannot tokenize is returned unchanged (its parse error is reported
    where the query is transpiled)."""
    try:
        tokens = SqlglotDialect.get_or_raise(dialect).tokenize(text)
    except SqlglotError:
        return Canonical(text, (), "none")
    found = _scan(text, tokens)
    styles = {style for _, _, style, _ in found}
    # A PostgreSQL query bound with $n may use the jsonb operators ?, ?| and ?& freely.
    if "$n" in styles:
        found = [f for f in found if f[2] != "?"]
        styles.discard("?")
    if len(styles) > 1:
        raise PlaceholderError(
            f"the query mixes parameter styles ({', '.join(sorted(styles))}); use one"
        )
    if not found:
        return Canonical(text, (), "none")
    style = styles.pop()
    out, last, names, counter = [], 0, [], 0
    for start, end, _, name in found:
        if name is None:  # ? or %s: numbered by appearance
            counter += 1
            name = positional_name(counter)
        out.append(text[last:start])
        out.append(":" + name)
        last = end
        if name not in names:
            names.append(name)
    out.append(text[last:])
    rewritten = "".join(out)
    if style in ("%s", "%(name)s"):
        rewritten = rewritten.replace("%%", "%")  # psycopg's escaped percent sign
    if style == "$n":
        names.sort(key=lambda n: int(n[len(POSITIONAL) :]))
    return Canonical(rewritten, tuple(names), style)


def _scan(text: str, tokens: list[Token]) -> list[tuple[int, int, str, str | None]]:
    """(start, end, style, name) of each placeholder; ``end`` is exclusive; ``name`` is None
    for the styles numbered by appearance."""
    found: list[tuple[int, int, str, str | None]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        adjacent = nxt is not None and nxt.start == tok.end + 1
        kind = tok.token_type
        if kind is TokenType.PLACEHOLDER and tok.text == "?":
            found.append((tok.start, tok.end + 1, "?", None))
        elif kind is TokenType.PLACEHOLDER and tok.text.startswith(":"):
            found.append((tok.start, tok.end + 1, ":name", tok.text[1:]))
        elif adjacent and nxt is not None and kind is TokenType.PARAMETER:
            if tok.text == "$" and nxt.token_type is TokenType.NUMBER and nxt.text.isdigit():
                number = int(nxt.text)
                if number < 1:
                    raise PlaceholderError("$0 is not a parameter; they count from $1")
                found.append((tok.start, nxt.end + 1, "$n", positional_name(number)))
                i += 1
            elif tok.text == "@" and _word(nxt):
                found.append((tok.start, nxt.end + 1, "@name", nxt.text))
                i += 1
        elif adjacent and nxt is not None and kind is TokenType.COLON and _word(nxt):
            found.append((tok.start, nxt.end + 1, ":name", nxt.text))
            i += 1
        elif adjacent and nxt is not None and kind is TokenType.MOD:
            if nxt.token_type is TokenType.MOD:  # %% is a literal percent sign
                i += 1
            elif nxt.text == "s" and _word(nxt):
                found.append((tok.start, nxt.end + 1, "%s", None))
                i += 1
            elif nxt.token_type is TokenType.L_PAREN and i + 3 < len(tokens):
                name, close, s = tokens[i + 2], tokens[i + 3], tokens[i + 4 : i + 5]
                if (
                    _word(name)
                    and close.token_type is TokenType.R_PAREN
                    and s
                    and s[0].text == "s"
                    and s[0].start == close.end + 1
                ):
                    found.append((tok.start, s[0].end + 1, "%(name)s", name.text))
                    i += 4
        i += 1
    return found


def _word(token: Token) -> bool:
    return (
        token.token_type
        not in (
            TokenType.STRING,
            TokenType.NUMBER,
        )
        and token.text.replace("_", "a").isalnum()
    )
