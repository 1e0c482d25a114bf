"""The one function that reads the ``posture:`` settings from a plan file.

When ``posture:`` becomes a field of :class:`harness.plan.Plan`, this becomes
``return load_plan(path).plan.posture`` and nothing else changes.
"""

from __future__ import annotations

from pathlib import Path

from harness.posture.settings import PostureSettings
from harness.residue.plan_section import load_section


def load_settings(path: str | Path) -> PostureSettings:
    """The validated ``posture:`` section of the plan at ``path`` (PlanError if unusable)."""
    return load_section(path, "posture", PostureSettings)
