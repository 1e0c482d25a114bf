"""The ``dynamo:`` section of a plan: which DynamoDB tables must come through untouched.

.. code-block:: yaml

    dynamo:
      region: eu-west-1
      tables: [profiles, vocabulary, game_sessions]
      segments: 4          # parallel scan segments per table
      baseline: dynamo-before.json   # `cutover dynamo snapshot` taken before the cutover
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator

from harness.plan.base import PlanModel, relative_to_plan


class DynamoSettings(PlanModel):
    """Tables to snapshot and how to reach them."""

    tables: tuple[str, ...] = Field(min_length=1)
    region: str | None = Field(None, description="Default: AWS_REGION / the AWS profile.")
    endpoint_url: str | None = Field(None, description="DynamoDB Local, LocalStack, moto server.")
    segments: int = Field(4, ge=1, le=64, description="Parallel scan segments per table.")
    consistent_read: bool = Field(True, description="Strongly consistent scans (2x the RCUs).")
    baseline: Path | None = Field(
        None,
        description="Snapshot taken before the cutover; the dynamo scenario compares the "
        "tables as they are now against it (relative to the plan file).",
    )

    @field_validator("baseline", mode="after")
    @classmethod
    def _relative_to_plan(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return relative_to_plan(value, info)
