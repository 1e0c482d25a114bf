"""The one function that reads the ``retired:`` settings from a plan file.

When ``retired:`` becomes a field of :class:`harness.plan.Plan`, this becomes
``return load_plan(path).plan.retired`` and nothing else changes.
"""

from __future__ import annotations

from pathlib import Path

from harness.residue.plan_section import load_section
from harness.residue.settings import RetiredSettings


def load_settings(path: str | Path) -> RetiredSettings:
    """The validated ``retired:`` section of the plan at ``path`` (PlanError if unusable)."""
    return load_section(path, "retired", RetiredSettings)
