"""Clusters whose owner is gone: the record each cluster folder keeps, and their reaping.

Nothing runs in a process killed with SIGKILL, so the PostgreSQL server it started keeps
running (its parent is pid 1 by then) and its folder (about 100 MB) stays. Every cluster
folder therefore records its owner before any server starts: ``owner.json`` with the owner's
pid and that process's start time. Each later start looks at the cluster folders beside its
own and reaps those whose owner is gone: it stops the postmaster with SIGQUIT (what ``pg_ctl
stop -m immediate`` sends), once the postmaster's command line shows it serves that folder,
and deletes the folder.

Only clusters known to be orphaned are touched. A folder is left alone when its owner is
alive — same pid *and* same start time, so a reused pid is not mistaken for the owner — and
whenever the owner cannot be told: no record (a folder being created, or made by an older
cutover), a record this process may not read, a start time it cannot read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CLUSTER_PREFIX", "SOCKET_PREFIX", "Owner", "reap", "stop_postmaster"]

CLUSTER_PREFIX = "cutover-pg-"
SOCKET_PREFIX = "cutover-pgs-"  # a short socket folder, when the cluster's own path is too long
OWNER_FILE = "owner.json"
_STOP_WAIT_S = 10.0  # SIGQUIT ends a postmaster in well under a second
_log = logging.getLogger("cutover.embedded")


@dataclass(frozen=True)
class Owner:
    """The process a cluster folder belongs to, and the folders beside it that it made."""

    pid: int
    started: str
    extra: tuple[str, ...] = ()

    @classmethod
    def this_process(cls, extra: tuple[Path, ...] = ()) -> Owner:
        started = process_started(os.getpid())
        if started is None:  # /proc or ps unreadable: a record nobody can judge, never reaped
            started = "unknown"
        return cls(os.getpid(), started, tuple(str(p) for p in extra))

    def write(self, folder: Path) -> None:
        """Record this owner in ``folder`` (atomically: a reader sees all of it or nothing)."""
        partial = folder / f"{OWNER_FILE}.partial"
        record = {"pid": self.pid, "started": self.started, "extra": list(self.extra)}
        partial.write_text(json.dumps(record), encoding="utf-8")
        partial.replace(folder / OWNER_FILE)

    @classmethod
    def of(cls, folder: Path) -> Owner | None:
        """The owner ``folder`` records, or None when there is no readable record."""
        try:
            record = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
            return cls(int(record["pid"]), str(record["started"]), tuple(record["extra"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def gone(self) -> bool:
        """True only when the owner certainly no longer runs (see the module docstring)."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # another user's process: alive, and judged by its start time below
        started = process_started(self.pid)
        return started is not None and self.started != "unknown" and started != self.started


def process_started(pid: int) -> str | None:
    """When process ``pid`` started, as an opaque stamp (None when it cannot be read).

    Linux: the boot id and the start time in clock ticks since boot (``/proc/PID/stat``
    field 22, read after the command name, which may hold spaces and parentheses).
    Elsewhere: ``ps -o lstart=``.
    """
    if sys.platform.startswith("linux"):
        try:
            boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
            stat = Path(f"/proc/{pid}/stat").read_text()
            return f"{boot}/{stat.rsplit(')', 1)[1].split()[19]}"
        except (OSError, IndexError):
            return None
    return _ps(pid, "lstart=")


def _ps(pid: int, field: str) -> str | None:
    try:
        done = subprocess.run(
            ["ps", "-o", field, "-p", str(pid)], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _serves(pid: int, data_dir: str) -> bool:
    """Whether process ``pid`` runs with ``data_dir`` on its command line (``-D data_dir``)."""
    if sys.platform.startswith("linux"):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False
        return data_dir in argv.split("\0")
    return data_dir in (_ps(pid, "command=") or "")


def stop_postmaster(data_dir: Path) -> bool:
    """Stop the postmaster serving ``data_dir`` (SIGQUIT, then SIGKILL); True once none runs.

    The pid comes from ``postmaster.pid``; it is signalled only while its command line names
    ``data_dir``, so a pid the system has since given to another process is never signalled.
    """
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return True
    wanted = str(data_dir)
    for signum in (signal.SIGQUIT, signal.SIGKILL):
        if not _serves(pid, wanted):
            return True
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
        deadline = time.monotonic() + _STOP_WAIT_S
        while _serves(pid, wanted) and time.monotonic() < deadline:
            time.sleep(0.02)
    return not _serves(pid, wanted)


def reap(base: Path) -> list[Path]:
    """Stop and delete every cluster in ``base`` whose owner is gone; return their folders."""
    reaped = []
    try:
        folders = sorted(base.glob(f"{CLUSTER_PREFIX}*"))
    except OSError:
        return []
    for folder in folders:
        owner = Owner.of(folder)
        if owner is None or not owner.gone():
            continue
        try:
            if not stop_postmaster(folder / "data"):
                continue  # still running: deleting its folder would strand it for good
        except OSError:
            continue  # not ours to signal (EPERM): another user's cluster
        for extra in map(Path, owner.extra):
            if extra.is_absolute() and extra.name.startswith(SOCKET_PREFIX):
                shutil.rmtree(extra, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
        _log.info("reaped %s: its owner (pid %d) is gone", folder, owner.pid)
        reaped.append(folder)
    return reaped
