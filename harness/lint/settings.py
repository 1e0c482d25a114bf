"""How linting is configured: the ``lint:`` section of a plan, and the CLI's defaults.

Frozen pydantic models like the rest of the plan (:mod:`harness.plan`): unknown keys are
rejected, so a typo cannot silently switch a rule or a waiver off.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from harness.errors import did_you_mean
from harness.lint.pack import RULES_BY_ID
from harness.lint.report import FailOn
from harness.plan.base import PlanModel, existing_paths


class LintWaiver(PlanModel):
    """A finding a reviewer accepted: which rule, where, why, who, until when."""

    rule: str = Field(description="Rule id (DSQL050) or name (index-async), or * for any rule.")
    path: str = Field("*", description="Glob over the reported path (migrations/*.sql).")
    object: str | None = Field(None, description="Schema object (orders or public.orders).")
    reason: str = Field(min_length=1)
    reviewer: str = Field(min_length=1)
    expires: date | None = None

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        by_name = {r.name: r.id for r in RULES_BY_ID.values()}
        value = value.strip()
        if value in by_name:
            return by_name[value]
        if value == "*" or value.upper() in RULES_BY_ID:
            return value.upper()
        hint = did_you_mean(value, [*RULES_BY_ID, *by_name])
        raise ValueError(f"unknown rule {value!r}.{hint}")


class LintSettings(PlanModel):
    """The ``lint`` section of a plan: what to lint against DSQL and what is waived."""

    paths: tuple[Path, ...] = Field(
        (), description="SQL files, migration folders and application code to lint."
    )
    target: Literal["dsql"] = "dsql"
    dialect: Literal["postgres", "sqlite"] = Field(
        "postgres", description="Dialect the SQL is written in."
    )
    fail_on: FailOn = Field(FailOn.ERROR, description="Lowest severity that fails the run.")
    assume_in_transaction: bool = Field(
        False, description="Treat each file as one transaction (migration tools that wrap files)."
    )
    app_code: bool = Field(True, description="Also read SQL from .py/.ts/.js files in folders.")
    exclude: tuple[str, ...] = Field((), description="Glob patterns of paths to skip.")
    live_schema: bool = Field(
        True,
        description="In `cutover verify`, also lint the source's live schema (catalog → DDL), "
        "one item per table or view, when the source is PostgreSQL.",
    )
    waivers: tuple[LintWaiver, ...] = ()

    _exist = field_validator("paths", mode="after")(existing_paths)
