"""The ``posture:`` section of a plan: the database that remains must be configured safely.

.. code-block:: yaml

    posture:
      region: us-east-1
      rds_cluster: app-db                 # an Aurora/RDS cluster that must be safe (optional)
      app_security_groups: [app-lambda]   # the only groups that may reach the database port
      secret: app/db/credentials          # default: the cluster's RDS-managed secret
      dsql_cluster: abcdefghijklmnopqrstuvwxyz
      dynamodb_tables: [profiles, vocabulary]
      templates: [infra/cdk.out]         # checked instead when no account is reachable
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from harness.plan.base import PlanModel, existing_paths


class PostureSettings(PlanModel):
    """What to check and the thresholds; every subject is optional."""

    region: str | None = Field(None, description="Default: AWS_REGION / the AWS profile.")
    endpoint_url: str | None = Field(None, description="One endpoint for every service (tests).")
    rds_cluster: str | None = Field(None, description="DBClusterIdentifier to check.")
    min_backup_retention_days: int = Field(7, ge=1, le=35)
    db_port: int = Field(5432, ge=1, le=65535)
    app_security_groups: tuple[str, ...] = Field(
        (), description="Group ids or names (logical ids or GroupName in templates)."
    )
    secret: str | None = Field(None, description="Credentials secret name or ARN.")
    require_rotation: bool = Field(False, description="Fail, not just report, when not rotated.")
    dsql_cluster: str | None = Field(None, description="Aurora DSQL cluster identifier.")
    dynamodb_tables: tuple[str, ...] = ()
    templates: tuple[Path, ...] = Field(
        (), description="Synthesized CloudFormation (cdk.out) checked when no account is used."
    )
    mode: Literal["auto", "account", "templates"] = Field(
        "auto",
        description="auto: the account when AWS credentials resolve, else the templates; "
        "account / templates: only that one.",
    )

    _exist = field_validator("templates", mode="after")(existing_paths)
