"""INSERT, UPDATE, DELETE and COPY: the fast paths that classify a plain write without a
parse (tuple count, table, WHERE) — what makes megabytes of data dumps cheap."""

from __future__ import annotations

import re

from harness.lint import analysis as A
from harness.lint.analysis import Analysis
from harness.lint.prescan.tokens import Outcome, Prepared, words

# Any function a statement-level rule looks for; an INSERT … VALUES without these is clean.
RISKY_CALLS = re.compile(
    r"\b(?:pg_(?:try_)?advisory|pg_notify|to_tsvector|to_tsquery|plainto_tsquery|"
    r"phraseto_tsquery|websearch_to_tsquery|ts_rank|ts_headline|setweight|uuid_generate_|"
    r"crypt|gen_salt|digest|hmac|pgp_|similarity|word_similarity|levenshtein|soundex|"
    r"metaphone|dmetaphone|earth_distance|ll_to_earth|unaccent|st_\w+|repeat|select|collate)\s*\(?",
    re.IGNORECASE,
)
_VALUES = re.compile(r"\bVALUES\b", re.IGNORECASE)
_COPY_FILE = re.compile(r"\b(?:FROM|TO)\s+(?:PROGRAM\b|')", re.IGNORECASE)


def copy_statement(text: str, plain: str, a: Analysis, copy_rows: int) -> Analysis:
    a.category = A.DML if re.search(r"\bFROM\b", plain, re.IGNORECASE) else A.QUERY
    if _COPY_FILE.search(text):
        a.hit("DSQL108", "COPY to/from a server file or program", r"\bFROM\b|\bTO\b")
    if copy_rows > 0:
        a.rows = copy_rows
        m = re.match(r"\s*COPY\s+([^\s(]+)", plain, re.IGNORECASE)
        a.writes = (A.bare(m.group(1)),) if m else ()
    return a


def insert_statement(text: str, plain: str, a: Analysis, dialect: str) -> Outcome:
    a.category = A.DML
    w = words(plain, 4)
    if dialect == "sqlite" and len(w) > 1 and w[1] == "OR":
        a.hit("DSQL130", f"INSERT OR {w[2] if len(w) > 2 else ''} is SQLite-only", r"\bOR\b")
        text = re.sub(r"\bOR\s+\w+", "", text, count=1, flags=re.IGNORECASE)
    values = _VALUES.search(plain)
    if values and not RISKY_CALLS.search(plain, values.end()) and "RETURNING" not in plain.upper():
        # Fast path: count top-level tuples without a parse (see the module docstring).
        a.rows = _count_tuples(plain, values.end())
        m = re.match(r"\s*INSERT\s+INTO\s+([^\s(]+)", plain, re.IGNORECASE)
        a.writes = (A.bare(m.group(1)),) if m else ()
        a.payload = len(text)
        return a
    return Prepared(text, a)


def _count_tuples(plain: str, start: int) -> int:
    depth = 0
    tuples = 0
    for ch in plain[start:]:
        if ch == "(":
            if depth == 0:
                tuples += 1
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch.isalpha():
            break  # ON CONFLICT …
    return tuples


_SIMPLE_WRITE = re.compile(
    r"\s*(?:UPDATE\s+(?:ONLY\s+)?([\w.\"]+)(?:\s+(?:AS\s+)?\w+)?\s+SET\b|DELETE\s+FROM\s+(?:ONLY\s+)?([\w.\"]+))",
    re.IGNORECASE,
)
_NOT_SIMPLE = re.compile(r"\b(?:SELECT|RETURNING|FROM\s+\w+\s*,|USING|WITH)\b|\(\s*SELECT", re.I)


def bounded_write(plain: str, first: str, a: Analysis) -> Analysis | None:
    """UPDATE/DELETE with a WHERE, no subquery and no function a rule looks for: classified
    without a parse (the rules that apply need only the table and the WHERE)."""
    m = _SIMPLE_WRITE.match(plain)
    if m is None or " WHERE " not in f" {' '.join(plain.upper().split())} ":
        return None
    rest = plain[m.end() :]
    if _NOT_SIMPLE.search(rest) or RISKY_CALLS.search(rest) or "COLLATE" in rest.upper():
        return None
    a.category = A.DML
    a.kind = first
    a.obj = (m.group(1) or m.group(2)).strip('"')
    a.writes = (A.bare(a.obj),)
    return a
