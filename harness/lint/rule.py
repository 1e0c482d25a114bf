"""One lint rule as a record: the data every output (docs, SARIF ``rules[]``, tests) is built from.

Rules are plain frozen data; the code that detects them lives in :mod:`harness.lint.detect`
and friends, keyed by :attr:`Rule.id`. Keeping the two apart lets the pack be versioned and
dated on its own (DSQL changes roughly monthly) while the detectors stay small.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.results.check import Severity


class FixKind(enum.Enum):
    """What an automatic rewrite of a rule's finding would do to the program's meaning."""

    FAITHFUL = "faithful"
    """The rewritten statement behaves the same on DSQL as the original did on PostgreSQL."""
    CHANGES_BEHAVIOUR = "changes-behaviour"
    """A rewrite exists but the program behaves differently afterwards; a human must review it."""
    IMPOSSIBLE = "impossible"
    """No statement-level rewrite exists; the design or the application has to change."""


@dataclass(frozen=True)
class Answer:
    """How Aurora DSQL refuses a statement the rule fires on: SQLSTATE and message."""

    sqlstate: str
    """Five characters: ``0A000`` (feature not supported), ``42704`` (undefined object) …"""
    message: str
    """DSQL's words; ``{detail}`` stands for the part that names what the statement did (a
    type, a parse node, a parameter), filled in by the local DSQL
    (:func:`harness.dsql_local.answers.detail`)."""
    recorded: bool
    """True when a real cluster's recording holds these exact words (S23); otherwise they
    follow DSQL's patterns and are unconfirmed."""


@dataclass(frozen=True)
class Rule:
    """A DSQL compatibility rule with its rationale, examples, fix and provenance."""

    id: str
    """Stable id, ``DSQL050``; never reused for a different meaning."""
    name: str
    """Kebab-case name, ``index-async``."""
    severity: Severity
    """ERROR: DSQL rejects the statement. WARNING: accepted, but behaves differently."""
    summary: str
    """One line: what is wrong (used as the finding message when a detector gives none)."""
    rationale: str
    """Why, with the error DSQL returns where one was recorded."""
    bad: str
    """SQL that must fire this rule and no other."""
    good: str
    """The DSQL-accepted counterpart of ``bad``; must fire no rule at all."""
    fix: str
    """What to do instead (shown after the arrow in text output)."""
    fix_kind: FixKind
    sources: tuple[str, ...]
    """Keys into :data:`harness.lint.pack.SOURCES` (``S23`` …)."""
    as_of: str
    """ISO date of the newest evidence the rule is based on."""
    confirmed: bool = True
    """False when the reference marks the behaviour as unconfirmed on a real cluster."""
    autofix: bool = False
    """True when ``--fix`` rewrites it (see :mod:`harness.lint.fix`)."""
    scope: str = "statement"
    """``statement``, ``transaction`` (needs the statements around it) or ``script``."""
    dialect: str = "postgres"
    """Source dialect the examples are written in (``postgres`` or ``sqlite``)."""
    answer: Answer | None = None
    """DSQL's refusal, for a rule whose statements DSQL refuses; the local DSQL answers with
    it (:mod:`harness.dsql_local.answers`), so the linter and the guard share one source."""

    @property
    def title(self) -> str:
        return f"{self.id} {self.name}"
