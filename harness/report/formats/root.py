"""The repository root that SARIF paths are relative to: where code scanning finds the files.

GitHub code scanning matches a result's path against the repository it was uploaded to, so
a path must be relative to the repository's top folder, whatever folder the plan (or the
linted path) sits in. The root is, in order: ``CUTOVER_SOURCE_ROOT`` when set (a checkout
whose git cannot be asked, a monorepo uploading one folder), else git's top-level folder of
the starting folder, else the starting folder itself (no git, or not a work tree).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path, PurePath

from harness.errors import HarnessError

ROOT_ENV = "CUTOVER_SOURCE_ROOT"
"""Overrides the detected repository root (an existing folder)."""
_GIT_TIMEOUT_S = 10


def find_source_root(start: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The repository root for files found from ``start`` (a folder), absolute.

    A :class:`HarnessError` (one line) when ``CUTOVER_SOURCE_ROOT`` names no folder: paths
    relative to a root that is not there would point at nothing."""
    environ = os.environ if environ is None else environ
    given = environ.get(ROOT_ENV)
    if given:
        root = Path(given).expanduser()
        if not root.is_dir():
            raise HarnessError(f"{ROOT_ENV}={given}: no such folder; unset it or name the checkout")
        return root.resolve()
    folder = start.resolve()
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):  # no git here: the folder itself
        return folder
    top = done.stdout.strip()
    return Path(top).resolve() if done.returncode == 0 and top else folder


def root_uri(root: str) -> str:
    """``root`` (absolute) as the ``file://`` URI, ending in ``/``, of ``originalUriBaseIds``."""
    uri = PurePath(root).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def relative_to_root(path: str, root: str | None) -> str:
    """``path`` (absolute) as a ``/``-separated path relative to ``root`` (absolute); itself
    when it lies outside ``root`` or there is no root. Pure: the same strings give the same
    answer on any machine, so results.sarif stays a function of results.json alone."""
    absolute = PurePath(path)
    if root is not None:
        try:
            return absolute.relative_to(PurePath(root)).as_posix()
        except ValueError:
            pass  # outside the repository: code scanning cannot place it, so say where it is
    return absolute.as_posix()
