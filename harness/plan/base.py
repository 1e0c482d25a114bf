"""What every section of a plan is built from: the frozen model base and plan-relative paths.

Capability sections (``lint:``, ``queries:``, ``faults:``…) and the endpoint models live in
their own packages; :mod:`harness.plan.model` imports them all, and they build on this module
alone.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationInfo


class PlanModel(BaseModel):
    """A plan section: unknown keys are errors (a typo never silently switches a check off),
    and a loaded plan is frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def relative_to_plan(value: Path | None, info: ValidationInfo) -> Path | None:
    """A path in a plan is relative to the plan file's folder (when loaded from a file:
    ``base_dir`` in the validation context); models built in code keep paths as given."""
    base = (info.context or {}).get("base_dir")
    if value is None or base is None or value.is_absolute():
        return value
    return (Path(base) / value).resolve()


def existing_paths(value: tuple[Path, ...], info: ValidationInfo) -> tuple[Path, ...]:
    """Resolve against the plan's folder and insist each exists, so a typo is a plan error
    naming the key rather than a check that silently scans nothing."""
    if (info.context or {}).get("base_dir") is None:
        return value
    resolved = tuple(p for p in (relative_to_plan(v, info) for v in value) if p is not None)
    missing = [str(p) for p in resolved if not p.exists()]
    if missing:
        raise ValueError(
            f"{', '.join(missing)}: no such file or folder (paths are relative to the plan file)"
        )
    return resolved
