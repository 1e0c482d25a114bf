"""Under root, the embedded PostgreSQL runs as an unprivileged user; nothing else is opened up.

PostgreSQL refuses to run as root, so under root every server binary runs as the ``pgserver``
user (the one the ``pgserver`` wheel itself creates). That user must be able to search every
folder above its binaries and above its cluster folder. The wheel's own helpers make that
true by adding o+rx to every folder above both, up to ``/`` and for good: a TMPDIR under a home
folder opened the home folder. Here no folder cutover did not create changes mode:

- each cluster folder is created in the first of the caller's ``base_dir`` (if given, else
  TMPDIR, ``/tmp``, ``/var/tmp``) that the server user can already reach, and handed to it
  (:func:`reachable_base`);
- the wheel's ``bin``, ``lib`` and ``share`` folders, and the shared libraries its binaries
  load (``pgserver.libs``, found through ``$ORIGIN``), are hard-linked into that cluster
  folder in the wheel's own relative layout (copied where a link cannot be made or the
  wheel's file is not readable by others), so PostgreSQL finds ``share/postgresql`` and
  ``lib/postgresql`` relative to its own path, as it does in the wheel (:func:`mirror_binaries`).

The links go when the cluster folder goes. A hard link is the wheel's own file, with its own
mode: linking changes no permission.
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

from harness.errors import ProvisionError

__all__ = ["SYSTEM_USER", "mirror_binaries", "reachable_base", "server_ids", "wheel"]

SYSTEM_USER = "pgserver"
_FALLBACK_BASES = (Path("/tmp"), Path("/var/tmp"))  # searched in order, never widened
_MIRRORED = ("bin", "lib", "share")  # of pginstall/; include/ is for building extensions
_READ = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
_EXEC = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


def wheel() -> tuple[Path, Any]:
    """The ``pgserver`` wheel's binary folder and helper module, imported quietly.

    Importing ``pgserver`` asks platformdirs for a runtime folder, which prints a warning on
    stderr when XDG_RUNTIME_DIR is unset (CI containers); that must not reach our users.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver import _commands, utils
    except ImportError as exc:
        raise ProvisionError(
            f"cannot find the embedded PostgreSQL binaries ({exc}); fix: pip install pgserver"
        ) from None
    return Path(_commands.POSTGRES_BIN_PATH), utils


@functools.cache
def server_ids() -> tuple[int, int] | None:
    """(uid, gid) the server runs as: None normally, the ``pgserver`` user's under root."""
    if os.geteuid() != 0:
        return None
    utils = wheel()[1]
    for attempt in (1, 2):  # a second try, as another xdist worker may win the useradd race
        try:
            utils.ensure_user_exists(SYSTEM_USER)
            break
        except subprocess.CalledProcessError as exc:
            if attempt == 2:
                stderr = " ".join((exc.stderr or "").split()) or f"exit {exc.returncode}"
                raise ProvisionError(
                    f"PostgreSQL refuses to run as root and `useradd {SYSTEM_USER}` failed: "
                    f"{stderr}; fix: run as a non-root user"
                ) from None
    entry = pwd.getpwnam(SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def blocking_folder(path: Path, ids: tuple[int, int]) -> Path | None:
    """The first folder from ``/`` down to ``path`` that user ``ids`` cannot search, if any.

    Mode bits only (owner, then group, then others, as the kernel checks them); the server
    runs with no supplementary groups, so its primary group is its only one.
    """
    uid, gid = ids
    resolved = path.resolve()
    for folder in (*reversed(resolved.parents), resolved):
        try:
            info = folder.stat()
        except OSError:
            return folder
        if not stat.S_ISDIR(info.st_mode):
            return folder
        if info.st_uid == uid:
            bit = stat.S_IXUSR
        elif info.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return folder
    return None


def reachable_base(base_dir: Path | None, ids: tuple[int, int] | None) -> Path:
    """Where a cluster folder is created: ``base_dir`` (default: the temp dir), or under
    root the first of those the server user can already reach; nothing is widened."""
    if ids is None:
        return Path(base_dir or tempfile.gettempdir())
    if base_dir is not None:
        blocked = blocking_folder(base_dir, ids)
        if blocked is not None:
            raise ProvisionError(_unreachable(base_dir, blocked))
        return base_dir
    candidates = [Path(tempfile.gettempdir()), *_FALLBACK_BASES]
    for candidate in candidates:
        if candidate.is_dir() and blocking_folder(candidate, ids) is None:
            return candidate
    first = candidates[0]
    raise ProvisionError(_unreachable(first, blocking_folder(first, ids) or first))


def _unreachable(wanted: Path, blocked: Path) -> str:
    try:
        mode = stat.filemode(blocked.stat().st_mode)
    except OSError:
        mode = "missing"
    return (
        f"PostgreSQL refuses to run as root and its user {SYSTEM_USER!r} cannot reach {wanted} "
        f"({blocked} is {mode}); cutover widens no folder it did not create; fix: point TMPDIR "
        f"at a folder every parent of which is searchable by others (o+x), or run as non-root"
    )


def mirror_binaries(dest: Path) -> Path:
    """Link the wheel's server files into ``dest`` (created here); return its ``bin`` folder."""
    bin_dir = wheel()[0]
    install = bin_dir.parent  # .../site-packages/pgserver/pginstall
    site = install.parent.parent
    sources = [install / name for name in _MIRRORED]
    sources += sorted(site.glob(f"{install.parent.name}.libs"))  # auditwheel's vendored libs
    for source in sources:
        if source.is_dir():
            _mirror_tree(source, dest / source.relative_to(site))
    return dest / bin_dir.relative_to(site)


def _mirror_tree(source: Path, dest: Path) -> None:
    # os.scandir and plain strings: some 800 files, so Path objects would cost more than links.
    os.makedirs(dest, mode=0o755, exist_ok=True)
    with os.scandir(source) as entries:
        for entry in entries:
            target = os.path.join(dest, entry.name)
            if entry.is_symlink():  # libfoo.so -> libfoo.so.1: the same link, as relative
                os.symlink(os.readlink(entry.path), target)
            elif entry.is_dir():
                _mirror_tree(Path(entry.path), Path(target))
            else:
                _mirror_file(entry.path, target, entry.stat().st_mode)


def _mirror_file(source: str, dest: str, mode: int) -> None:
    needed = _READ | (_EXEC if mode & stat.S_IXUSR else 0)
    if mode & needed == needed:
        try:
            os.link(source, dest)
            return
        except OSError:
            pass  # another file system (EXDEV), or links refused: copy
    shutil.copyfile(source, dest)
    os.chmod(dest, stat.S_IMODE(mode) | needed)
