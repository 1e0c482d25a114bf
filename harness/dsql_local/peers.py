"""The open sessions of one local DSQL, by server process id: so that a statement meeting a
lock another session's transaction block holds can end that transaction as DSQL would — it
loses at its COMMIT — instead of waiting for it.

On DSQL nothing waits on a lock; whoever commits first wins. PostgreSQL makes the second
comer wait, so the guard settles each kind of meeting the way its outcome on DSQL is known:

- two transaction blocks: the one that met the other's lock is doomed (:mod:`.occ`; DSQL's
  loser is whoever commits second, which the guard cannot know in advance);
- a statement that commits as soon as it ends — autocommit, or the implicit transaction of
  one query — against a block: it commits first on DSQL, so the block is the loser
  (``40001 … (OC000)`` at its COMMIT);
- DDL against a block that read or wrote the table: the DDL commits on DSQL and the block
  fails at its COMMIT with ``40001 … (OC001)``.

For the last two the statement is run again (:meth:`Peers.clear_way`) while a watcher asks the
server which sessions it waits for (``pg_blocking_pids``, on a connection of the guard's own)
and has each of them — a guard session idle in a transaction block — give up its server
transaction: rolled back and begun again, so its later statements still run in a block, and
its COMMIT answers the conflict it met. A holder the guard cannot release (a connection that
bypasses the guard, a session in the middle of a pipelined batch) is waited for until the
retry's own ``lock_timeout`` (:data:`RETRY_LOCK_TIMEOUT`) ends it with ``55P03``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

from harness.dsql_local.rules import Refusal

__all__ = ["POLL_SECONDS", "RETRY_LOCK_TIMEOUT", "Peer", "Peers"]

RETRY_LOCK_TIMEOUT = "5s"
"""How long a statement run again may wait for a holder the guard cannot release."""
POLL_SECONDS = 0.005
"""How often the watcher asks whom a statement run again waits for."""
_BLOCKERS = "SELECT unnest(pg_blocking_pids(%s))"


class Peer(Protocol):
    """A session that can give up its transaction block's locks (a relay)."""

    async def release(self, conflict: Refusal) -> bool:
        """Doom the open block (``conflict`` at its COMMIT) and drop its server transaction;
        False when it cannot now (no block open, or in the middle of a batch)."""
        ...


class Peers:
    """The guard's sessions by server pid, and the watcher that releases their locks."""

    def __init__(self, superuser: str | None) -> None:
        self._conninfo = superuser
        self._sessions: dict[int, Peer] = {}
        self._conn: Any = None
        self._lock = asyncio.Lock()

    def add(self, pid: int, peer: Peer) -> None:
        if pid:
            self._sessions[pid] = peer

    def remove(self, pid: int) -> None:
        self._sessions.pop(pid, None)

    async def blockers(self, pid: int) -> list[int]:
        """The server processes the statement of ``pid`` waits for now."""
        import psycopg

        if self._conninfo is None:
            return []
        async with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            cursor = await self._conn.execute(_BLOCKERS, (pid,))
            return [row[0] for row in await cursor.fetchall()]

    async def clear_way(self, pid: int, conflict: Refusal) -> None:
        """Until cancelled: release every guard session the statement of ``pid`` waits for,
        each doomed to answer ``conflict`` at its COMMIT."""
        if self._conninfo is None:
            return
        while True:
            for blocker in await self.blockers(pid):
                peer = self._sessions.get(blocker)
                if peer is not None:  # shielded: a release stops only when it is done
                    await asyncio.shield(peer.release(conflict))
            await asyncio.sleep(POLL_SECONDS)

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.close()
                self._conn = None
