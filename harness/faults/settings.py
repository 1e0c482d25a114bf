"""The ``faults:`` section of a plan: which faults to inject, on which connection paths.

Frozen pydantic models like the rest of the plan (:mod:`harness.plan`); unknown keys are
errors. Fault and path names are checked against the registry, with a "did you mean".

``bed`` chooses the database the faults are injected into (:mod:`harness.faults.beds`):

- ``postgres`` (default): a TCP PostgreSQL with a password, started for the run;
- ``dsql-local``: a local Aurora DSQL (:mod:`harness.dsql_local`) started for the run, so a
  team moving to DSQL sees its retry discipline hold against DSQL's behaviour: a fresh IAM
  token per connection (a wrong one refused, never retried), conflicts failing at ``COMMIT``
  with ``40001 … (OC000)`` instead of lock waits, at most 3,000 rows per transaction, no
  ``SET statement_timeout``. Secrets Manager faults do not apply to it (a DSQL client reads no
  secret: it signs a token), nor yet does path ``app``; naming one is a plan error. Without a
  ``faults:`` list, it runs every fault it supports.

.. code-block:: yaml

    faults:
      bed: postgres                                                # or dsql-local
      faults: [refused, reset_mid_query, slow_network, conflict]   # default: all
      paths: [harness, app, aws]                                   # default: harness, aws
      retry: {initial_s: 0.05, multiplier: 2, cap_s: 1, attempts: 6}
      latency_budget_ms: 50
      app:
        command: node scripts/connect.js        # or callable: myapp.db:connect
        timeout_s: 20
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from harness.endpoints.settings import RetrySettings
from harness.errors import did_you_mean
from harness.faults.outcome import FAULTS
from harness.plan.base import PlanModel, relative_to_plan

FAULT_NAMES = (
    "refused",
    "down",
    "reset_mid_query",
    "black_hole",
    "slow_network",
    "server_restart",
    "conflict",
    "wrong_password",
    "reset_during_rows",
    "no_lost_writes",
    "throttled",
    "server_error",
    "access_denied",
    "not_found",
    "wrong_region",
    "endpoint_down",
    "hanging",
    "dsql_no_credentials",
)
"""Every fault the suite knows (see :mod:`harness.faults.suite` for what each one does)."""
PATH_NAMES = ("harness", "app", "aws")
Bed = Literal["postgres", "dsql-local"]
"""One of :data:`~harness.faults.outcome.BED_NAMES` (a test keeps the two equal)."""


def _known(values: tuple[str, ...], allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    for value in values:
        if value not in allowed:
            hint = did_you_mean(value, allowed)
            raise ValueError(f"unknown {what} {value!r}.{hint} Allowed: {', '.join(allowed)}")
    return values


class AppPath(PlanModel):
    """The application's own connection path: a Python callable or a shell command.

    Either is run with the environment pointing at the fault proxy and the moto server
    (``PGHOST``/``PGPORT``/``PGUSER``/``PGPASSWORD``/``PGDATABASE``, ``DATABASE_URL``,
    ``AWS_ENDPOINT_URL``, ``AWS_REGION``, ``CUTOVER_SECRET_ID``), like any AWS SDK app. A
    callable returns a DB-API connection (the harness runs ``SELECT 1`` on it and closes it);
    a command succeeds when it exits 0.
    """

    callable: str | None = Field(
        None, description="module:function returning a connection (called with no arguments)."
    )
    command: str | None = Field(None, description="Shell command; exit code 0 means connected.")
    cwd: Path | None = Field(None, description="Working folder for the command (plan-relative).")
    timeout_s: float = Field(30.0, gt=0, le=600)

    @field_validator("callable")
    @classmethod
    def _module_function(cls, value: str | None) -> str | None:
        if value is not None:
            module, sep, function = value.partition(":")
            if not sep or not module.strip() or not function.strip():
                raise ValueError(f"callable must be 'module:function', not {value!r}")
        return value

    @field_validator("cwd", mode="after")
    @classmethod
    def _relative(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return relative_to_plan(value, info)

    @model_validator(mode="after")
    def _exactly_one(self) -> AppPath:
        if (self.callable is None) == (self.command is None):
            raise ValueError("give exactly one of 'callable' or 'command'")
        return self


class FaultSettings(PlanModel):
    """The ``faults`` section of a plan: the fault x path matrix to run, on which bed."""

    bed: Bed = Field(
        "postgres",
        description="The database faults are injected into: postgres (a TCP PostgreSQL with "
        "a password) or dsql-local (a local Aurora DSQL: IAM tokens, OC000 at COMMIT).",
    )
    faults: tuple[str, ...] = Field(
        FAULT_NAMES, description="Faults to inject (default: every fault the bed supports)."
    )
    paths: tuple[str, ...] = Field(
        ("harness", "aws"), description="Connection paths: harness, app (needs app:), aws."
    )
    retry: RetrySettings = RetrySettings(initial_s=0.05, cap_s=1.0, attempts=6)
    latency_budget_ms: float = Field(50.0, gt=0, description="p95 budget for one round trip.")
    injected_latency_ms: float = Field(
        100.0, gt=0, description="Latency the slow_network fault adds to every answer."
    )
    samples: int = Field(10, ge=5, le=1000, description="Round trips timed for the p95.")
    fail_within_s: float = Field(
        30.0, gt=0, description="A permanent fault must end in a clear error within this."
    )
    writes: int = Field(300, ge=10, le=100_000, description="Writes of the no_lost_writes run.")
    app: AppPath | None = None
    seed: int = 0

    @model_validator(mode="before")
    @classmethod
    def _bed_defaults(cls, data: Any) -> Any:
        """No ``faults:`` list on a bed that supports fewer: every fault it does support."""
        if (
            isinstance(data, dict)
            and "faults" not in data
            and data.get("bed", "postgres") != "postgres"
        ):
            data = {**data, "faults": faults_on(str(data["bed"]))}
        return data

    @field_validator("faults")
    @classmethod
    def _known_faults(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, FAULT_NAMES, "fault")

    @field_validator("paths")
    @classmethod
    def _known_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, PATH_NAMES, "path")

    @model_validator(mode="after")
    def _app_given(self) -> FaultSettings:
        if "app" in self.paths and self.app is None:
            raise ValueError("path 'app' needs an 'app' section (callable or command)")
        return self

    @model_validator(mode="after")
    def _fits_bed(self) -> FaultSettings:
        """A fault the bed cannot run is a plan error, never a silent pass or skip."""
        supported = faults_on(self.bed)
        for fault in self.faults:
            if fault not in supported:
                raise ValueError(
                    f"fault '{fault}' does not apply to bed '{self.bed}': {_NOT_ON[self.bed]}; "
                    f"remove it, or use bed: postgres. Faults on {self.bed}: "
                    + ", ".join(supported)
                )
        if self.bed == "dsql-local" and "app" in self.paths:
            raise ValueError(
                "path 'app' does not run on bed 'dsql-local' yet: it hands the application a "
                "password (PGPASSWORD), and a DSQL application signs its own IAM token; "
                "use bed: postgres for the app path"
            )
        return self


_NOT_ON = {
    "dsql-local": "it is a Secrets Manager fault, and a DSQL client reads no secret (it signs "
    "an IAM token for each connection)",
}
"""Why the faults a bed lacks do not apply to it (one line of the plan error)."""


def faults_on(bed: str) -> tuple[str, ...]:
    """The faults bed ``bed`` supports, in registry order."""
    return tuple(f.name for f in FAULTS if bed in f.beds)
