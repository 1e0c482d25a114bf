"""Conflicts on demand: DSQL's ``40001 … (OC000)`` at COMMIT, when a test says so; and its
``XX000 server unavailable``, the transient error AWS says to answer by retrying the whole
transaction on the same connection (Aurora DSQL user guide, document history, 2026-09-08).

Real conflicts need two sessions racing for a row (:mod:`harness.dsql_local.occ` gives those
DSQL's shape); a retry loop is easier to prove with conflicts that come exactly when asked:
the next *n* commits, or every *n*-th. Only a COMMIT of a transaction that wrote can lose, as
on DSQL, where a read-only transaction never conflicts. Shared by every session of a cluster.
"""

from __future__ import annotations

import threading

from harness.dsql_local.occ import CONFLICT
from harness.dsql_local.rules import Refusal

__all__ = ["UNAVAILABLE", "ConflictInjector"]

UNAVAILABLE = Refusal("XX000", "server unavailable", "unavailable")


class ConflictInjector:
    """Which COMMITs of writing transactions fail with OC000, or with XX000."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._unavailable = 0
        self._every = 0
        self._commits = 0
        self.injected = 0
        """Conflicts injected so far."""

    def fail_next(self, count: int) -> None:
        """The next ``count`` commits of writing transactions fail."""
        with self._lock:
            self._next = max(count, 0)

    def fail_every(self, nth: int) -> None:
        """Every ``nth`` commit of a writing transaction fails (0: none)."""
        with self._lock:
            self._every, self._commits = max(nth, 0), 0

    def unavailable_next(self, count: int) -> None:
        """The next ``count`` commits of writing transactions fail with ``XX000 server
        unavailable``, the transaction rolled back (one outcome a real one may have)."""
        with self._lock:
            self._unavailable = max(count, 0)

    def clear(self) -> None:
        self.fail_next(0)
        self.fail_every(0)
        self.unavailable_next(0)

    def refusal(self) -> Refusal | None:
        """What the COMMIT now arriving (of a transaction that wrote) answers, if it fails."""
        with self._lock:
            if self._unavailable > 0:
                self._unavailable -= 1
                self.injected += 1
                return UNAVAILABLE
            self._commits += 1
            fail = self._next > 0 or (self._every > 0 and self._commits % self._every == 0)
            if self._next > 0:
                self._next -= 1
            self.injected += fail
            return CONFLICT if fail else None
