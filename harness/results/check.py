"""What a check returns: a :class:`CheckResult` holding :class:`Finding` values.

Results are plain frozen data; :meth:`CheckResult.to_dict` turns one into builtin types so it
can travel from a pytest-xdist worker to the controller and into ``results.json``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any


class Status(enum.Enum):
    """Outcome of one check."""

    PASS = "pass"
    """Source and target agree (differences, if any, are below error severity)."""
    FAIL = "fail"
    """At least one unwaived error-severity finding."""
    ERROR = "error"
    """The check could not be computed; never counts as a pass."""
    WAIVED = "waived"
    """Would have failed, but every error was declared as an expected difference."""
    SKIP = "skip"
    """Not applicable (for example a table missing on both sides of a comparison)."""


class Severity(enum.Enum):
    """How much a finding matters for the verdict."""

    ERROR = "error"
    """Blocks cutover unless declared as an expected difference."""
    WARNING = "warning"
    """Shown to the reviewer; does not block."""
    INFO = "info"
    """Context, such as a safe widening of a type."""


class FindingKind(enum.Enum):
    """What kind of difference a finding describes; expected differences match on it."""

    MISSING_TABLE = "missing_table"
    EXTRA_TABLE = "extra_table"
    MISSING_COLUMN = "missing_column"
    EXTRA_COLUMN = "extra_column"
    TYPE_INCOMPATIBLE = "type_incompatible"
    TYPE_NARROWING = "type_narrowing"
    TYPE_WIDENING = "type_widening"
    ALLOWED_VALUES = "allowed_values"
    """An enum's labels against the values the target column accepts (its enum or CHECK)."""
    CHECK_CONSTRAINT = "check_constraint"
    """A CHECK constraint missing, changed or only on the target."""
    NULLABILITY = "nullability"
    DEFAULT = "default"
    PRIMARY_KEY = "primary_key"
    UNIQUE = "unique"
    FOREIGN_KEY = "foreign_key"
    MISSING_INDEX = "missing_index"
    EXTRA_INDEX = "extra_index"
    MISSING_VIEW = "missing_view"
    EXTRA_VIEW = "extra_view"
    VIEW_COLUMNS = "view_columns"
    VIEW_DEFINITION = "view_definition"
    ROW_COUNT = "row_count"
    ROW_MISSING = "row_missing"
    ROW_EXTRA = "row_extra"
    ROW_CHANGED = "row_changed"
    RESIDUE = "residue"
    POSTURE = "posture"
    ITEMS_CHANGED = "items_changed"
    DSQL_INCOMPATIBLE = "dsql_incompatible"
    QUERY_FAILED = "query_failed"
    QUERY_ANSWER = "query_answer"
    LATENCY = "latency"
    APP_TEST = "app_test"
    APP_HEALTH = "app_health"


@dataclass(frozen=True)
class Waiver:
    """The expected difference from the plan that excused a finding."""

    reason: str
    reviewer: str
    expires: str | None = None
    index: int = 0
    """Position of the expected difference in the plan."""


@dataclass(frozen=True)
class Finding:
    """One difference between source and target."""

    kind: FindingKind
    severity: Severity
    table: str
    """Target-side table name (source-side when the table is missing on the target)."""
    message: str
    column: str | None = None
    source: str | None = None
    """The source side's value, as text (a type, a count, a column list)."""
    target: str | None = None
    waived_by: Waiver | None = None

    @property
    def object(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR and self.waived_by is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "object": self.object,
            "table": self.table,
            "column": self.column,
            "message": self.message,
            "source": self.source,
            "target": self.target,
            "waived_by": None
            if self.waived_by is None
            else {
                "reason": self.waived_by.reason,
                "reviewer": self.waived_by.reviewer,
                "expires": self.waived_by.expires,
                "index": self.waived_by.index,
            },
        }


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one subject (a table, a query, a rule…)."""

    area: str
    """``schema``, ``row_count``, … — one per kind of check; the report groups by it."""
    name: str
    """The subject, e.g. the table; ``f"{area}[{name}]"`` is the result's id."""
    status: Status
    summary: str
    findings: tuple[Finding, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    @property
    def id(self) -> str:
        return f"{self.area}[{self.name}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "area": self.area,
            "name": self.name,
            "status": self.status.value,
            "summary": self.summary,
            "duration_s": round(self.duration_s, 6),
            "findings": [f.to_dict() for f in self.findings],
            "evidence": self.evidence,
        }


def conclude(
    area: str, name: str, findings: list[Finding], evidence: dict[str, Any], *, ok: str
) -> CheckResult:
    """Derive status and summary from findings: fail on blocking ones, waived when all excused."""
    blocking = [f for f in findings if f.blocking]
    waived = [f for f in findings if f.waived_by is not None and f.severity is Severity.ERROR]
    if blocking:
        status = Status.FAIL
        summary = "; ".join(f.message for f in blocking[:3])
        if len(blocking) > 3:
            summary += f"; and {len(blocking) - 3} more"
    elif waived:
        status = Status.WAIVED
        summary = f"{len(waived)} expected difference(s): " + "; ".join(
            f.message for f in waived[:2]
        )
    else:
        status = Status.PASS
        warnings = sum(f.severity is Severity.WARNING for f in findings)
        summary = ok + (f" ({warnings} warning(s))" if warnings else "")
    return CheckResult(area, name, status, summary, tuple(findings), evidence)


def errored(area: str, name: str, message: str) -> CheckResult:
    """A check that could not be computed: an error, never a pass."""
    return CheckResult(area, name, Status.ERROR, message)


def timed(result: CheckResult, seconds: float) -> CheckResult:
    return replace(result, duration_s=seconds)
