"""How latency is budgeted: the ``latency:`` section of a plan.

Every query of the ``queries`` section is timed on both sides (warm-up, then ``runs`` timed
executions with its parameter sets taken in turn). Budgets are absolute (``p95_ms``) or
relative to the source (``max_ratio``); each budget is its own check. Connect time and a
``SELECT 1`` health check are budgeted per side.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from harness.plan.base import PlanModel


class Budget(PlanModel):
    """What one query's target timings must stay within."""

    p95_ms: float | None = Field(None, gt=0, description="The target's p95 must not exceed this.")
    max_ratio: float | None = Field(
        None, gt=0, description="The target's p95 over the source's p95 must not exceed this."
    )
    ratio_floor_ms: float | None = Field(
        None,
        ge=0,
        description="Timings below this count as this in the ratio: a 0.1 ms query that "
        "takes 0.3 ms is not three times worse for an application (default: section's).",
    )


class HealthCheck(PlanModel):
    """``SELECT 1`` in a row on one session: at least ``min_successes`` within ``timeout_ms``."""

    runs: int = Field(100, ge=1, le=10_000)
    min_successes: int = Field(99, ge=0)
    timeout_ms: float = Field(1000, gt=0)

    @model_validator(mode="after")
    def _reachable(self) -> HealthCheck:
        if self.min_successes > self.runs:
            raise ValueError(f"min_successes ({self.min_successes}) exceeds runs ({self.runs})")
        return self


class LatencySettings(PlanModel):
    """The ``latency`` section: timing loop, budgets per query, connect time, health check."""

    warmup: int = Field(3, ge=0, le=1000, description="Untimed runs first, per side.")
    runs: int = Field(30, ge=1, le=100_000, description="Timed runs per query and side.")
    max_seconds: float = Field(
        60,
        gt=0,
        description="Stop timing one query on one side after this long (a query "
        "far over budget need not be timed to the end to fail).",
    )
    ratio_floor_ms: float = Field(1.0, ge=0, description="Default floor for max_ratio.")
    default: Budget = Field(Budget(), description="Budget of every query not listed in budgets.")
    budgets: dict[str, Budget] = Field(default_factory=dict, description="Budgets by query name.")
    connect_ms: float | None = Field(
        5000, gt=0, description="Opening a session must take less than this (null: not checked)."
    )
    connect_runs: int = Field(3, ge=1, le=100)
    health: HealthCheck | None = HealthCheck()

    def budget(self, query: str) -> Budget:
        return self.budgets.get(query, self.default)
