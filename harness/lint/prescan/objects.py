"""Object kinds DSQL rejects outright, whatever the statement does with them (CREATE, ALTER,
DROP, COMMENT ON), and the DROP and COMMENT ON statements decided from that alone."""

from __future__ import annotations

import re

from harness.lint import analysis as A
from harness.lint.analysis import Analysis

# Object kinds that are not in DSQL's supported DDL at all (CREATE/ALTER/DROP/COMMENT ON).
_REJECTED_OBJECTS: dict[str, tuple[str, str]] = {
    "TYPE": ("DSQL044", "user-defined types are not supported"),
    "EXTENSION": ("DSQL067", "extensions are not supported"),
    "TRIGGER": ("DSQL066", "triggers are not supported"),
    "POLICY": ("DSQL069", "row-level security policies are not supported"),
    "RULE": ("DSQL068", "rewrite rules are not supported"),
    "PUBLICATION": ("DSQL070", "publications are not supported"),
    "SUBSCRIPTION": ("DSQL070", "subscriptions are not supported"),
    "SERVER": ("DSQL012", "foreign servers are not supported"),
    "TABLESPACE": ("DSQL007", "tablespaces are not supported"),
    "DATABASE": ("DSQL011", "a DSQL cluster has one database"),
    "PROCEDURE": ("DSQL064", "procedures are not supported"),
    "AGGREGATE": ("DSQL075", "user-defined aggregates are not in DSQL's supported DDL"),
    "OPERATOR": ("DSQL075", "user-defined operators are not in DSQL's supported DDL"),
    "CAST": ("DSQL075", "user-defined casts are not in DSQL's supported DDL"),
    "COLLATION": ("DSQL075", "collations other than C do not exist on DSQL"),
    "CONVERSION": ("DSQL075", "encoding conversions are not in DSQL's supported DDL"),
    "LANGUAGE": ("DSQL075", "procedural languages are not supported"),
    "TEXT": ("DSQL048", "text search objects are not supported"),
    "ACCESS": ("DSQL075", "access methods are not in DSQL's supported DDL"),
    "EVENT": ("DSQL066", "event triggers are not supported"),
}
MULTIWORD = {
    ("MATERIALIZED", "VIEW"): ("DSQL062", "materialized views are not supported"),
    ("FOREIGN", "TABLE"): ("DSQL012", "foreign tables are not supported"),
    ("FOREIGN", "DATA"): ("DSQL012", "foreign data wrappers are not supported"),
    ("USER", "MAPPING"): ("DSQL012", "user mappings are not supported"),
}


def rejected_object(w: list[str], at: int) -> tuple[str, str] | None:
    """The rule for the object kind named at ``w[at]`` if DSQL rejects that kind outright."""
    if at < len(w) - 1 and (w[at], w[at + 1]) in MULTIWORD:
        return MULTIWORD[(w[at], w[at + 1])]
    if at < len(w) and w[at] in _REJECTED_OBJECTS:
        return _REJECTED_OBJECTS[w[at]]
    return None


def object_word(w: list[str]) -> int:
    """Index of the object-kind word after CREATE/ALTER/DROP and its modifiers."""
    i = 1
    while i < len(w) and w[i] in (
        "OR", "REPLACE", "TEMP", "TEMPORARY", "GLOBAL", "LOCAL", "UNLOGGED", "UNIQUE",
        "CONSTRAINT", "TRUSTED", "PROCEDURAL", "RECURSIVE", "DEFAULT",
    ):  # fmt: skip
        i += 1
    return i


_ROUTINE = re.compile(
    r'\b(FUNCTION|AGGREGATE|PROCEDURE|ROUTINE)\s+((?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*)'
    r'(?:\s*\.\s*(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*))?)',
    re.IGNORECASE,
)


def refer_to_routine(plain: str, a: Analysis) -> None:
    """Note the routine an ``ALTER``/``COMMENT ON``/``GRANT … ON`` statement acts on, so the
    script pass can report it when the script's own CREATE of it is rejected."""
    m = _ROUTINE.search(plain)
    if m is not None:
        kind = m.group(1).lower()
        a.refers = (("function" if kind == "routine" else kind, A.bare(m.group(2))),)


def drop(plain: str, w: list[str], a: Analysis) -> Analysis:
    a.category = A.DDL
    i = 1
    kind = w[i] if i < len(w) else ""
    a.kind = f"DROP {kind}"
    if kind == "TRIGGER":
        if re.match(r"\s*DROP\s+TRIGGER\s+IF\s+EXISTS\s+\S+\s+ON\b", plain, re.IGNORECASE):
            return a
        a.hit("DSQL066", "DROP TRIGGER is only accepted as DROP TRIGGER IF EXISTS … ON …")
        return a
    rejected = rejected_object(w, i)
    if rejected:
        a.hit(rejected[0], rejected[1], re.escape(kind))
    return a


def comment_on(plain: str, w: list[str], a: Analysis) -> Analysis:
    a.category = A.DDL
    if len(w) > 2 and w[2] in ("FUNCTION", "AGGREGATE", "PROCEDURE", "ROUTINE"):
        refer_to_routine(plain, a)
    rejected = rejected_object(w, 2)
    if rejected:
        a.hit(rejected[0], f"comment on an object DSQL rejects ({rejected[1]})", r"\bON\b")
    return a
