"""How the application is verified: the ``app_tests:`` and ``health:`` sections of a plan.

``app_tests`` runs the application's own test suite once per side and compares the two JUnit
reports test by test; ``health`` probes the application's health URL like the database's
``SELECT 1`` health check. Both may start an application process, which is pointed at a side
through the environment (:mod:`harness.app.sides`); a test suite writes, so it only ever
reaches a database cutover created for the run, or a side the plan lists in ``allow_writes``.
"""

from __future__ import annotations

import shlex
import urllib.parse
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.plan.base import PlanModel, relative_to_plan

Side = Literal["source", "target"]

RESERVED_ENV = frozenset(
    {"CUTOVER_SIDE", "DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"}
)
"""Set by cutover for each side; a plan's ``env`` may not override them (it would point the
suite at a database cutover did not choose)."""


def _command(value: str) -> str:
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise ValueError(f"cannot split the command into words: {exc}") from None
    if not words:
        raise ValueError("the command is empty")
    return value


def _env(value: dict[str, str]) -> dict[str, str]:
    clash = sorted(RESERVED_ENV & set(value))
    if clash:
        raise ValueError(
            f"'{clash[0]}' is set by cutover for each side; remove it from env "
            f"(cutover sets {', '.join(sorted(RESERVED_ENV))})"
        )
    return value


class AppTests(PlanModel):
    """The application's own test suite, run once against each side, JUnit compared."""

    command: str = Field(
        description="The suite's command (split like a shell would, run without one), e.g. "
        "'npm test'. It gets CUTOVER_SIDE, DATABASE_URL and PG* for the side."
    )
    junit: Path = Field(description="The JUnit XML file the command writes (relative to cwd).")
    cwd: Path = Field(
        Path("."),
        validate_default=True,  # the default too is the plan's folder, not cutover's
        description="Where the command runs (relative to the plan).",
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="More environment for the command (values not shown)."
    )
    timeout_s: float = Field(600, gt=0, le=86_400, description="Per run; then it is killed.")
    allow_writes: tuple[Side, ...] = Field(
        (),
        description="Sides the suite may write to although cutover did not create them (a "
        "postgres, aurora or dsql side, or a sqlite file used in place rather than copied).",
    )

    _base = field_validator("cwd")(relative_to_plan)
    _split = field_validator("command")(_command)
    _own_env = field_validator("env")(_env)

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command)


class AppHealth(PlanModel):
    """The application's health URL, ``runs`` times: at least ``min_successes`` answer with
    ``status`` (and a JSON body holding ``json``) within ``timeout_ms``."""

    url: str = Field(description="http:// or https:// URL of the health route.")
    runs: int = Field(100, ge=1, le=10_000)
    min_successes: int = Field(99, ge=0)
    timeout_ms: float = Field(1000, gt=0)
    status: int = Field(200, ge=100, le=599, description="The status a success returns.")
    json_body: dict[str, Any] | None = Field(
        None,
        alias="json",
        description="A success's JSON body must hold these keys and values (a subset match).",
    )
    command: str | None = Field(
        None,
        description="Start the application against the target first (with CUTOVER_SIDE, "
        "DATABASE_URL and PG*), wait for the URL to answer, probe, then stop it. Without it "
        "the application must already be running.",
    )
    cwd: Path = Field(
        Path("."),
        validate_default=True,
        description="Where command runs (relative to the plan).",
    )
    env: dict[str, str] = Field(default_factory=dict, description="More environment for command.")
    start_timeout_s: float = Field(30, gt=0, le=3600, description="Wait this long for the URL.")
    allow_writes: bool = Field(
        False,
        description="command may run against a target cutover did not create (it then uses "
        "the target itself, not a copy made for the run).",
    )

    _base = field_validator("cwd")(relative_to_plan)
    _own_env = field_validator("env")(_env)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{value}' is not an http:// or https:// URL with a host")
        return value

    @field_validator("command")
    @classmethod
    def _split(cls, value: str | None) -> str | None:
        return None if value is None else _command(value)

    @model_validator(mode="after")
    def _reachable(self) -> AppHealth:
        if self.min_successes > self.runs:
            raise ValueError(f"min_successes ({self.min_successes}) exceeds runs ({self.runs})")
        return self

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command or "")
