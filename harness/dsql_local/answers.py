"""How Aurora DSQL answers what it refuses: SQLSTATE and message, per lint rule.

The lint rule pack (:mod:`harness.lint.pack`) says *that* DSQL rejects a statement and, in
each rule's :class:`~harness.lint.rule.Answer`, *how* a real cluster answers it: the words of
a recording where one exists (``recorded=True``: Dreamescaper/dsql-emulator's golden files,
reference §0b) and DSQL's patterns otherwise (``unsupported statement: <PostgreSQL parse
node>``, ``datatype X not supported``). This module reads those answers and fills in, with
:func:`detail`, the part of a message that names what the statement did (a type, a language,
an isolation level), as PostgreSQL itself would name it.
"""

from __future__ import annotations

import re

from harness.dsql_local.statement import Statement, isolation_level, setting_name, tokens, words
from harness.lint.analysis import Hit
from harness.lint.pack import RULES, RULES_BY_ID
from harness.lint.rule import Answer
from harness.results.check import Severity

__all__ = [
    "ANSWERS",
    "FIRST",
    "GUARD_ANSWERS",
    "RUNTIME_ERRORS",
    "Answer",
    "canonical_type",
    "detail",
    "table",
]


ANSWERS: dict[str, Answer] = {r.id: r.answer for r in RULES if r.answer is not None}
"""Rule id → DSQL's answer, read from the pack (:attr:`harness.lint.rule.Rule.answer`).
``recorded`` answers are the words of a real cluster (S23, 0b); the others follow DSQL's
patterns and are marked unconfirmed in docs/dsql-local.md."""


def _pack_answer(rule_id: str) -> Answer:
    answer = RULES_BY_ID[rule_id].answer
    if answer is None:  # a pack edit dropped it: fail at import, not on a client's statement
        raise RuntimeError(f"the lint pack's {rule_id} has no DSQL answer")
    return answer


GUARD_ANSWERS: dict[str, Answer] = {
    "session-setting": _pack_answer("DSQL114"),
    "geometric-function": _pack_answer("DSQL040"),
}
"""The guard's refusals of what it checks beyond a statement's lint (a startup parameter or
``RESET``; a geometric call when no catalog is at hand), answered with the words of the pack
rule for the same thing (DSQL114, DSQL040)."""

RUNTIME_ERRORS = frozenset(
    r.id for r in RULES if r.answer is not None and r.severity is Severity.WARNING
)
"""Pack warnings that DSQL nevertheless fails at run time (a warning with an answer)."""

FIRST = ("DSQL080", "DSQL092")
"""When several rules fire, these answer first (DSQL refuses ``ADD COLUMN … integer GENERATED
… IDENTITY`` as a constraint, not as a type, recorded as ``alter_add_identity_integer``)."""


# -- details for the messages ---------------------------------------------------------------

_TYPE_NAMES = {
    "int": "integer",
    "int4": "integer",
    "integer": "integer",
    "int2": "smallint",
    "smallint": "smallint",
    "int8": "bigint",
    "bigint": "bigint",
    "varbit": "bit varying",
    "bit varying": "bit varying",
    "float8": "double precision",
    "float4": "real",
    "bool": "boolean",
    "varchar": "character varying",
    "char": "character",
    "bpchar": "character",
    "decimal": "numeric",
    "dec": "numeric",
    "timetz": "time with time zone",
    "timestamptz": "timestamp with time zone",
}
_SERIALS = frozenset({"SERIAL", "SERIAL2", "SERIAL4", "SERIAL8", "SMALLSERIAL", "BIGSERIAL"})
_TYPMOD = re.compile(r"\s*\(.*?\)")


def canonical_type(written: str) -> str:
    """PostgreSQL's own name for a type as written (``int[]`` → ``integer[]``, ``bit(8)`` →
    ``bit``, ``varbit`` → ``bit varying``), the way DSQL names it in its messages."""
    text = written.strip().lower()
    dims = ""
    while text.endswith("[]"):
        dims += "[]"
        text = text[:-2].strip()
    base = _TYPMOD.sub("", text).strip()
    return _TYPE_NAMES.get(base, base) + dims


_HIT_TYPE = re.compile(r"column \S+: (?:array column \((?P<array>[^)]*)\)|(?P<word>.+?) column)")
_IDENTITY_TYPE = re.compile(r"identity column \S+ is (?P<type>\w+)")


