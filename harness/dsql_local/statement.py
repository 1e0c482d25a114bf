"""One SQL statement as the guard sees it: the lint's analysis, plus its words.

The classification is :func:`harness.lint.engine.analyse_statement`'s, the same the linter
gives the statement; the properties here read it the way a session needs (is it a
transaction boundary, may its command tag count rows). :func:`words` is a token pre-scan
for the few forms the parser reads differently from PostgreSQL (``SET`` variants,
``ASYNC``, ``ROLLBACK TO``), cached like the analysis: drivers send the same text again and
again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from harness.lint import analysis as categories
from harness.lint.analysis import Analysis
from harness.lint.engine import analyse_statement

__all__ = ["Statement", "classify", "isolation_level", "setting_name", "tokens", "words"]


@functools.lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[tuple[str, str], ...]:
    """(token type, text) pairs; empty when the tokenizer gives up (an unterminated quote)."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        return tuple((t.token_type.name, t.text) for t in sqlglot.tokenize(text, "postgres"))
    except SqlglotError:
        return ()


def words(text: str) -> list[str]:
    """The statement's keywords and bare names, upper-cased (quoted text left out)."""
    return [t.upper() for kind, t in tokens(text) if kind not in ("STRING", "IDENTIFIER")]


def isolation_level(words: list[str]) -> str | None:
    """The level after ``ISOLATION LEVEL`` as DSQL spells it in messages (``SERIALIZABLE``)."""
    for at in range(len(words) - 2):
        if words[at] == "ISOLATION" and words[at + 1] == "LEVEL":
            first = words[at + 2]
            if first == "SERIALIZABLE":
                return first
            if first in ("READ", "REPEATABLE") and at + 3 < len(words):
                return f"{first} {words[at + 3]}"
    return None


def setting_name(text: str) -> str | None:
    """The parameter a ``SET``/``RESET`` names (``None`` for ``SET TRANSACTION`` & co.).

    A token pre-scan: sqlglot reads ``SET`` forms inconsistently (``SET TIME ZONE``,
    ``SET SESSION AUTHORIZATION``, dotted custom names), and only the name is needed here."""
    found = list(tokens(text))
    upper = [t.upper() for _, t in found]
    if not upper or upper[0] not in ("SET", "RESET"):
        return None
    at = 1
    if upper[0] == "SET" and len(upper) > at and upper[at] in ("SESSION", "LOCAL"):
        if len(upper) > at + 1 and upper[at + 1] in ("AUTHORIZATION", "CHARACTERISTICS"):
            return "session_authorization" if upper[at + 1] == "AUTHORIZATION" else None
        at += 1
    if len(upper) <= at:
        return None
    if upper[at] in ("TRANSACTION", "CONSTRAINTS"):
        return None
    if upper[at] == "TIME" and len(upper) > at + 1 and upper[at + 1] == "ZONE":
        return "timezone"
    name = found[at][1]
    if len(found) > at + 2 and found[at + 1][0] == "DOT":
        name += "." + found[at + 2][1]
    return name if found[at][0] == "IDENTIFIER" else name.lower()


@dataclass(frozen=True)
class Statement:
    """One statement and the lint's analysis of it."""

    text: str
    analysis: Analysis = field(compare=False)

    @property
    def category(self) -> str:
        return self.analysis.category

    @property
    def kind(self) -> str:
        return self.analysis.kind.upper()

    @property
    def begins(self) -> bool:
        return self.category == categories.BEGIN

    @property
    def commits(self) -> bool:
        return self.category == categories.COMMIT

    @property
    def rolls_back(self) -> bool:
        """A ROLLBACK (not ``ROLLBACK TO SAVEPOINT``, which is refused)."""
        return self.category == categories.ROLLBACK and words(self.text)[:2] != ["ROLLBACK", "TO"]

    @property
    def ends_transaction(self) -> bool:
        return self.commits or self.rolls_back

    @property
    def is_ddl(self) -> bool:
        return self.category == categories.DDL

    @property
    def is_dml(self) -> bool:
        return self.category == categories.DML

    @property
    def is_query(self) -> bool:
        return self.category == categories.QUERY

    @property
    def writes_rows(self) -> bool:
        """Whether its command tag counts rows against the transaction's limit."""
        if not self.is_dml:
            return False
        if self.kind == "COPY":  # COPY … TO writes nothing; COPY … FROM does
            said = words(self.text)
            return "FROM" in said
        return True

    @property
    def static_rows(self) -> int | None:
        """Rows it writes at most, when known before it runs (``INSERT … VALUES``)."""
        rows = self.analysis.rows
        if self.kind == "INSERT" and rows > 0 and "SELECT" not in words(self.text):
            return rows
        return None


@functools.lru_cache(maxsize=4096)
def classify(text: str) -> Statement:
    """Analyse one statement as the linter does (cached)."""
    return Statement(text, analyse_statement(text, "postgres"))
