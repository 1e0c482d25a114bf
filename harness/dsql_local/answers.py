"""How Aurora DSQL answers what it refuses: SQLSTATE and message, per lint rule.

The lint rule pack (:mod:`harness.lint.pack`) says *that* DSQL rejects a statement; this table
says *how* a real cluster answers it, with the words of a recording where one exists
(``recorded=True``: Dreamescaper/dsql-emulator's golden files, reference §0b) and DSQL's
patterns otherwise (``unsupported statement: <PostgreSQL parse node>``, ``datatype X not
supported``). :func:`detail` fills in the part of a message that names what the statement
did (a type, a language, an isolation level), as PostgreSQL itself would name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.dsql_local.statement import Statement, isolation_level, setting_name, tokens, words
from harness.lint.analysis import Hit

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


@dataclass(frozen=True)
class Answer:
    """DSQL's answer to statements a rule fires on; ``message`` may use ``{detail}``."""

    sqlstate: str
    message: str
    recorded: bool
    """True when a real cluster's recording holds these exact words (S23)."""


def _unsupported(node: str, *, recorded: bool = False) -> Answer:
    return Answer("0A000", f"unsupported statement: {node}", recorded)


_NOT_VALID = "unsupported ALTER TABLE ADD CONSTRAINT statement"
_CACHE = "please define CACHE greater than or equal to 65536 or equal to 1"