def detail(rule: str, hit: Hit, stmt: Statement) -> str:
    """The part of DSQL's message that names what the statement did."""
    said = words(stmt.text)
    kind = stmt.kind
    if rule in ("DSQL041", "DSQL042"):
        match = _HIT_TYPE.search(hit.message)
        if match:
            return canonical_type(match["array"] or match["word"])
    if rule == "DSQL040" and hit.subject:
        return canonical_type(hit.subject)
    if rule == "DSQL023":
        match = _IDENTITY_TYPE.search(hit.message)
        return canonical_type(match["type"]) if match else "integer"
    if rule == "DSQL020":
        serial = next((w for w in said if w in _SERIALS), "SERIAL")
        return serial.lower()
    if rule == "DSQL007" and said[:2] != ["CREATE", "TABLESPACE"]:
        return "TABLESPACE"  # a clause: "unsupported statement: TABLESPACE" (unconfirmed)
    if rule == "DSQL044":
        return _type_statement(said)
    if rule == "DSQL048":
        strings = [t for k, t in tokens(stmt.text) if k == "STRING"]
        return strings[0] if strings else "english"
    if rule == "DSQL063":
        after = said[said.index("LANGUAGE") + 1 :] if "LANGUAGE" in said else []
        return after[0].lower() if after else "plpgsql"
    if rule == "DSQL092":
        return isolation_level(said) or "SERIALIZABLE"
    if rule == "DSQL093":
        return "TRANSACTION"
    if rule == "DSQL094":
        return setting_name(stmt.text) or "default_transaction_isolation"
    if rule == "DSQL114":  # the pack's message names the parameter: "<name> cannot be set …"
        return hit.message.split(" cannot be set", 1)[0]
    if rule == "DSQL096":
        return "ROLLBACK TO" if said[:1] == ["ROLLBACK"] else said[0] if said else "SAVEPOINT"
    if rule == "DSQL101":
        return said[0].capitalize() if said else "Listen"
    if rule == "DSQL112":
        names = [t for k, t in tokens(stmt.text)[1:2]]
        return names[0].lower() if names else "lc_collate"
    return _node_name(kind, said)


def _type_statement(words: list[str]) -> str:
    """DSQL's message for CREATE/ALTER/DROP TYPE (recorded for each form)."""
    if words[:2] == ["DROP", "TYPE"]:
        return "unsupported object in DROP statement"
    if words[:2] == ["ALTER", "TYPE"]:
        if "RENAME" in words:
            return "unsupported object in RENAME statement"
        return "ALTER TYPE not supported"
    if "RANGE" in words:
        return "unsupported statement: CreateRange"
    if len(words) > 4 and words[3] == "AS" and words[4] == "(":
        return "unsupported statement: CompositeType"
    return "CREATE TYPE not supported"


# PostgreSQL's parse-node names, which DSQL's "unsupported statement: X" messages use.
_NODES = {
    "CREATE TABLESPACE": "CreateTableSpace",
    "CREATE DATABASE": "Createdb",
    "DROP DATABASE": "Dropdb",
    "ALTER DATABASE": "AlterDatabase",
    "CREATE FOREIGN": "CreateForeignTable",
    "CREATE SERVER": "CreateForeignServer",
    "CREATE USER": "CreateUserMapping",
    "CREATE MATERIALIZED": "CreateTableAs",
    "REFRESH MATERIALIZED": "RefreshMatView",
    "DROP MATERIALIZED": "Drop",
    "CREATE EXTENSION": "CreateExtension",
    "DROP EXTENSION": "Drop",
    "ALTER EXTENSION": "AlterExtension",
    "LOAD": "Load",
    "CREATE POLICY": "CreatePolicy",
    "ALTER POLICY": "AlterPolicy",
    "DROP POLICY": "Drop",
    "CREATE PUBLICATION": "CreatePublication",
    "CREATE SUBSCRIPTION": "CreateSubscription",
    "ALTER PUBLICATION": "AlterPublication",
    "ALTER SUBSCRIPTION": "AlterSubscription",
    "PREPARE": "Prepare",
    "EXECUTE": "Execute",
    "DEALLOCATE": "Deallocate",
    "REINDEX": "Reindex",
    "CLUSTER": "Cluster",
    "ALTER INDEX": "AlterTable",
}


def _node_name(kind: str, words: list[str]) -> str:
    for length in (2, 1):
        node = _NODES.get(" ".join(words[:length]))
        if node:
            return node
    return kind.title().replace(" ", "")


def table() -> str:
    """The answers as a Markdown table (docs/dsql-local.md holds it; a test compares)."""
    lines = ["| rule | SQLSTATE | message | words |", "|---|---|---|---|"]
    for rule, answer in sorted({**ANSWERS, **GUARD_ANSWERS}.items()):
        words = "recorded" if answer.recorded else "unconfirmed"
        message = answer.message.replace("{detail}", "…").replace("|", "\\|")
        lines.append(f"| {rule} | {answer.sqlstate} | {message} | {words} |")
    return "\n".join(lines) + "\n"
