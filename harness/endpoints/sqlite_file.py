"""Read a SQLite file without writing anything beside it.

``mode=ro`` alone does not keep that promise. A database in WAL mode is read through a
``-wal`` log and a ``-shm`` index next to it: a read-only connection creates both when they
are missing (and, unable to checkpoint, leaves them behind), and in a folder it cannot write
it fails with "attempt to write a readonly database". So how a file is opened depends on
what is next to it, decided each time a session opens (:func:`read_only_uri`):

- **Rollback journal** (SQLite's default): ``mode=ro``. Readers and writers coordinate through
  locks on the file itself, so a live writer is safe, and a reader creates nothing.
- **WAL, no process has it open, no committed log**: ``immutable=1``. SQLite then reads the
  file alone, with no locks and no ``-shm``. Immutable is a promise that nothing changes the
  file while it is read, so it is only made when nothing can: every open WAL connection holds
  a read lock on the file's lock bytes (checked with ``F_GETLK``, which takes no lock), and
  a ``-wal`` with content would be transactions ``immutable`` would silently skip.
- **WAL, open elsewhere or with a committed log, and its ``-shm`` present**: ``mode=ro``
  through SQLite's own WAL protocol, using the ``-shm`` that is already there (the readers'
  marks in it are how SQLite keeps a live writer from checkpointing under them). Nothing is
  created. A copy would not do here: copying a file a writer is changing is not a snapshot.
- **WAL with a committed log (or another process) but no ``-shm``** (a writer that crashed,
  or one holding the file in exclusive locking mode): reading it would mean creating the
  ``-shm``. Refused, with the fix, rather than read without the log's transactions.

A writer that first opens the file after this choice is not guarded against (immutable reads
would not see its changes, or could see them half made): a cutover's source is frozen while
it is verified.

:func:`check_file` runs once, before any check: the path is a readable file, a SQLite
database, and not damaged (``PRAGMA quick_check``: it reads every page, about a quarter of a
second per 100 MB, which the row comparison pays again anyway).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import struct
import sys
from pathlib import Path

from harness.errors import EndpointError

HEADER = b"SQLite format 3\x00"
_WAL = 2
"""Header bytes 18 and 19 (write and read format version) of a database in WAL mode."""
# SQLite's lock bytes (os_unix.c): PENDING_BYTE, RESERVED_BYTE, then the SHARED range.
_LOCK_START, _LOCK_LEN = 0x40000000, 512


def check_file(path: Path, role: str) -> None:
    """Raise a one-line :class:`EndpointError` naming ``path`` and the fix unless it is a
    readable, undamaged SQLite database; reads it, writes nothing."""
    where = f"check {role}.path in the plan"
    if path.is_dir():
        raise EndpointError(f"{path} is a directory, not a SQLite file ({where})", endpoint=role)
    if not path.exists():
        raise EndpointError(f"SQLite file {path} not found ({where})", endpoint=role)
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as exc:
        raise EndpointError(
            f"cannot read SQLite file {path}: {exc.strerror} (give the user running cutover "
            "read access to it, or copy it somewhere readable and point "
            f"{role}.path at the copy)",
            endpoint=role,
        ) from None
    if header and not header.startswith(HEADER):
        raise EndpointError(
            f"cannot open {path} as a SQLite database: file is not a database (it does not "
            f"start with the SQLite header; {where})",
            endpoint=role,
        )
    with contextlib.closing(open_read_only(path, role)) as conn:
        try:
            first = conn.execute("PRAGMA quick_check(1)").fetchone()
        except sqlite3.DatabaseError as exc:
            first = (str(exc),)
    if first is None or first[0] != "ok":
        said = str(first[0] if first else "no answer")
        found = " ".join(re.sub(r"\*\*\* in database \w+ \*\*\*", "", said).split())
        raise EndpointError(
            f"SQLite file {path} is damaged (PRAGMA quick_check: {found}); restore it from a "
            f"backup, or salvage what is left with: sqlite3 {path} .recover | sqlite3 "
            f"recovered.db, and point {role}.path at the recovered file",
            endpoint=role,
        )


def open_read_only(path: Path, role: str, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection on ``path`` that cannot write to it and writes nothing beside it; a
    one-line :class:`EndpointError` naming the file and the fix when it cannot be read."""
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=check_same_thread)
    except sqlite3.Error as exc:
        raise _cannot_open(path, role, exc) from None
    try:
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.Error as exc:
        conn.close()
        raise _cannot_open(path, role, exc) from None
    return conn


