"""CREATE statements: indexes (``ASYNC``), tables, sequences, functions, domains, roles…

Decided here when the keywords settle it; otherwise prepared for sqlglot with the forms it
mis-reads (``ASYNC``, ``CONCURRENTLY``, ``ON COMMIT``, identity ``CACHE``) stripped."""

from __future__ import annotations

import re

from harness.lint import analysis as A
from harness.lint.analysis import Analysis
from harness.lint.datatypes import check_type_text
from harness.lint.prescan.identity import sequence, strip_identity_caches
from harness.lint.prescan.objects import MULTIWORD, object_word, rejected_object
from harness.lint.prescan.tokens import MATCH_PARTIAL, Outcome, Prepared, qualified, strip_at, words

_INDEX_HEAD = re.compile(
    r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(ASYNC\s+)?(CONCURRENTLY\s+)?(IF\s+NOT\s+EXISTS\s+)?"
    r"(?:(\"(?:[^\"]|\"\")*\"|[A-Za-z_][\w$]*)(\s*\.\s*(\"(?:[^\"]|\"\")*\"|[A-Za-z_][\w$]*))?\s+)?ON\s+(ONLY\s+)?",
    re.IGNORECASE,
)
_NULLS_DISTINCT = re.compile(r"\bNULLS\s+(?:NOT\s+)?DISTINCT\b", re.IGNORECASE)
_ON_COMMIT = re.compile(r"\bON\s+COMMIT\b", re.IGNORECASE)
_WITHOUT_ROWID = re.compile(r"\bWITHOUT\s+ROWID\b", re.IGNORECASE)
_TYPED_TABLE = re.compile(
    r'\s*CREATE\s+(?:\w+\s+)*?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"[^"]+"|[\w$]+)'
    r'(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?\s+OF\b',
    re.IGNORECASE,
)
_LANGUAGE = re.compile(r"\bLANGUAGE\s+'?\"?([A-Za-z_0-9]+)", re.IGNORECASE)


def _create_index(text: str, a: Analysis) -> Outcome:
    a.category = A.DDL
    m = _INDEX_HEAD.match(text)
    if m is None:
        a.hit("DSQL000", "CREATE INDEX could not be read")
        a.unanalysed = True
        return a
    if m.group(2) is None and m.group(3) is None:
        a.hit("DSQL050", "CREATE INDEX without ASYNC is rejected", r"\bINDEX\b")
    if m.group(3):
        a.hit("DSQL051", "CONCURRENTLY is not supported; use ASYNC", r"\bCONCURRENTLY\b")
    if m.group(6):
        a.hit("DSQL052", "index name is schema-qualified", re.escape(m.group(5)))
    sql = text
    for g in (8, 3, 2):  # strip ONLY, CONCURRENTLY, ASYNC (right to left keeps offsets)
        if m.group(g):
            sql = strip_at(sql, m.start(g), m.end(g))
    # NULLS [NOT] DISTINCT is supported by DSQL but not by sqlglot's parser: blank it out.
    sql = _NULLS_DISTINCT.sub(lambda n: " " * len(n.group()), sql)
    if m.group(6):  # parse the unqualified name
        sql = strip_at(sql, m.start(5), m.end(6))
        sql = sql[: m.start(5)] + (m.group(7) or "") + sql[m.start(5) + len(m.group(7) or "") :]
    return Prepared(sql, a)


