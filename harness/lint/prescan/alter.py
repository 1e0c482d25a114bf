"""ALTER statements, most of which sqlglot leaves as a generic Command: ``ALTER TABLE``
forms decided from keywords, ``ALTER SEQUENCE``/``INDEX``/``ROLE``/``SYSTEM``."""

from __future__ import annotations

import re

from harness.lint import analysis as A
from harness.lint.analysis import Analysis
from harness.lint.prescan.identity import (
    CACHE,
    IDENTITY,
    cache_hits,
    sequence,
    strip_identity_caches,
)
from harness.lint.prescan.objects import refer_to_routine, rejected_object
from harness.lint.prescan.tokens import MATCH_PARTIAL, Outcome, Prepared, words

# ALTER TABLE forms sqlglot leaves as Command, decided from keywords (rule, message, regex).
_ALTER_TABLE_FORMS: tuple[tuple[str | None, str, str], ...] = (
    ("DSQL005", "partitions are not supported", r"\b(?:ATTACH|DETACH)\s+PARTITION\b"),
    ("DSQL069", "row-level security is not supported", r"\b(?:ENABLE|FORCE|DISABLE|NO\s+FORCE)\s+ROW\s+LEVEL\s+SECURITY\b"),  # noqa: E501
    ("DSQL070", "REPLICA IDENTITY is not supported", r"\bREPLICA\s+IDENTITY\b"),
    ("DSQL086", "SET COMPRESSION is not supported", r"\bSET\s+COMPRESSION\b"),
    ("DSQL068", "rules are not supported", r"\b(?:ENABLE|DISABLE)\s+(?:ALWAYS\s+|REPLICA\s+)?RULE\b"),  # noqa: E501
    ("DSQL006", "inheritance is not supported", r"\b(?:NO\s+)?INHERIT\b"),
    ("DSQL058", "CLUSTER is not supported", r"\bCLUSTER\s+ON\b|\bSET\s+WITHOUT\s+CLUSTER\b"),
    (None, "supported", r"\bOWNER\s+TO\b|\b(?:ENABLE|DISABLE)\s+TRIGGER\b|\bSET\s+STORAGE\b"
     r"|\bALTER\s+CONSTRAINT\b|\bSET\s+STATISTICS\b|\bDROP\s+EXPRESSION\b|\bDROP\s+IDENTITY\b"
     r"|\bRESTART\b|\bSET\s+GENERATED\b|\bSET\s+SCHEMA\b|\bRENAME\s+CONSTRAINT\b"
     r"|\bOF\b|\bNOT\s+OF\b"),
)  # fmt: skip
_ADD_GENERATED = re.compile(r"\bADD\s+GENERATED\b", re.IGNORECASE)
_VALIDATE = re.compile(r"\bVALIDATE\s+CONSTRAINT\b", re.IGNORECASE)
_USING_INDEX = re.compile(r"\bUSING\s+INDEX\b", re.IGNORECASE)


_OWNER_POSTGRES = re.compile(r'\bOWNER\s+TO\s+"?postgres"?(?![\w$])', re.IGNORECASE)


def alter(text: str, plain: str, w: list[str], a: Analysis) -> Outcome:
    a.category = A.DDL
    kind = w[1] if len(w) > 1 else ""
    a.kind = f"ALTER {kind}"
    if _OWNER_POSTGRES.search(plain):
        a.hit("DSQL116", "OWNER TO postgres: DSQL has no postgres role", r"\bOWNER\b")
    if kind == "TABLE" and _actions(plain) > 1:
        a.hit("DSQL117", "ALTER TABLE with several actions", r"\bALTER\b")
    if kind == "SYSTEM":
        a.hit("DSQL107", "ALTER SYSTEM is not supported", r"\bSYSTEM\b")
        return a
    if kind in ("ROLE", "USER", "GROUP"):
        if re.search(r"\bOWNER\s+TO\b|\bRENAME\s+TO\b", plain, re.IGNORECASE):
            return a
        a.hit("DSQL071", "ALTER ROLE/USER options are not supported", r"\bALTER\b")
        return a
    if kind == "SEQUENCE":
        return sequence(plain, a, create=False)
    if kind == "INDEX":
        if re.search(r"\bATTACH\s+PARTITION\b", plain, re.IGNORECASE):
            a.hit("DSQL005", "index partitions are not supported", r"\bATTACH\b")
        else:
            a.hit("DSQL058", "ALTER INDEX is not supported", r"\bINDEX\b")
        return a
    if kind in ("FUNCTION", "AGGREGATE", "PROCEDURE", "ROUTINE"):
        refer_to_routine(plain, a)
    rejected = rejected_object(w, 1)
    if rejected:
        a.hit(rejected[0], rejected[1], re.escape(kind))
        return a
    if kind == "TABLE":
        return _alter_table(text, plain, a)
    # FUNCTION, VIEW, SCHEMA, DOMAIN, STATISTICS, DEFAULT PRIVILEGES …: supported forms.
    return a


def _alter_table(text: str, plain: str, a: Analysis) -> Outcome:
    w = words(plain, 8)
    is_async = len(w) > 2 and w[2] == "ASYNC"
    if _VALIDATE.search(plain):
        if not is_async:
            a.hit("DSQL030", "VALIDATE CONSTRAINT must use ALTER TABLE ASYNC", r"\bVALIDATE\b")
        return a
    if _ADD_GENERATED.search(plain):
        m = IDENTITY.search(plain)
        cache = CACHE.search(m.group(2) or "") if m and m.group(2) else None
        cache_hits(a, int(cache.group(1)) if cache else None, "identity", "DSQL085", "DSQL085")
        for h in a.hits:
            if h.rule == "DSQL085":
                h.message = "ADD GENERATED AS IDENTITY needs BIGINT and CACHE 1 or >= 65536"
        return a
    if _USING_INDEX.search(plain):
        if re.search(r"\bPRIMARY\s+KEY\b", plain, re.IGNORECASE):
            a.hit("DSQL034", "PRIMARY KEY … USING INDEX is not supported", r"\bPRIMARY\b")
        return a  # UNIQUE … USING INDEX is the supported way to add a unique constraint
    for rule, message, pattern in _ALTER_TABLE_FORMS:
        if re.search(pattern, plain, re.IGNORECASE):
            if rule is not None:
                a.hit(rule, message, pattern)
            return a
    sql = text
    if is_async:
        sql = re.sub(r"\bASYNC\b", "", sql, count=1, flags=re.IGNORECASE)
    if MATCH_PARTIAL.search(plain):
        a.hit("DSQL028", "MATCH PARTIAL foreign key", r"\bMATCH\s+PARTIAL\b")
        sql = MATCH_PARTIAL.sub("MATCH FULL", sql)
    prepared = Prepared(sql, a)
    strip_identity_caches(prepared)
    return prepared


def _actions(plain: str) -> int:
    """The actions of an ALTER TABLE: commas outside parentheses, plus one (literals are
    already stripped from ``plain``)."""
    depth, actions = 0, 1
    for ch in plain:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            actions += 1
    return actions
