"""Conflicts on demand: DSQL's ``40001 … (OC000)`` at COMMIT, when a test says so.

Real conflicts need two sessions racing for a row (:mod:`harness.dsql_local.occ` gives those
DSQL's shape); a retry loop is easier to prove with conflicts that come exactly when asked:
the next *n* commits, or every *n*-th. Only a COMMIT of a transaction that wrote can lose, as
on DSQL, where a read-only transaction never conflicts. Shared by every session of a cluster.
"""

from __future__ import annotations

import threading

__all__ = ["ConflictInjector"]


class ConflictInjector:
    """Which COMMITs of writing transactions fail with OC000."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0
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

    def clear(self) -> None:
        self.fail_next(0)
        self.fail_every(0)

    def lose(self) -> bool:
        """Whether the COMMIT now arriving (of a transaction that wrote) fails."""
        with self._lock:
            self._commits += 1
            fail = self._next > 0 or (self._every > 0 and self._commits % self._every == 0)
            if self._next > 0:
                self._next -= 1
            self.injected += fail
            return fail
