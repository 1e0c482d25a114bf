"""What DSQL answers where PostgreSQL would answer otherwise: refusals, lock meetings, COMMITs.

The session's decisions, each made from what :mod:`harness.dsql_local.session` has booked and
carried out on the wire through :class:`~harness.dsql_local.pump.Pump`:

- a statement DSQL refuses (its dialect, :mod:`.rules`, then its transaction, :mod:`.session`)
  is answered with DSQL's error in its place; the rules' catalog questions are asked here;
- a statement that meets another transaction's row lock (:mod:`.occ`) loses, answered by a
  lock-free stand-in and its block doomed; or, when it commits first on DSQL or is DDL, it
  wins: run again while the holder's block gives up its locks (:mod:`.peers`;
  :meth:`Arbiter.release` is the holder's side of that);
- a COMMIT answers, instead of committing, the age limit, OC001 (a schema change under the
  transaction), OC000 (a doomed block) or what the conflict injector (:mod:`.conflicts`)
  says, and the transaction is over;
- a unit's end settles the server transaction the guard opened for it (:meth:`Arbiter.finish`).

Kept apart from the pumping (pump.py) and the bookkeeping (session.py, booked statement by
statement in relay.py) because each changes on its own: a newly recorded DSQL outcome changes
a decision here, not how messages move or what a transaction has done.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from harness.dsql_local import grants, occ
from harness.dsql_local import protocol as wire
from harness.dsql_local.conflicts import ConflictInjector
from harness.dsql_local.expect import Batch, Expect
from harness.dsql_local.limits import SCHEMA_CONFLICT
from harness.dsql_local.peers import RETRY_LOCK_TIMEOUT, Peers
from harness.dsql_local.pump import Pump
from harness.dsql_local.rules import Refusal, refuse
from harness.dsql_local.session import ROW_LIMIT, Session, Status
from harness.dsql_local.statement import Statement

__all__ = ["Arbiter"]

# The catalog questions the rules ask; to_regclass/to_regtype never fail, so a lookup cannot
# abort the client's transaction. A key column of a table is one of its primary key's.
_KEY_COLUMN = (
    "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
    " AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass($1) AND i.indisprimary"
    " AND a.attname = $2)"
)
_TYPE_KIND = "SELECT typtype::text FROM pg_type WHERE oid = to_regtype($1)"


class Arbiter(Pump):
    """A session's pump that answers as DSQL decides (the relay builds on it)."""

    # Set by the relay that builds on it (it is the one constructed, one per connection).
    conflicts: ConflictInjector
    """The cluster's conflict injector: which COMMITs fail on demand (conflicts.py)."""
    peers: Peers
    """The cluster's sessions, whose locks a statement that commits first releases."""
    pid: int
    """The server process of this session (BackendKeyData)."""

    # -- refusals, and the server transactions that let them come late -------------------------

    async def decide(self, stmt: Statement) -> Refusal | None:
        """DSQL's refusal of ``stmt`` here and now (dialect first, then the transaction)."""
        if self.session.status is Status.FAILED:
            return self.session.check(stmt)
        refusal = await refuse(stmt, self)
        if refusal is None and not stmt.begins and not stmt.ends_transaction:
            refusal = self.session.check(stmt)
        return refusal

    def refused(self, refusal: Refusal) -> None:
        """The guard answers with ``refusal``: the statement fails, and its transaction."""
        self.synthetic(wire.error_response(refusal.sqlstate, refusal.message))
        self.batch.failed = True

    def guard_failed(self) -> None:
        """The guard failed a statement the server ran: silence the rest up to Sync."""
        self.batch.failed = True
        for entry in self.queue:
            if entry.kind == "sync":
                break
            entry.forward = False
        self.skipping = True

    # The rules' Catalog (rules.py): what a refusal may depend on, asked of the server.

    async def is_key_column(self, table: str, column: str) -> bool:
        return await self.lookup(_KEY_COLUMN, table, column) == "t"

    async def type_kind(self, name: str) -> str | None:
        return await self.lookup(_TYPE_KIND, name)

    async def role_granted(self, role: str) -> bool:
        return await self.lookup(grants.ROLE_GRANTED, role) == "t"

    def needs_wrap(self, stmts: list[Statement], carried: int = 0) -> bool:
        """Whether the statements about to run outside a block need a server transaction of
        the guard's (a row count or a write size to check, or several statements to keep
        together); ``carried`` is the bytes of the Bind values that come with them."""
        effective = [s for s in stmts if s.category != "query"]
        if len(stmts) > 1 and effective:
            return True
        writes = [s for s in stmts if s.writes_rows]
        if not writes:
            return False
        small = len(writes) == 1 and (writes[0].static_rows or 10**9) <= ROW_LIMIT
        small = small and writes[0].analysis.payload + carried <= self.session.limits.write_bytes
        return not small

    # -- meetings with another transaction's locks ---------------------------------------------

    def lock_met(self, head: Expect) -> bool:
        code = head.error.get("C") if head.error else None
        in_block = self.session.status is Status.OPEN
        if head.occ and occ.meeting(code, head.stmt, in_block=in_block):
            self.on_blocked(head)
            return True
        return False

    def on_blocked(self, head: Expect) -> None:
        """A statement met another transaction's row lock: DSQL would not have waited."""
        head.blocked = True
        head.forward = False
        if head.kind == "query":
            return  # its ReadyForQuery follows; simple_statement answers in its place
        self.batch.blocked = head
        self.queue.popleft()
        while self.queue and self.queue[0].kind != "sync":
            if not self.queue.popleft().private:
                self.batch.blocked_alone = False

    def guarding(self, stmt: Statement) -> tuple[bool, bool]:
        """(whether a meeting with another transaction's lock is the relay's to settle,
        whether a savepoint of the relay's goes before the statement to undo it): writes,
        locking reads and DDL, anywhere but a failed block (occ.py, peers.py)."""
        session = self.session
        plain = not stmt.begins and not stmt.ends_transaction
        guard = plain and (occ.guarded(stmt) or stmt.is_ddl)
        return guard, guard and (session.status is Status.OPEN or session.implicit)

    def stands_in(self, stmt: Statement) -> bool:
        """A blocked statement loses (answered by a stand-in, its block doomed) rather than
        wins (run again while the holder's locks are released): a block's write or locking
        read, whose COMMIT may come after the holder's."""
        return self.session.status is Status.OPEN and not stmt.is_ddl

    async def stand_in(
        self, stmt: Statement, *, rows: Expect | None, bound: Expect | None = None
    ) -> bool:
        """Answer a blocked statement as DSQL would have (occ.py); False when it cannot be.
        ``bound``: the blocked Execute, whose parameters its stand-in takes."""
        await self.run_private(f"ROLLBACK TO SAVEPOINT {occ.SAVEPOINT}")
        txn = self.session.txn
        if txn is not None and txn.doomed is None:
            txn.doomed = occ.CONFLICT
        query = occ.stand_in(stmt.text)
        if query is not None and rows is not None and stmt.kind == "SELECT":
            # The same snapshot, the same plan: the rows it sent before the lock come first.
            self.to_server(wire.message(b"Q", query.encode() + b"\0"))
            skip = rows.sent_rows if rows.described else -1
            self.expect("query", skip_rows=skip)
            await self.pump()
            return not self.batch.failed
        count = None
        if query is not None and stmt.is_dml:
            # the count takes the statement's parameters when its WHERE names one
            like = None
            if bound is not None and occ.PARAMETER.search(query):
                like = dataclasses.replace(bound, types=occ.stand_in_types(query, bound.types))
            count = await self.lookup(query, like=like)
        tag = occ.tag(stmt, count)
        if tag is None:
            self.refused(occ.CONFLICT)
            await self.pump()
            return False
        self.to_client(wire.command_complete(tag))
        return True

    async def preempt(self, stmt: Statement, entry: Expect, resend: bytes) -> bool:
        """``stmt`` met a lock of another session's block, and on DSQL it commits first (it
        runs in autocommit or one query's transaction) or it is DDL: run it again (``resend``:
        its Query, or its Bind and Execute) while every guard session it waits for gives up
        its locks, doomed to lose at COMMIT (peers.py)."""
        if entry.sent_rows:
            self.refused(occ.CONFLICT)  # rows of it are out: it cannot answer twice
            await self.pump()
            return False
        session = self.session
        conflict = SCHEMA_CONFLICT if stmt.is_ddl else occ.CONFLICT
        if entry.savepoint:
            self.private(f"ROLLBACK TO SAVEPOINT {occ.SAVEPOINT}")
        elif session.txn is None:  # it ran alone: run it again in a transaction of the guard's
            self.private("BEGIN")
            session.begin(explicit=False)
        self.private(f"SET LOCAL lock_timeout = '{RETRY_LOCK_TIMEOUT}'")
        self.private_sync()
        self.to_server(resend)
        if entry.kind == "query":
            self.expect("query", stmt, skip_rows=0 if entry.described else -1)
        else:
            self.expect("close", forward=False)
            self.expect("bind", forward=False)
            self.expect("execute", stmt)
        self.private(f"SET LOCAL lock_timeout = '{occ.LOCK_TIMEOUT}'")
        self.private_sync()
        watcher = asyncio.get_running_loop().create_task(self.peers.clear_way(self.pid, conflict))
        try:
            await self.pump()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return not self.batch.failed

    async def release(self, conflict: Refusal) -> bool:
        """Another session's statement waits for this one's locks and commits first on DSQL
        (peers.py): doom the open block — its COMMIT answers ``conflict`` — and give up its
        server transaction, begun again at once so its later statements still run in a
        block. False when there is nothing to release now."""
        async with self.busy:
            session, txn = self.session, self.session.txn
            if session.status is not Status.OPEN or txn is None or not txn.explicit:
                return False
            if self.open_batch or self.queue:
                return False  # the server is in the middle of the client's batch
            if txn.doomed is None:
                txn.doomed = conflict
            self.private("ROLLBACK")
            self.private(txn.opened_with)
            self.private_sync()
            await self.pump()
            self.send_client()  # notices the guard forwards, if any
            return True

    # -- COMMIT, and the end of a unit ---------------------------------------------------------

    def commit_refusal(self, session: Session) -> Refusal | None:
        """What this COMMIT answers instead of committing: the age limit, OC001 (a schema
        change under the transaction), or OC000 (it met another's row lock, or the conflict
        injector takes it, or answers XX000: a transaction that wrote)."""
        refusal = session.commit_refusal()
        if refusal is not None:
            return refusal
        if session.doomed is not None:
            return session.doomed
        txn = session.txn
        wrote = txn is not None and txn.explicit and txn.wrote
        return self.conflicts.refusal() if wrote else None

    async def lose(self, refusal: Refusal) -> bool:
        """A COMMIT DSQL refuses: the refusal, and the transaction is over."""
        await self.run_private("ROLLBACK")
        self.session.end()
        self.refused(refusal)
        await self.pump()
        return False

    async def finish(self) -> bytes:
        """End the unit: settle the server's transaction; the ReadyForQuery status to send."""
        session = self.session
        if self.batch.failed and session.status is Status.OPEN:
            session.fail()
            await self.run_private("ROLLBACK")
        elif session.implicit:
            if self.batch.failed:
                await self.run_private("ROLLBACK")
            else:
                entry = await self.run_private("COMMIT")
                if entry.error is not None:
                    error = entry.error
                    self.to_client(wire.error_response(error.get("C", "XX000"), error.get("M", "")))
            session.end()
        self.batch = Batch()
        self.skipping = False
        return session.status.value