def _create_table(text: str, plain: str, a: Analysis, dialect: str) -> Outcome:
    a.category = A.DDL
    w = words(plain, 6)
    if any(x in ("TEMP", "TEMPORARY") for x in w[1:4]):
        a.hit("DSQL001", "temporary table", r"\bTEMP(ORARY)?\b")
        if _ON_COMMIT.search(plain):
            a.hit("DSQL003", "ON COMMIT clause", r"\bON\s+COMMIT\b")
        return a  # sqlglot falls back to Command with ON COMMIT; the verdict is already made
    if _ON_COMMIT.search(plain):
        a.hit("DSQL003", "ON COMMIT clause", r"\bON\s+COMMIT\b")
    if _TYPED_TABLE.match(plain):
        a.hit("DSQL044", "a typed table (OF a composite type)", r"\bOF\b")
        return a
    if "UNLOGGED" in w[1:3]:
        a.hit("DSQL002", "UNLOGGED table", r"\bUNLOGGED\b")
    sql = text
    if _ON_COMMIT.search(plain):
        sql = re.sub(r"\bON\s+COMMIT\s+(DROP|DELETE\s+ROWS|PRESERVE\s+ROWS)", "", sql, flags=re.I)
    if dialect == "sqlite" and _WITHOUT_ROWID.search(plain):
        a.hit("DSQL130", "WITHOUT ROWID is SQLite-only", r"\bWITHOUT\s+ROWID\b")
        sql = _WITHOUT_ROWID.sub("", sql)
    if MATCH_PARTIAL.search(plain):
        a.hit("DSQL028", "MATCH PARTIAL foreign key", r"\bMATCH\s+PARTIAL\b")
        sql = MATCH_PARTIAL.sub("MATCH FULL", sql)
    prepared = Prepared(sql, a)
    strip_identity_caches(prepared)
    return prepared


def _function(plain: str, a: Analysis, *, procedure: bool) -> Analysis:
    a.category = A.DDL
    if procedure:
        a.hit("DSQL064", "CREATE PROCEDURE is not supported", r"\bPROCEDURE\b")
        return a
    lang = _LANGUAGE.search(plain)
    language = lang.group(1).lower() if lang else "sql"  # SQL-standard bodies have no LANGUAGE
    if language != "sql":
        a.hit("DSQL063", f"function in LANGUAGE {language}", r"\bLANGUAGE\b")
    return a


def create(text: str, plain: str, w: list[str], a: Analysis, dialect: str) -> Outcome:
    i = object_word(w)
    kind = w[i] if i < len(w) else ""
    a.kind = " ".join(["CREATE", *w[1 : i + 1]]) if i < len(w) else "CREATE"
    a.category = A.DDL
    if kind == "INDEX":
        return _create_index(text, a)
    if kind == "TABLE":
        return _create_table(text, plain, a, dialect)
    if kind in ("VIEW",) and ("TEMP" in w[1:i] or "TEMPORARY" in w[1:i]):
        a.hit("DSQL061", "temporary view", r"\bTEMP(ORARY)?\b")
        return a
    rejected = rejected_object(w, i)
    if rejected:
        if i + 1 < len(w) and (w[i], w[i + 1]) in MULTIWORD:
            a.kind += " " + w[i + 1]
        if kind in ("TYPE", "AGGREGATE", "PROCEDURE") and i + 1 < len(w):
            a.creates = ((kind.lower(), qualified(w, i + 1)),)
        a.hit(rejected[0], rejected[1], re.escape(kind))
        return a
    if kind == "SEQUENCE":
        return sequence(plain, a, create=True)
    if kind == "FUNCTION":
        a.creates = (("function", qualified(w, i + 1)),)
        return _function(plain, a, procedure=False)
    if kind == "DOMAIN":
        a.creates = (("domain", qualified(w, i + 1)),)
        m = re.search(r"\bAS\s+(.+?)(?:\s+(?:COLLATE|DEFAULT|CONSTRAINT|NOT|NULL|CHECK)\b|$)",
                      plain, re.IGNORECASE | re.DOTALL)  # fmt: skip
        if m:
            for rule, message in check_type_text(m.group(1), dialect):
                a.hit(rule, f"domain over {message}", r"\bAS\b")
        return a
    if kind in ("ROLE", "USER", "GROUP"):
        if re.search(r"\bPASSWORD\b|\bSUPERUSER\b", plain, re.IGNORECASE):
            a.hit("DSQL071", "role passwords and attributes are not supported", "PASSWORD")
        return a
    if kind == "VIRTUAL" and dialect == "sqlite":
        a.hit("DSQL130", "CREATE VIRTUAL TABLE (FTS) is SQLite-only", r"\bVIRTUAL\b")
        return a
    if kind == "STATISTICS":
        return a
    return Prepared(text, a)  # VIEW, SCHEMA, DATABASE … : sqlglot reads these
