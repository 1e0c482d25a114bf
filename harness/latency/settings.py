"""How latency is budgeted: the ``latency:`` section of a plan.

Every query of the ``queries`` section is timed on both sides (warm-up, then ``runs`` timed
executions with its parameter sets taken in turn). Budgets are absolute (``p95_ms``) or
relative to the source (``max_ratio``); each budget is its own check. The target's connection
reliability (``connect``: N fresh sessions, success rate and connect-time percentiles) and a
``SELECT 1`` health check are budgeted too.

``connect_ms`` / ``connect_runs`` (the section's first spelling) are read as
``connect: {max_ms: …, runs: …}``; a plan giving both spellings is refused.
"""

from __future__ import annotations

import math
from typing import Any

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


class ConnectBudget(PlanModel):
    """``runs`` fresh target sessions through the whole path (token or secret's credentials,
    TLS, proxy, the plan's retry policy): how many open, and how fast."""

    runs: int = Field(3, ge=1, le=10_000, description="Fresh sessions to open, one at a time.")
    max_ms: float | None = Field(
        5000,
        gt=0,
        description="A session that takes longer than this to open (retries included) counts "
        "as a failed connection (null: only an error fails one).",
    )
    min_success_rate: float = Field(
        1.0, ge=0, le=1, description="Share of the runs that must open (0.99: under 1 % fail)."
    )
    p50_ms: float | None = Field(None, gt=0, description="Budget for the median connect time.")
    p95_ms: float | None = Field(None, gt=0, description="Budget for the p95 connect time.")
    p99_ms: float | None = Field(None, gt=0, description="Budget for the p99 connect time.")

    @property
    def allowed_failures(self) -> int:
        """Failures the rate still tolerates; one more decides the check (it stops there)."""
        # a float rate times runs: round away the representation error (0.99 * 100 = 98.99…)
        return self.runs - math.ceil(round(self.min_success_rate * self.runs, 9))


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
    connect: ConnectBudget | None = Field(
        ConnectBudget(),
        description="Connection reliability of the target (null: not checked).",
    )
    health: HealthCheck | None = HealthCheck()

    @model_validator(mode="before")
    @classmethod
    def _first_spelling(cls, data: Any) -> Any:
        """``connect_ms`` (null: not checked) and ``connect_runs`` as ``connect``."""
        if not isinstance(data, dict) or not {"connect_ms", "connect_runs"} & data.keys():
            return data
        if "connect" in data:
            raise ValueError(
                "give 'connect' or the older 'connect_ms'/'connect_runs', not both; "
                "fix: move them into connect: {max_ms: …, runs: …}"
            )
        data = dict(data)
        limit = data.pop("connect_ms", 5000)
        runs = data.pop("connect_runs", None)
        if limit is None:
            data["connect"] = None
        else:
            data["connect"] = {"max_ms": limit, **({"runs": runs} if runs is not None else {})}
        return data

    def budget(self, query: str) -> Budget:
        return self.budgets.get(query, self.default)
