"""How query-result parity is configured: the ``queries:`` section of a plan.

A query is written once, in the source's dialect, and transpiled to the target's with
sqlglot; a team that already keeps both spellings gives them per dialect instead. Parameters
are named (``:customer``) and come from fixed sets or from generators declared here, drawn
deterministically from ``seed`` so two runs time and compare the same values.

Frozen pydantic models like the rest of the plan (:mod:`harness.plan`): unknown keys are
rejected, so a typo cannot silently switch a comparison off.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from harness.plan.base import PlanModel, relative_to_plan
from harness.rows.settings import ColumnCanon

Dialect = Literal["sqlite", "postgres"]
Scalar = str | int | float | bool | None

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class IntegerParam(PlanModel):
    """Integers drawn uniformly from ``min``..``max`` (both included)."""

    kind: Literal["integers"]
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> IntegerParam:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class ChoiceParam(PlanModel):
    """One of the listed values."""

    kind: Literal["choices"]
    values: tuple[Scalar, ...] = Field(min_length=1)


class ColumnParam(PlanModel):
    """A value sampled from a column of the source (distinct, non-NULL values)."""

    kind: Literal["column"]
    column: str = Field(description="table.column, in source names")

    @field_validator("column")
    @classmethod
    def _table_dot_column(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"'{value}' is not table.column")
        return value


class DateParam(PlanModel):
    """A date (ISO text, as applications bind it) drawn uniformly from ``start``..``end``."""

    kind: Literal["dates"]
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> DateParam:
        if self.start > self.end:
            raise ValueError(f"start ({self.start}) is after end ({self.end})")
        return self


ParamStrategy = Annotated[
    IntegerParam | ChoiceParam | ColumnParam | DateParam, Field(discriminator="kind")
]


class Query(PlanModel):
    """One application query: its SQL, its parameters and how its answer is compared."""

    sql: str | None = Field(None, description="SQL in the source dialect (transpiled).")
    file: Path | None = Field(None, description="A .sql file holding the query.")
    dialects: dict[Dialect, str] = Field(
        default_factory=dict,
        description="SQL per dialect, used as written (no transpiling) for that side.",
    )
    params: tuple[dict[str, Scalar] | tuple[Scalar, ...], ...] = Field(
        (),
        description="Fixed parameter sets; each runs and is compared. A mapping by name for"
        " :name, @name and %(name)s; a list in order for $1, ? and %s.",
    )
    generate: dict[str, ParamStrategy] = Field(
        default_factory=dict, description="Generated parameters, by name."
    )
    samples: int | None = Field(
        None, ge=1, le=1000, description="Parameter sets to generate (default: section's)."
    )
    ordered: bool | None = Field(
        None,
        description="Compare rows in order; default: when the outermost query has ORDER BY.",
    )
    tolerance: dict[str, float] = Field(
        default_factory=dict, description="Absolute numeric tolerance by result column name."
    )
    row_cap: int | None = Field(None, ge=1, description="Rows fetched and compared per side.")
    columns: dict[str, ColumnCanon] = Field(
        default_factory=dict, description="Value-canon options by result column name."
    )
    _base = field_validator("file")(relative_to_plan)

    @field_validator("tolerance")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [name for name, tol in value.items() if tol < 0]
        if bad:
            raise ValueError(f"tolerance of {bad[0]} is negative")
        return value

    @model_validator(mode="after")
    def _one_text(self) -> Query:
        given = [k for k in ("sql", "file") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError("give 'sql' or 'file', not both")
        if not given and not self.dialects:
            raise ValueError("a query needs 'sql', 'file' or 'dialects'")
        if self.params and self.generate:
            raise ValueError("give fixed 'params' or 'generate', not both")
        return self


WriteMode = Literal["rollback", "never"]


class Writes(PlanModel):
    """Where the application's writes may run: ``rollback`` runs each INSERT, UPDATE, DELETE
    or MERGE in a transaction that is always rolled back; ``never`` (the default) refuses it
    before it reaches the database. ``writes: rollback`` is short for both sides."""

    source: WriteMode = "never"
    target: WriteMode = "never"

    @model_validator(mode="before")
    @classmethod
    def _both(cls, value: object) -> object:
        if isinstance(value, str):
            return {"source": value, "target": value}
        return value


class Site(PlanModel):
    """Settings for one query taken from code (``queries.from``), by its name."""

    params: tuple[dict[str, Scalar] | tuple[Scalar, ...], ...] = Field(
        (), description="Fixed parameter sets, as for a query of the corpus."
    )
    generate: dict[str, ParamStrategy] = Field(
        default_factory=dict, description="Generated parameters, by name (p1, p2… for $1, $2…)."
    )
    ordered: bool | None = None
    skip: str | None = Field(None, description="Why this call site is not verified (shown).")

    @model_validator(mode="after")
    def _one_way(self) -> Site:
        if self.params and self.generate:
            raise ValueError("give fixed 'params' or 'generate', not both")
        return self


class QuerySettings(PlanModel):
    """The ``queries`` section: the application's queries, answered the same on both sides."""

    dialect: Dialect | None = Field(
        None, description="Dialect the queries are written in; default: the source's."
    )
    corpus: dict[str, Query] = Field(default_factory=dict, description="Named queries.")
    paths: tuple[Path, ...] = Field(
        (),
        description="Files and folders of .sql files; each file is one query named by its stem."
        " name.sqlite.sql / name.postgres.sql give a query per dialect.",
    )
    from_: tuple[str, ...] = Field(
        (),
        alias="from",
        description="Application source files (globs relative to the plan, e.g."
        " backend/src/db.ts, app/**/*.py) whose SQL literals are queries, one per call site,"
        " named file:function.",
    )
    sites: dict[str, Site] = Field(
        default_factory=dict,
        description="Parameters or a skip for queries taken from code, by their name.",
    )
    writes: Writes = Field(
        default_factory=Writes,
        description="rollback (both sides) or {source: rollback, target: rollback}: run the"
        " application's writes in transactions always rolled back. Default: never.",
    )
    seed: int = Field(0, description="Seed for generated parameters.")
    samples: int = Field(3, ge=1, le=1000, description="Parameter sets generated per query.")
    row_cap: int = Field(10_000, ge=1, description="Rows fetched and compared per side.")
    sample_rows: int = Field(5, ge=1, le=100, description="Differing rows shown side by side.")
    timeout_s: float = Field(
        300, gt=0, description="Cancel a query that runs longer than this (a finding, not a hang)."
    )

    @field_validator("corpus")
    @classmethod
    def _names(cls, value: dict[str, Query]) -> dict[str, Query]:
        for name in value:
            if not _NAME.fullmatch(name):
                raise ValueError(f"query name '{name}' must be letters, digits and _")
        return value

    @field_validator("paths", mode="after")
    @classmethod
    def _relative_to_plan(cls, value: tuple[Path, ...], info: ValidationInfo) -> tuple[Path, ...]:
        return tuple(p for p in (relative_to_plan(v, info) for v in value) if p is not None)
