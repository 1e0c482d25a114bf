"""The plan: two endpoints and what must hold between them, as frozen pydantic models.

Each capability's section model lives in its own package (``rows.settings``,
``lint.settings``…) and every endpoint model in :mod:`harness.endpoints.settings`; this module
puts them together. :func:`harness.plan.load.load_plan` is the only way a plan file becomes a
:class:`Plan`; ``schemas/plan.schema.json`` is generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from harness.app.settings import AppHealth, AppTests
from harness.dynamo.settings import DynamoSettings
from harness.endpoints.settings import ConnectSettings, Endpoint
from harness.faults.settings import FaultSettings
from harness.latency.settings import LatencySettings
from harness.lint.settings import LintSettings
from harness.plan.base import PlanModel
from harness.posture.settings import PostureSettings
from harness.queries.settings import QuerySettings
from harness.residue.settings import RetiredSettings
from harness.results.check import FindingKind
from harness.rows.settings import RowSettings


class TableSelection(PlanModel):
    """Which tables to verify. Names match source or target names; patterns are fnmatch globs."""

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    keys: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Key columns for tables without a primary key."
    )

    @field_validator("keys", mode="after")
    @classmethod
    def _some_column(cls, keys: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        # An empty list would silently mean "the primary key" (or none at all).
        empty = [table for table, columns in keys.items() if not columns]
        if empty:
            raise ValueError(f"'{empty[0]}' lists no key column; name at least one")
        return keys

    allow_empty: bool = Field(
        False,
        description="The plan expects no table to compare (an empty source, or a selection "
        "that matches none); otherwise that stops the run as a plan error.",
    )


class Renames(PlanModel):
    """How source names become target names: explicit maps first, then the policy."""

    policy: Literal["none", "snake_case", "lower"] = "none"
    tables: dict[str, str] = Field(default_factory=dict, description="source table → target table")
    columns: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="source table → {source column → target column}"
    )


class ExpectedDifference(PlanModel):
    """A difference the team knows about and a reviewer accepted: on a table (and column), or
    on one of the application's queries (its answer and latency items)."""

    table: str | None = None
    column: str | None = None
    query: str | None = Field(None, description="A query of queries: instead of table.")
    kind: FindingKind | None = Field(None, description="Finding kind; omitted means any kind.")
    reason: str = Field(min_length=1)
    reviewer: str = Field(min_length=1)
    expires: date | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> ExpectedDifference:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of 'table' or 'query'")
        if self.query is not None and self.column is not None:
            raise ValueError("'column' goes with 'table', not with 'query'")
        return self


NEEDS_SOURCE = (
    "tables",
    "renames",
    "expected_differences",
    "rows",
    "queries",
    "faults",
    "app_tests",
)
"""Sections that compare the source with the target: a plan without a source cannot use them."""


class Plan(PlanModel):
    """A verification plan: two endpoints and what must hold between them (or, without a
    ``source``, what must hold of the target alone)."""

    name: str = Field(min_length=1)
    source: Endpoint | None = Field(
        None,
        description="The database moved from; omit it for a target with no source (a "
        "greenfield database): the checks that need only the target run, schema, row counts "
        "and rows are reported not applicable, and a GO says what it covered.",
    )
    target: Endpoint
    tables: TableSelection = TableSelection()
    renames: Renames = Renames()
    expected_differences: tuple[ExpectedDifference, ...] = ()
    rows: RowSettings = RowSettings()
    lint: LintSettings | None = None
    queries: QuerySettings | None = None
    latency: LatencySettings | None = None
    connect: ConnectSettings = ConnectSettings()
    retired: RetiredSettings | None = None
    posture: PostureSettings | None = None
    dynamo: DynamoSettings | None = None
    faults: FaultSettings | None = None
    app_tests: AppTests | None = None
    health: AppHealth | None = None

    @model_validator(mode="after")
    def _source_for_comparisons(self) -> Plan:
        """A section that compares the two sides is a mistake in a plan with no source."""
        if self.source is not None:
            return self
        used = [name for name in NEEDS_SOURCE if name in self.model_fields_set]
        if used:
            raise ValueError(
                f"'{used[0]}' compares the source with the target, and the plan has no "
                "'source'; add a source, or remove it (a target-only plan runs connectivity, "
                "latency connect/health, health, posture, lint and residue)"
            )
        return self


@dataclass(frozen=True)
class LoadedPlan:
    """A validated plan with where it came from (for evidence and relative paths)."""

    plan: Plan
    path: Path
    sha256: str


def is_expired(diff: ExpectedDifference, today: date | None = None) -> bool:
    """An expected difference past its expiry date no longer waives anything."""
    return diff.expires is not None and diff.expires < (today or date.today())
