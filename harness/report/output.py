"""Where a command writes, checked before it does any work.

A folder nobody can write in, an output file that names a folder, a file in a folder that does
not exist: each is found before a check runs or a report is rendered, and reported in one
line that names the path and the fix (exit 2), never as a traceback once the work is done.

Writability is tried, not guessed: a file is created in the folder and removed again, since
permission bits alone miss read-only mounts, ACLs and root (``os.access`` answers for the real
user id, and root passes every mode check).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness.errors import HarnessError

PROBE_PREFIX = ".cutover-write-check-"
"""The name of the file :func:`writable_folder` creates and removes at once."""


def writable_folder(
    folder: Path, *, option: str = "", create: bool = True, fix: str = "choose another folder"
) -> Path:
    """``folder`` exists (made with its parents when ``create``) and a file can be created in it.

    ``option`` is how the user named it (``--report-dir``), shown before the path; ``fix`` ends
    each message (what else the user can do).
    """
    shown = _shown(option, folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise HarnessError(f"{shown}: is a file, not a folder; {fix}")
        if not create and not folder.exists():
            raise HarnessError(f"{shown}: no such folder; create it or {fix}")
        _ensure(folder, shown, "it", create=create, fix=fix)
    except OSError as exc:  # a folder above it this user cannot enter
        raise _unreachable(shown, exc, fix) from None
    return folder


def writable_file(
    path: Path,
    *,
    option: str = "",
    example: str = "report.txt",
    create_parents: bool = False,
    fix: str = "choose another path",
) -> Path:
    """``path`` can be written as a file: it is not a folder, its folder exists (made when
    ``create_parents``) and takes new files, and a file already there can be written.

    ``example`` is a file name to suggest when ``path`` is a folder.
    """
    shown = _shown(option, path)
    try:
        if path.is_dir():
            raise HarnessError(f"{shown}: is a folder; give a file name (such as {path / example})")
        _ensure(path.parent, shown, f"folder {path.parent}", create=create_parents, fix=fix)
        exists = path.exists()
    except OSError as exc:  # a folder above it this user cannot enter
        raise _unreachable(shown, exc, fix) from None
    if exists:
        try:
            with path.open("ab"):  # append mode, nothing written: the content stays as it is
                pass
        except OSError as exc:
            raise HarnessError(
                f"{shown}: cannot write it ({exc.strerror}); make it writable or {fix}"
            ) from None
    return path


def _ensure(folder: Path, shown: str, named: str, *, create: bool, fix: str) -> None:
    """``folder`` is there (or made) and takes a new file; ``named`` is how messages call it."""
    if not folder.is_dir():
        above = _file_above(folder)
        if above is not None:
            raise HarnessError(f"{shown}: {above} is a file, not a folder; {fix}")
        if not create:
            raise HarnessError(f"{shown}: {named} does not exist; create it first or {fix}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HarnessError(f"{shown}: cannot create {named} ({exc.strerror}); {fix}") from None
    try:
        handle, name = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=folder)
    except OSError as exc:
        raise HarnessError(
            f"{shown}: cannot write in {named} ({exc.strerror}); make it writable for this user "
            f"or {fix}"
        ) from None
    os.close(handle)
    os.unlink(name)


def _unreachable(shown: str, exc: OSError, fix: str) -> HarnessError:
    return HarnessError(
        f"{shown}: cannot reach it ({exc.strerror}): a folder on the way is closed to this "
        f"user; {fix}"
    )


def _file_above(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is a file (so nothing can go below)."""
    for above in (path, *path.parents):
        if above.exists():
            return None if above.is_dir() else above
    return None


def _shown(option: str, path: Path) -> str:
    return f"{option} {path}" if option else str(path)
