"""Paths in a plan's capability sections: relative to the plan file, and present.

The sections (``lint.paths``, ``retired.paths``, ``posture.templates``) live in their own
packages and cannot import :mod:`harness.plan` (it imports them), so they share this.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationInfo


def existing_paths(value: tuple[Path, ...], info: ValidationInfo) -> tuple[Path, ...]:
    """Resolve against the plan's folder and insist each exists, so a typo is a plan error
    naming the key rather than a check that silently scans nothing.

    Only when loaded from a file (``base_dir`` in the context): models built in code keep
    their paths as given.
    """
    base = (info.context or {}).get("base_dir")
    if base is None:
        return value
    resolved = tuple(p if p.is_absolute() else (Path(base) / p).resolve() for p in value)
    missing = [str(p) for p in resolved if not p.exists()]
    if missing:
        raise ValueError(
            f"{', '.join(missing)}: no such file or folder (paths are relative to the plan file)"
        )
    return resolved
