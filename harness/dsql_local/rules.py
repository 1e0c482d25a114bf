"""What the local DSQL refuses: the lint rule pack's decision, answered as DSQL answers.

The decision comes from the same place as ``cutover lint``'s: every statement is classified by
:func:`harness.lint.engine.analyse_statement` (:mod:`harness.dsql_local.statement`) and
refused when it fires a statement-level rule of severity ``error``, with DSQL's SQLSTATE and
words as the rule carries them (:attr:`harness.lint.rule.Rule.answer`, read through
:mod:`harness.dsql_local.answers`). A few checks are made here beyond the statement's lint,
answered with the words of the pack rule for the same thing: a setting named outside a
``SET`` (a startup parameter, ``RESET``; DSQL114's words), a geometric call when no catalog is
at hand (DSQL040's), and a dropped primary-key column (which needs the catalog, so the pack's
script-level DSQL084 cannot see it). Rules the guard leaves to
PostgreSQL, because DSQL's answer *is* PostgreSQL's (a syntax error, an unknown type) or
because they span a transaction (:mod:`harness.dsql_local.session`), are :data:`DEFERRED`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from harness.dsql_local import grants
from harness.dsql_local.answers import ANSWERS, FIRST, GUARD_ANSWERS, RUNTIME_ERRORS, detail
from harness.dsql_local.statement import Statement, isolation_level, setting_name, tokens, words
from harness.lint.analysis import Hit
from harness.lint.pack import RULES_BY_ID
from harness.lint.prescan.session import SETTABLE, settable
from harness.results.check import Severity

__all__ = [
    "ALLOWED_SETTINGS",
    "DEFERRED",
    "Catalog",
    "JobLog",
    "Refusal",
    "job",
    "refuse",
    "refuse_setting",
    "rewrite",
    "setting_allowed",
    "waits_for_job",
]

ALLOWED_SETTINGS = SETTABLE
"""Parameters DSQL lets a session set, besides any named ``enable_*``: the lint pack's list
(:data:`harness.lint.prescan.session.SETTABLE`, rule DSQL114), so the two cannot disagree."""

DEFERRED = frozenset(
    {
        "DSQL000",  # the linter could not read it: PostgreSQL decides
        "DSQL130",  # SQLite syntax: PostgreSQL's own syntax error is DSQL's too
        "DSQL111",  # GROUP BY ALL: recorded as PostgreSQL's "syntax error at end of input"
        "DSQL118",  # VIRTUAL generated columns: PostgreSQL 16's own syntax error, as on DSQL
        "DSQL015",  # script-level limits: need the whole schema (not enforced yet)
        "DSQL016",
        "DSQL084",  # a dropped key column: decided from the catalog below
        "DSQL090",  # one DDL per transaction: the session's rule
        "DSQL091",  # no DDL and DML together: the session's rule
    }
)
"""Error rules the guard does not answer from the statement alone."""


@dataclass(frozen=True)
class Refusal:
    """A statement DSQL would not run: what the client is told, and which rule said so."""

    sqlstate: str
    message: str
    rule: str


class Catalog(Protocol):
    """What a decision may ask the server: asked on the client's own connection, so names
    resolve on its search path and within its transaction."""

    def is_key_column(self, table: str, column: str) -> Awaitable[bool]:
        """Whether ``column`` is part of ``table``'s primary key."""
        ...

    def type_kind(self, name: str) -> Awaitable[str | None]:
        """``pg_type.typtype`` of the type ``name`` resolves to, None when there is none."""
        ...

    def role_granted(self, role: str) -> Awaitable[bool]:
        """Whether ``role`` is granted to an IAM principal (``AWS IAM GRANT``)."""
        ...


class JobLog(Protocol):
    """Where DSQL's asynchronous jobs are logged (``sys.jobs``)."""

    def record_job(
        self, job_type: str, object_name: str | None, *, building: bool
    ) -> Awaitable[str]:
        """Log a job; its id. ``building``: the index ``object_name`` was just built and stays
        invalid until the job ends (a few seconds, or at once when a client waits for it)."""
        ...

    async def finish_all(self) -> None:
        """End every job still running (``sys.wait_for_job`` is about to wait)."""
        ...

    async def close(self) -> None: ...


_GEOMETRIC = frozenset({"point", "line", "lseg", "box", "path", "polygon", "circle"})
"""Geometric types: DSQL fails functions named after them (recorded for ``line``, ``circle``)."""

# -- session settings (the pack's DSQL114 list; here for startup options and RESET) -----------


def setting_allowed(name: str) -> bool:
    return settable(name)


def refuse_setting(name: str) -> Refusal | None:
    """DSQL's refusal of setting ``name`` (a SET, a startup parameter or ``-c`` option)."""
    if setting_allowed(name) or name.lower() == "all":
        return None
    answer = GUARD_ANSWERS["session-setting"]
    return Refusal(answer.sqlstate, answer.message.format(detail=name), "session-setting")


def _set_config_names(text: str) -> list[str]:
    found = tokens(text)
    names = []
    for at in range(len(found) - 2):
        call = found[at][1].lower() == "set_config" and found[at + 1][0] == "L_PAREN"
        if call and found[at + 2][0] == "STRING":
            names.append(found[at + 2][1])
    return names


def _geometric_call(text: str) -> str | None:
    found = tokens(text)
    for at in range(len(found) - 1):
        word = found[at][1]
        if word.lower() in _GEOMETRIC and found[at + 1][0] == "L_PAREN":
            before = found[at - 1][0] if at else ""
            if before not in ("DCOLON", "DOT"):
                return word.lower()
    return None


