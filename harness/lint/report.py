"""What linting returns: findings per statement, statements per file, files per report.

All plain frozen data, so a report can cross a process boundary (the linter fans files out to
worker processes) and be written as JSON, SARIF or annotations without further lookups.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from harness.lint.rule import FixKind
from harness.results.check import Severity

JSON_SCHEMA_VERSION = 1
"""Bumped when a field of :meth:`LintReport.to_dict` changes meaning or disappears."""


class Verdict(enum.Enum):
    """How a statement ended up; every statement gets exactly one."""

    CLEAN = "clean"
    """Analysed; no rule fired."""
    FINDING = "finding"
    """Analysed; at least one rule fired (suppressed findings count)."""
    UNANALYSED = "unanalysed"
    """Could not be analysed; carries a DSQL000 finding so it is never passed silently."""


class FailOn(enum.Enum):
    """The lowest severity that makes ``cutover lint`` exit 1."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Suppression:
    """Why a finding does not count: an inline comment or a plan waiver."""

    kind: str
    """``inline`` (a ``-- cutover: ignore[…]`` comment) or ``waiver`` (the plan)."""
    reason: str
    reviewer: str | None = None
    expires: str | None = None
    index: int | None = None
    """Position of the waiver in the plan's list, for accounting."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "reviewer": self.reviewer,
            "expires": self.expires,
            "index": self.index,
        }


@dataclass(frozen=True)
class LintFinding:
    """One rule firing on one statement."""

    rule_id: str
    name: str
    severity: Severity
    message: str
    fix: str
    fix_kind: FixKind
    path: str
    line: int
    col: int
    statement: int
    """0-based index of the statement in its file."""
    preview: str
    """The statement's first line, shortened."""
    fingerprint: str
    """Stable across line moves: rule + normalised statement text + occurrence index."""
    object: str | None = None
    """The schema object the statement defines or changes (``public.orders``), when known."""
    suppressed_by: Suppression | None = None

    @property
    def blocking(self) -> bool:
        return self.suppressed_by is None

    def counts_at(self, fail_on: FailOn) -> bool:
        """True when this finding should fail a run that fails on ``fail_on``."""
        if not self.blocking:
            return False
        if fail_on is FailOn.WARNING:
            return self.severity in (Severity.ERROR, Severity.WARNING)
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix,
            "fix_kind": self.fix_kind.value,
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "statement": self.statement,
            "preview": self.preview,
            "object": self.object,
            "fingerprint": self.fingerprint,
            "suppressed_by": None if self.suppressed_by is None else self.suppressed_by.to_dict(),
        }


@dataclass(frozen=True)
class StatementVerdict:
    """How one statement was classified."""

    index: int
    line: int
    col: int
    kind: str
    """Leading keywords, e.g. ``CREATE TABLE``, ``INSERT``, ``\\restrict``."""
    verdict: Verdict
    method: str
    """``parsed`` (sqlglot AST), ``prescan`` (keywords/tokens only) or ``client`` (psql)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "line": self.line,
            "col": self.col,
            "kind": self.kind,
            "verdict": self.verdict.value,
            "method": self.method,
        }


@dataclass(frozen=True)
class FileReport:
    """The lint of one source: a SQL file, an application file, or one catalog object."""

    path: str
    source: str
    """``sql``, ``python``, ``javascript`` or ``catalog``."""
    statements: tuple[StatementVerdict, ...]
    findings: tuple[LintFinding, ...]
    object: str | None = None
    """For catalog sources: the table or view this report is about."""
    fixed: str | None = None
    """With ``--fix``: the rewritten text, when any rewrite applied."""

    def verdict_counts(self) -> dict[str, int]:
        counts = {v.value: 0 for v in Verdict}
        for s in self.statements:
            counts[s.verdict.value] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "source": self.source,
            "object": self.object,
            "statements": self.verdict_counts(),
            "findings": [f.to_dict() for f in self.findings],
            "unanalysed": [s.to_dict() for s in self.statements if s.verdict is Verdict.UNANALYSED],
        }


@dataclass(frozen=True)
class LintReport:
    """The lint of every source named on the command line or in the plan."""

    files: tuple[FileReport, ...]
    pack_version: str
    target: str = "dsql"
    duration_s: float = 0.0
    tool: dict[str, str] = field(default_factory=dict)

    @property
    def findings(self) -> tuple[LintFinding, ...]:
        return tuple(f for file in self.files for f in file.findings)

    def failing(self, fail_on: FailOn) -> tuple[LintFinding, ...]:
        return tuple(f for f in self.findings if f.counts_at(fail_on))

    def exit_code(self, fail_on: FailOn) -> int:
        """0 when nothing at or above ``fail_on`` is left unsuppressed, else 1."""
        return 1 if self.failing(fail_on) else 0

    def summary(self) -> dict[str, int]:
        findings = self.findings
        statements = sum(len(f.statements) for f in self.files)
        unanalysed = sum(f.verdict_counts()["unanalysed"] for f in self.files)
        return {
            "files": len(self.files),
            "statements": statements,
            "unanalysed": unanalysed,
            "errors": sum(f.blocking and f.severity is Severity.ERROR for f in findings),
            "warnings": sum(f.blocking and f.severity is Severity.WARNING for f in findings),
            "suppressed": sum(not f.blocking for f in findings),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": JSON_SCHEMA_VERSION,
            "tool": {"name": "cutover lint", **self.tool},
            "target": self.target,
            "rule_pack": self.pack_version,
            "summary": self.summary(),
            "files": [f.to_dict() for f in self.files],
        }
