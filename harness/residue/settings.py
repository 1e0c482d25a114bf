"""What the plan says is retired: the ``retired:`` section, validated.

The resource types, CDK constructs, Terraform resources and engine names to flag are built
into :mod:`harness.residue.rules`; the plan only adds what cannot be known in advance — the
concrete identifiers of the cluster being retired — plus reviewed exceptions.

.. code-block:: yaml

    retired:
      paths: [infra, lambda, .env]        # what `cutover verify` scans (the CLI takes PATH…)
      cluster_ids: [lexicon-aurora]
      hostnames: [lexicon-aurora.cluster-c1a2b3.eu-west-1.rds.amazonaws.com]
      secrets: ["rds!cluster-6f1e2d3c-aaaa-bbbb-cccc-0123456789ab"]
      env_vars: [AURORA_HOST, AURORA_SECRET_ARN]
      resource_ids: [cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0]   # what rds-db:connect ARNs name
      last_rds_database: false   # true: no RDS database may remain, so every one is residue
      target: dsql
      dsql_role: custom           # the backend connects as a custom role (dsql:DbConnect)
      allow:
        - path: "docs/migration/*.md"
          pattern: "lexicon-aurora"
          reason: the migration note names the cluster it retired
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from harness.plan.base import PlanModel, existing_paths

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".terraform",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
)
"""Folder names never descended into: vendored or generated, never the team's own code."""


class AllowEntry(PlanModel):
    """A reviewed exception: matches in files under ``path`` whose text matches ``pattern``."""

    path: str = Field(min_length=1, description="fnmatch glob on the path relative to the root.")
    pattern: str = Field(min_length=1, description="Regular expression searched in the match.")
    reason: str = Field(min_length=1, description="Why this reference may stay (required).")
    reviewer: str | None = None
    expires: date | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        return value

    @field_validator("reason")
    @classmethod
    def _says_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason must say why the reference may stay")
        return value


class RetiredSettings(PlanModel):
    """The retired cluster's concrete identifiers, the expected target and the allowlist."""

    paths: tuple[Path, ...] = Field(
        (),
        description="Infrastructure trees and files the residue scenario scans (relative to "
        "the plan file); `cutover residue PATH…` takes its paths from the command line instead.",
    )
    cluster_ids: tuple[str, ...] = ()
    instance_ids: tuple[str, ...] = Field(
        (), description="DB instance identifiers of retired standalone RDS instances."
    )
    resource_ids: tuple[str, ...] = Field(
        (),
        description="Resource ids of the retired cluster or instances (cluster-…, db-…): what "
        "the ARNs of rds-db:connect grants name.",
    )
    hostnames: tuple[str, ...] = Field((), description="Writer, reader and custom endpoints.")
    secrets: tuple[str, ...] = Field((), description="Secret names or ARNs (never values).")
    env_vars: tuple[str, ...] = Field((), description="Environment variable names it used.")
    other: tuple[str, ...] = Field((), description="Any other literal to flag (a DB name…).")
    last_rds_database: bool = Field(
        False,
        description="The retired database is the last RDS database: every RDS cluster and "
        "instance, rds-db:connect grant and RDS permission left in the tree is residue.",
    )
    target: Literal["dsql", "none"] = Field(
        "dsql",
        description="dsql: the tree (templates, CDK source, Terraform) must define exactly one "
        "DSQL cluster and no RDS database (SC-001), and DSQL grants are least privilege.",
    )
    dsql_role: Literal["custom", "admin"] = Field(
        "custom",
        description="The database role the backend connects as: custom (only dsql:DbConnect "
        "may be granted) or admin (dsql:DbConnectAdmin).",
    )
    comments: Literal["warning", "error"] = Field(
        "warning", description="Severity of references found in comments and prose."
    )
    allow: tuple[AllowEntry, ...] = ()
    exclude: tuple[str, ...] = Field(
        (), description="Extra fnmatch globs (relative paths) not to scan."
    )

    @field_validator(
        "cluster_ids", "instance_ids", "resource_ids", "hostnames", "secrets", "env_vars", "other"
    )
    @classmethod
    def _no_blank(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        # A blank identifier would match everywhere and drown the real findings.
        if any(len(v.strip()) < 3 for v in values):
            raise ValueError("identifiers must be at least 3 characters")
        return values

    _exist = field_validator("paths", mode="after")(existing_paths)

    def identifiers(self) -> dict[str, tuple[str, ...]]:
        """Every concrete identifier by what it is, for matching and for the evidence."""
        return {
            "cluster id": self.cluster_ids,
            "instance id": self.instance_ids,
            "resource id": self.resource_ids,
            "hostname": self.hostnames,
            "secret": self.secrets,
            "environment variable": self.env_vars,
            "identifier": self.other,
        }