# -- the decision -----------------------------------------------------------------------------


def _answer(rule: str, hit: Hit, stmt: Statement) -> Refusal:
    answer = ANSWERS[rule]
    message = answer.message.format(detail=detail(rule, hit, stmt))
    return Refusal(answer.sqlstate, message, rule)


def _refusing_hits(stmt: Statement) -> list[Hit]:
    hits = []
    for hit in stmt.analysis.hits:
        rule = RULES_BY_ID.get(hit.rule)
        if rule is None or hit.rule in DEFERRED or hit.rule.startswith("LINT"):
            continue
        if rule.severity is Severity.ERROR or hit.rule in RUNTIME_ERRORS:
            hits.append(hit)
    return sorted(hits, key=lambda h: FIRST.index(h.rule) if h.rule in FIRST else len(FIRST))


async def refuse(stmt: Statement, catalog: Catalog | None = None) -> Refusal | None:
    """DSQL's refusal of ``stmt``, or None when DSQL would run it (ignoring the transaction
    around it, which is the session's business)."""
    said = words(stmt.text)
    characteristics = ["SET", "SESSION", "CHARACTERISTICS", "AS"]
    if said[:3] == ["SET", "TRANSACTION", "ISOLATION"] or said[:4] == characteristics:
        level = isolation_level(said)
        if level and level != "REPEATABLE READ":
            return Refusal("0A000", f"Unsupported isolation level: {level}", "DSQL092")
    for hit in _refusing_hits(stmt):
        if hit.rule == "DSQL040" and catalog is not None and hit.subject:
            kind = await catalog.type_kind(hit.subject)
            if kind is None or kind == "d":
                continue  # no such type (PostgreSQL says so, as DSQL does) or a domain (fine)
        elif hit.rule == "DSQL040" and hit.subject:
            continue
        if hit.rule not in ANSWERS:
            rule = RULES_BY_ID[hit.rule]
            return Refusal("0A000", f"{rule.summary} not supported", hit.rule)
        return _answer(hit.rule, hit, stmt)
    if said[:1] in (["SET"], ["RESET"]):
        name = setting_name(stmt.text)
        if name is not None:
            refusal = refuse_setting(name)
            if refusal is not None:
                return refusal
    for name in _set_config_names(stmt.text):
        refusal = refuse_setting(name)
        if refusal is not None:
            return refusal
    geometric = _geometric_call(stmt.text) if stmt.is_query else None
    if geometric:
        answer = GUARD_ANSWERS["geometric-function"]
        message = answer.message.format(detail=geometric)
        return Refusal(answer.sqlstate, message, "geometric-function")
    if catalog is not None and stmt.kind == "ALTER TABLE" and stmt.analysis.dropped_columns:
        table = stmt.analysis.obj or ""
        for column in stmt.analysis.dropped_columns:
            if await catalog.is_key_column(table, column):
                answer = ANSWERS["DSQL084"]
                return Refusal(answer.sqlstate, answer.message.format(detail=column), "DSQL084")
    for role in grants.dropped_roles(stmt) if catalog is not None else []:
        if catalog is not None and await catalog.role_granted(role):
            sqlstate, message = grants.DROP_BLOCKED
            return Refusal(sqlstate, message.format(role=role), "iam-grant")
    return None


_ASYNC = re.compile(r"^(\s*(?:CREATE\s+(?:UNIQUE\s+)?INDEX|ALTER\s+TABLE))\s+ASYNC\b", re.I)
_INDEX_NAME = re.compile(
    r'^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+ASYNC\s+(?:IF\s+NOT\s+EXISTS\s+)?(?!ON\b)("(?:[^"]|"")+"|\w+)',
    re.I,
)


_WAIT_FOR_JOB = re.compile(r'^\s*CALL\s+"?sys"?\s*\.\s*"?wait_for_job"?\s*\(', re.I)


def waits_for_job(stmt: Statement) -> bool:
    """``CALL sys.wait_for_job(…)`` (a pattern: sqlglot reads a CALL as one opaque command)."""
    return _WAIT_FOR_JOB.match(stmt.text) is not None


def job(stmt: Statement) -> tuple[str, str | None] | None:
    """(job type, object name) when DSQL answers ``stmt`` with a job id: ``CREATE INDEX
    ASYNC`` (``INDEX_BUILD``, recorded) and ``ALTER TABLE ASYNC`` (its type is not recorded).
    A statement-shape pre-scan: sqlglot mis-reads ``ASYNC`` (reference §8)."""
    if not _ASYNC.match(stmt.text):
        return None
    if stmt.kind.startswith("CREATE"):
        match = _INDEX_NAME.match(stmt.text)
        if match is None:
            return "INDEX_BUILD", None
        name = match.group(1)
        name = name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()
        return "INDEX_BUILD", f"public.{name}"
    return "VALIDATE_CONSTRAINT", stmt.analysis.obj


def rewrite(stmt: Statement) -> str:
    """The text the server runs for ``stmt``: DSQL's ``ASYNC`` forms become PostgreSQL's own
    statements (the job is logged around them), ``AWS IAM GRANT``/``REVOKE`` a call of the
    procedure that keeps the grants (:mod:`harness.dsql_local.grants`)."""
    iam = grants.parse(stmt)
    if iam is not None:
        return iam.call
    return _ASYNC.sub(r"\1", stmt.text, count=1)
