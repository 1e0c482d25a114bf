"""The one function that reads the ``dynamo:`` settings from a plan file."""

from __future__ import annotations

from pathlib import Path

from harness.dynamo.settings import DynamoSettings
from harness.errors import PlanError


def load_settings(path: str | Path) -> DynamoSettings:
    """The validated ``dynamo:`` section of the plan at ``path`` (PlanError if unusable)."""
    # Imported here: harness.plan imports this package's settings, so a module-level import
    # would be circular whichever of the two is imported first.
    from harness.plan import load_plan

    loaded = load_plan(path)
    section = loaded.plan.dynamo
    if section is None:
        raise PlanError("the plan has no 'dynamo:' section", path=str(loaded.path))
    return section
