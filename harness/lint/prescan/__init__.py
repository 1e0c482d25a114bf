"""Token pre-scan: classify what sqlglot cannot (or need not) parse, and prepare the rest.

sqlglot 30.30.0 mis-reads several DSQL and PostgreSQL forms (dsql-compat.md §8):
``CREATE INDEX ASYNC`` parses as an index *named* ASYNC, identity ``(CACHE n)`` raises,
``SAVEPOINT``/``LISTEN``/``DISCARD`` parse as column aliases, and dozens of statements
(extensions, domains, triggers, ``ALTER TABLE … OWNER TO``, ``ALTER SEQUENCE``…) fall back to
a generic ``Command``. Those are decided here from their leading keywords and a few regexes
over the statement text — a deliberate token pre-scan, not a regex SQL parser: anything
whose meaning depends on structure (columns, types, constraints, expressions) is handed to
sqlglot after the mis-read parts are stripped.

The pre-scan also decides when a full parse can be skipped safely: a plain ``INSERT …
VALUES`` that mentions none of the functions any rule looks for is classified from its
tuple count alone. That is what makes megabytes of data dumps cheap.
"""

from __future__ import annotations

import re

from harness.lint import analysis as A
from harness.lint.analysis import Analysis
from harness.lint.prescan.alter import alter
from harness.lint.prescan.create import create
from harness.lint.prescan.identity import cache_hits
from harness.lint.prescan.objects import comment_on, drop, refer_to_routine
from harness.lint.prescan.session import BY_FIRST, set_config_hits, transaction
from harness.lint.prescan.tokens import Outcome, Prepared, qualified, strip_literals, words
from harness.lint.prescan.writes import bounded_write, copy_statement, insert_statement

__all__ = ["Outcome", "Prepared", "cache_hits", "prescan", "qualified", "strip_literals", "words"]


_TXN_WORDS = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"}

# Functions PostgreSQL 17 and 18 added (their release notes), which a PostgreSQL 16-compatible
# DSQL does not have: a call anywhere (a default, a view, a query) is DSQL115.
_NEWER = re.compile(
    r"\b(uuidv7|uuidv4|casefold|array_sort|array_reverse|crc32c?|json_scalar|json_serialize"
    r"|to_bin|to_oct|uuid_extract_timestamp|uuid_extract_version)\s*\(",
    re.IGNORECASE,
)


def newer_functions(plain: str, a: Analysis) -> None:
    for name in dict.fromkeys(m.group(1).lower() for m in _NEWER.finditer(plain)):
        a.hit("DSQL115", f"{name}() is newer than PostgreSQL 16", rf"\b{name}\s*\(")


def prescan(text: str, dialect: str, copy_rows: int = -1) -> Outcome:
    """Classify ``text`` from its keywords, or prepare it for sqlglot."""
    plain = strip_literals(text) if ("'" in text or "$" in text) else text
    w = words(plain)
    first = w[0] if w else ""
    a = Analysis(kind=first)
    newer_functions(plain, a)
    if first == "CREATE":
        return create(text, plain, w, a, dialect)
    if first == "ALTER":
        return alter(text, plain, w, a)
    if first == "DROP":
        return drop(plain, w, a)
    if first == "INSERT" or (first == "REPLACE" and dialect == "sqlite"):
        if first == "REPLACE":
            a.hit("DSQL130", "REPLACE INTO is SQLite-only")
            return Prepared(text, a)
        return insert_statement(text, plain, a, dialect)
    if first in _TXN_WORDS:
        a.kind = first
        return transaction(plain, w, a)
    if first == "COMMENT":
        a.kind = "COMMENT ON"
        return comment_on(plain, w, a)
    if first in ("GRANT", "REVOKE"):
        a.category = A.DDL
        refer_to_routine(plain, a)
        return a
    if first == "AWS":  # AWS IAM GRANT/REVOKE: DSQL's own syntax, raises in sqlglot
        a.kind = "AWS IAM"
        return a
    if first == "COPY":
        return copy_statement(text, plain, a, copy_rows)
    if first in BY_FIRST:
        return BY_FIRST[first](plain, w, a)
    if first in ("UPDATE", "DELETE"):
        fast = bounded_write(plain, first, a)
        if fast is not None:
            return fast
    if first == "SELECT" and re.search(r"\bINTO\b", plain, re.IGNORECASE) is None:
        a.category = A.QUERY
    if "set_config" in plain.lower():  # pg_dump's headers set more than DSQL lets them
        set_config_hits(text, a)
    return Prepared(text, a)
