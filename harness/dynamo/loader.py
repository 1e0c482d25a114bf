"""The one function that reads the ``dynamo:`` settings from a plan file.

When ``dynamo:`` becomes a field of :class:`harness.plan.Plan`, this becomes
``return load_plan(path).plan.dynamo`` and nothing else changes.
"""

from __future__ import annotations

from pathlib import Path

from harness.dynamo.settings import DynamoSettings
from harness.residue.plan_section import load_section


def load_settings(path: str | Path) -> DynamoSettings:
    """The validated ``dynamo:`` section of the plan at ``path`` (PlanError if unusable)."""
    return load_section(path, "dynamo", DynamoSettings)
