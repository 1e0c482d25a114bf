"""The one function that reads the ``retired:`` settings from a plan file."""

from __future__ import annotations

from pathlib import Path

from harness.errors import PlanError
from harness.residue.settings import RetiredSettings


def load_settings(path: str | Path) -> RetiredSettings:
    """The validated ``retired:`` section of the plan at ``path`` (PlanError if unusable)."""
    # Imported here: harness.plan imports this package's settings, so a module-level import
    # would be circular whichever of the two is imported first.
    from harness.plan import load_plan

    loaded = load_plan(path)
    section = loaded.plan.retired
    if section is None:
        raise PlanError("the plan has no 'retired:' section", path=str(loaded.path))
    return section
