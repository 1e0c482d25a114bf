"""The ``posture:`` section of a plan: the database that remains must be configured as promised.

.. code-block:: yaml

    posture:
      region: us-east-1
      rds_cluster: app-db                 # an Aurora/RDS cluster that must be safe (optional)
      rds_instances: [app-pg]             # standalone RDS instances (optional)
      app_security_groups: [app-lambda]   # the only groups that may reach the database port
      engine: postgres                    # engine and version as declared
      engine_version: "15"
      instance_class: db.t4g.medium
      serverless_v2: {min_acu: 1, max_acu: 4}
      reader: true                        # a reader endpoint is planned: a reader must exist
      proxy: {require_iam_auth: true, borrow_timeout_s: 5, target: app-db}
      secret: app/db/credentials          # default: the cluster's RDS-managed secret
      dsql_cluster: abcdefghijklmnopqrstuvwxyz
      dynamodb_tables: [profiles, vocabulary]
      dynamodb_billing: PAY_PER_REQUEST
      templates: [infra]                  # IaC checked instead when no account is reachable

Each declaration is a promise: a declared check that finds no subject to check it on is a
finding, never a pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from harness.plan.base import PlanModel, existing_paths


class ServerlessV2(PlanModel):
    """The Aurora Serverless v2 capacity range the cluster must have, in ACU."""

    min_acu: float = Field(ge=0, le=256)
    max_acu: float = Field(ge=0.5, le=256)

    @model_validator(mode="after")
    def _ordered(self) -> ServerlessV2:
        if self.min_acu > self.max_acu:
            raise ValueError(f"min_acu {self.min_acu} is above max_acu {self.max_acu}")
        return self


class ProxySettings(PlanModel):
    """The RDS Proxy in front of the database. TLS is always required of a proxy."""

    name: str | None = Field(None, description="DBProxyName to read from the account.")
    require_iam_auth: bool = Field(False, description="Clients must authenticate with IAM.")
    borrow_timeout_s: int | None = Field(
        None, ge=0, le=3600, description="ConnectionBorrowTimeout the proxy must have."
    )
    idle_client_timeout_s: int | None = Field(
        None, ge=1, le=28800, description="IdleClientTimeout the proxy must have."
    )
    target: str | None = Field(
        None,
        description="The cluster or instance it must front: an identifier, a logical id, "
        "a Terraform address or a CDK construct id.",
    )


class PostureSettings(PlanModel):
    """What to check and the thresholds; every subject is optional."""

    region: str | None = Field(None, description="Default: AWS_REGION / the AWS profile.")
    endpoint_url: str | None = Field(None, description="One endpoint for every service (tests).")
    rds_cluster: str | None = Field(None, description="DBClusterIdentifier to check.")
    rds_instances: tuple[str, ...] = Field(
        (), description="DBInstanceIdentifiers of standalone instances to check (account mode)."
    )
    min_backup_retention_days: int = Field(7, ge=1, le=35)
    db_port: int = Field(5432, ge=1, le=65535)
    app_security_groups: tuple[str, ...] = Field(
        (),
        description="Group ids or names (logical ids, GroupName, Terraform addresses or CDK "
        "construct ids in IaC).",
    )
    require_kms_key: bool = Field(
        False, description="Storage must use a customer-managed KMS key, not aws/rds."
    )
    engine: str | None = Field(
        None, description="postgres matches postgres and aurora-postgresql; aurora-* is exact."
    )
    engine_version: str | None = Field(
        None, description='Major version, or a prefix of the full one ("15", "15.4").'
    )
    instance_class: str | None = Field(None, description="DBInstanceClass, e.g. db.t4g.medium.")
    serverless_v2: ServerlessV2 | None = None
    reader: bool = Field(False, description="A reader endpoint is planned: a reader must exist.")
    proxy: ProxySettings | None = None
    secret: str | None = Field(None, description="Credentials secret name or ARN.")
    require_rotation: bool = Field(False, description="Fail, not just report, when not rotated.")
    dsql_cluster: str | None = Field(None, description="Aurora DSQL cluster identifier.")
    dynamodb_tables: tuple[str, ...] = ()
    dynamodb_billing: Literal["PAY_PER_REQUEST", "PROVISIONED"] | None = Field(
        None, description="The billing mode every table must have."
    )
    dynamodb_pitr: bool = Field(True, description="Point-in-time recovery must be on.")
    templates: tuple[Path, ...] = Field(
        (),
        description="IaC trees checked when no account is used: CloudFormation, cdk.out, "
        "CDK source (TypeScript, Python) where no cdk.out is beside it, Terraform.",
    )
    mode: Literal["auto", "account", "templates"] = Field(
        "auto",
        description="auto: the account when AWS credentials resolve, else the templates; "
        "account / templates: only that one.",
    )

    _exist = field_validator("templates", mode="after")(existing_paths)

    @property
    def declares_database(self) -> bool:
        """The plan promises something of an RDS database (so one must be found)."""
        return bool(
            self.rds_cluster
            or self.rds_instances
            or self.engine
            or self.engine_version
            or self.instance_class
            or self.require_kms_key
            or self.serverless_v2
            or self.reader
        )