ANSWERS: dict[str, Answer] = {
    "DSQL001": Answer("0A000", "TEMPORARY or TEMP table not supported for CREATE TABLE", True),
    "DSQL002": Answer("0A000", "UNLOGGED table not supported for CREATE TABLE", True),
    "DSQL003": Answer("0A000", "ON COMMIT not supported for CREATE TABLE", False),
    "DSQL004": Answer("0A000", "PARTITION BY not supported for CREATE TABLE", False),
    "DSQL005": Answer("0A000", "PARTITION OF not supported", False),
    "DSQL006": Answer("0A000", "INHERITS not supported for CREATE TABLE", False),
    "DSQL007": Answer("0A000", "unsupported statement: {detail}", True),
    "DSQL008": Answer("0A000", "storage parameters not supported", False),
    "DSQL009": _unsupported("CreateTableAs", recorded=True),
    "DSQL010": Answer("0A000", "COLLATE not supported for a column", False),
    "DSQL011": Answer("0A000", "unsupported statement: {detail}", True),
    "DSQL012": Answer("0A000", "unsupported statement: {detail}", True),
    "DSQL020": Answer("42704", 'type "{detail}" does not exist', True),
    "DSQL021": Answer(
        "0A000", f"identity column is not supported without an explicit cache size. {_CACHE}", True
    ),
    "DSQL022": Answer("0A000", f"identity column cache size is not supported. {_CACHE}", False),
    "DSQL023": Answer(
        "0A000", "datatype {detail} not supported, identity column type must be bigint", True
    ),
    "DSQL024": Answer(
        "0A000", f"CREATE SEQUENCE is not supported without an explicit cache size. {_CACHE}", True
    ),
    "DSQL025": Answer("0A000", f"sequence options not supported. {_CACHE}", False),
    "DSQL026": Answer("0A000", f"sequence cache size is not supported. {_CACHE}", False),
    "DSQL028": Answer("0A000", "MATCH PARTIAL not supported", False),
    "DSQL029": Answer("0A000", _NOT_VALID, True),
    "DSQL030": Answer("0A000", "unsupported ALTER TABLE VALIDATE CONSTRAINT statement", True),
    "DSQL031": Answer("0A000", _NOT_VALID, True),
    "DSQL033": Answer("0A000", "exclusion constraints not supported", False),
    "DSQL034": Answer("0A000", _NOT_VALID, False),
    "DSQL040": Answer("0A000", "datatype {detail} not supported", True),
    "DSQL041": Answer("0A000", "datatype {detail} not supported", True),
    "DSQL042": Answer("0A000", "datatype {detail} not supported", True),
    "DSQL044": Answer("0A000", "{detail}", True),
    "DSQL048": Answer("42704", 'text search configuration "{detail}" does not exist', True),
    "DSQL050": Answer("0A000", "unsupported mode. please use CREATE INDEX ASYNC.", True),
    "DSQL051": Answer("0A000", "unsupported mode. please use CREATE INDEX ASYNC.", False),
    "DSQL052": Answer("42601", 'syntax error at or near "."', True),
    "DSQL053": Answer("0A000", "index access method not supported", False),
    "DSQL058": Answer("0A000", "unsupported statement: {detail}", False),
    "DSQL061": Answer("0A000", "TEMPORARY or TEMP view not supported", False),
    "DSQL062": Answer("0A000", "unsupported statement: {detail}", True),
    "DSQL063": Answer("0A000", "CREATE FUNCTION with language {detail} not supported", True),
    "DSQL064": Answer("0A000", "CREATE PROCEDURE not supported", False),
    "DSQL065": _unsupported("Do"),
    "DSQL066": Answer("0A000", "CREATE TRIGGER not supported", True),
    "DSQL067": Answer("0A000", "unsupported statement: {detail}", True),
    "DSQL068": _unsupported("Rule"),
    "DSQL069": Answer("0A000", "unsupported statement: {detail}", False),
    "DSQL070": Answer("0A000", "unsupported statement: {detail}", False),
    "DSQL071": _unsupported("AlterRole"),
    "DSQL075": _unsupported("Define"),
    "DSQL080": Answer("0A000", "ALTER TABLE ADD COLUMN with constraint not supported", True),
    "DSQL081": Answer(
        "0A000", "unsupported ALTER TABLE ALTER COLUMN ... SET DATA TYPE statement", True
    ),
    "DSQL082": Answer(
        "0A000", "unsupported ALTER TABLE ALTER COLUMN ... SET NOT NULL statement", False
    ),
    "DSQL084": Answer("0A000", "cannot drop primary key column {detail}", True),
    "DSQL085": Answer(
        "0A000", f"identity column is not supported without an explicit cache size. {_CACHE}", False
    ),
    "DSQL086": Answer(
        "0A000", "unsupported ALTER TABLE ALTER COLUMN ... SET COMPRESSION statement", False
    ),
    "DSQL092": Answer("0A000", "Unsupported isolation level: {detail}", True),
    "DSQL093": Answer("0A000", 'setting configuration parameter "{detail}" not supported', True),
    "DSQL094": Answer("0A000", 'setting configuration parameter "{detail}" not supported', True),
    "DSQL096": Answer("0A000", "unsupported transaction statement: {detail}", True),
    "DSQL097": Answer(
        "0A000", "locking clauses other than FOR UPDATE/FOR KEY SHARE are not supported", True
    ),
    "DSQL099": _unsupported("Lock", recorded=True),
    "DSQL101": Answer("0A000", "unsupported statement: {detail}", True),
    "DSQL102": _unsupported("DeclareCursor"),
    "DSQL103": Answer("0A000", "unsupported statement: {detail}", False),
    "DSQL104": _unsupported("Discard"),
    "DSQL105": _unsupported("Truncate", recorded=True),
    "DSQL106": Answer("0A000", "unsupported VACUUM statement", True),
    "DSQL107": _unsupported("AlterSystem", recorded=True),
    "DSQL108": Answer("0A000", "COPY to or from a file is not supported", False),
    "DSQL109": Answer("0A000", "TABLESAMPLE clause not supported", True),
    "DSQL110": Answer("0A000", "unsupported statement type: MERGE", True),
    # Recorded for default_transaction_isolation; the same words for every refused name.
    "DSQL114": Answer("0A000", 'setting configuration parameter "{detail}" not supported', False),
    # Warnings in the pack that DSQL nevertheless answers with an error at run time:
    "DSQL112": Answer("42704", 'unrecognized configuration parameter "{detail}"', True),
}
"""Rule id → DSQL's answer. ``recorded`` answers are the words of a real cluster (S23, 0b);
the others follow DSQL's patterns and are marked unconfirmed in docs/dsql-local.md."""

GUARD_ANSWERS: dict[str, Answer] = {
    "session-setting": Answer(
        "0A000", 'setting configuration parameter "{detail}" not supported', False
    ),
    "geometric-function": Answer("0A000", "datatype {detail} not supported", True),
}
"""Refusals the pack has no rule for (yet): the guard's own, named rather than numbered."""

RUNTIME_ERRORS = frozenset({"DSQL112"})
"""Pack warnings that are statement failures on a running cluster."""

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
