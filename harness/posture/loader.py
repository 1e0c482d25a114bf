"""The one function that reads the ``posture:`` settings from a plan file."""

from __future__ import annotations

from pathlib import Path

from harness.errors import PlanError
from harness.posture.settings import PostureSettings


def load_settings(path: str | Path) -> PostureSettings:
    """The validated ``posture:`` section of the plan at ``path`` (PlanError if unusable)."""
    # Imported here: harness.plan imports this package's settings, so a module-level import
    # would be circular whichever of the two is imported first.
    from harness.plan import load_plan

    loaded = load_plan(path)
    section = loaded.plan.posture
    if section is None:
        raise PlanError("the plan has no 'posture:' section", path=str(loaded.path))
    return section