def read_only_uri(path: Path) -> str:
    """The ``file:`` URI to read ``path`` with (see the module docstring for the choice)."""
    resolved = path.resolve()
    uri = resolved.as_uri()
    if not _in_wal_mode(path):
        return f"{uri}?mode=ro"
    log, index = _sidecar(path, "-wal"), _sidecar(path, "-shm")
    committed = log.exists() and log.stat().st_size > 0
    ours = resolved in _THROUGH_WAL and index.exists()  # a connection of ours may be open
    if not committed and not ours:
        held = _held_elsewhere(path)
        # Where locks cannot be asked about, a missing -wal still says no connection is open.
        if held is False or (held is None and not log.exists()):
            return f"{uri}?mode=ro&immutable=1"
    if not index.exists():
        raise _NoIndex(path, committed=committed)
    _THROUGH_WAL.add(resolved)
    return f"{uri}?mode=ro"


_THROUGH_WAL: set[Path] = set()
"""Files this process has read through SQLite's WAL protocol: while their -shm exists, a
connection of ours may hold their lock bytes, which probing them again (opening and closing a
descriptor) would drop."""


class _NoIndex(sqlite3.OperationalError):
    """A WAL database whose log holds transactions but whose ``-shm`` index is missing."""

    def __init__(self, path: Path, *, committed: bool) -> None:
        what = "holds transactions" if committed else "is open in another process"
        super().__init__(f"{path.name}-wal {what} and {path.name}-shm is missing")


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _in_wal_mode(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            header = file.read(20)
    except OSError:
        return False  # sqlite3 says why when it opens the file
    return header.startswith(HEADER) and header[18] == header[19] == _WAL


def _held_elsewhere(path: Path) -> bool | None:
    """Whether another process holds a lock on the file's SQLite lock bytes (an open WAL
    connection always holds a read lock there); ``F_GETLK`` asks without locking. None where
    the question cannot be asked (not Linux, or the lock query fails)."""
    if not sys.platform.startswith("linux"):
        return None
    import fcntl

    # struct flock on Linux: short l_type, l_whence; off_t l_start, l_len; pid_t l_pid.
    layout = "hhqqi4x"
    request = struct.pack(layout, fcntl.F_WRLCK, os.SEEK_SET, _LOCK_START, _LOCK_LEN, 0)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    # Closing a descriptor drops every POSIX lock this process holds on the file, so this
    # never runs while a WAL connection of ours is open on it (see _THROUGH_WAL; immutable
    # and rollback-journal readers hold no lock between statements), and F_GETLK never
    # reports our own locks.
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
    except OSError:
        return None
    finally:
        os.close(fd)
    return bool(struct.unpack(layout, answer)[0] != fcntl.F_UNLCK)


def _cannot_open(path: Path, role: str, exc: sqlite3.Error) -> EndpointError:
    """One line naming the file and what to do, for each way a read-only open fails."""
    text = str(exc)
    if isinstance(exc, _NoIndex):
        fix = (
            f"{text}: a writer crashed, or holds the file in exclusive locking mode; reading "
            "the log would create the -shm next to it, which cutover does not do. Stop the "
            f"writer, or have the file's owner run: sqlite3 {path} 'PRAGMA wal_checkpoint' "
            "(or copy the file with its -wal to a folder you own and point "
            f"{role}.path there)"
        )
    elif "readonly" in text or "unable to open" in text:
        fix = (
            f"{text}: a writer has it open and its -wal/-shm files are not readable by this "
            "user, or the folder is not accessible; read it as a user that can, or copy the "
            f"file (with its -wal and -shm) to a folder you own and point {role}.path there"
        )
    elif "locked" in text:
        fix = f"{text}: another process holds it exclusively; stop that process and retry"
    else:
        fix = text
    return EndpointError(f"cannot open {path} as a SQLite database: {fix}", endpoint=role)
