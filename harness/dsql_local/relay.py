"""The session relay: one client's session, message by message, statement by statement.

Each client message is handled in turn (a simple query here, an extended batch in
:mod:`harness.dsql_local.extended`); each statement is decided on
(:mod:`harness.dsql_local.arbiter`: DSQL's refusals, lock meetings, COMMIT outcomes), run, and
booked in the session's transaction (:mod:`harness.dsql_local.session`: one DDL, no DDL with
DML, 3,000 rows counted from the server's command tags), with the messages pumped in order by
:mod:`harness.dsql_local.pump`. So that a transaction crossing a limit can be undone,
statements that may write run inside a server transaction the relay opens itself (private
statements: named ones of its own, never the client's unnamed statement or portal) and
commits only when the limit held; a failed client block is rolled back in the server at once
and answered ``25P02`` here until it ends.

The layers build on each other: :class:`Relay` is an
:class:`~harness.dsql_local.arbiter.Arbiter`, which is a :class:`~harness.dsql_local.pump.Pump`.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.dsql_local import occ
from harness.dsql_local import protocol as wire
from harness.dsql_local.arbiter import Arbiter
from harness.dsql_local.conflicts import ConflictInjector
from harness.dsql_local.expect import Expect
from harness.dsql_local.extended import Extended
from harness.dsql_local.limits import Limits, SchemaLog
from harness.dsql_local.peers import Peers
from harness.dsql_local.protocol import Message
from harness.dsql_local.pump import Streams
from harness.dsql_local.rules import JobLog, job, waits_for_job
from harness.dsql_local.rules import rewrite as rewrite_statement
from harness.dsql_local.session import Session, Status
from harness.dsql_local.statement import Statement, classify

__all__ = ["Relay"]


class Relay(Arbiter):
    """One authenticated client and its server connection."""

    def __init__(
        self,
        client: Streams,
        server: Streams,
        *,
        jobs: JobLog | None,
        parameter: Callable[[Message], bytes],
        conflicts: ConflictInjector | None = None,
        limits: Limits | None = None,
        schema: SchemaLog | None = None,
        peers: Peers | None = None,
        pid: int = 0,
    ) -> None:
        super().__init__(client, server, parameter=parameter, session=Session(limits, schema))
        self.conflicts = conflicts or ConflictInjector()
        self.peers = peers or Peers(None)
        self.pid = pid
        self.jobs = jobs
        self.extended = Extended(self)
        self.pending: list[Message] = []
        """The client's extended messages not yet run (up to its Sync or Flush)."""

    async def run(self) -> None:
        self.peers.add(self.pid, self)
        try:
            while True:
                msg = await wire.read_message(self.reader)
                async with self.busy:
                    if not await self.handle(msg):
                        return
        finally:
            self.peers.remove(self.pid)
            self.backend_writer.close()

    async def handle(self, msg: Message) -> bool:
        """One message of the client's; False when the session is over."""
        if self.session.connection_expired():
            return False  # DSQL closes the connection; no answer to what arrived
        if msg.kind == b"X":
            self.to_server(msg.encode())
            await self.send_server()
            return False
        if msg.kind == b"Q":
            await self.simple_query(wire.query_text(msg.body))
        elif msg.kind in b"PBDCE":
            self.pending.append(msg)
        elif msg.kind in b"SH":
            self.pending.append(msg)
            batch, self.pending = self.pending, []
            await self.extended.run(batch)
            self.open_batch = msg.kind == b"H"
        else:  # FunctionCall and anything else: relayed as it is
            self.to_server(msg.encode())
            self.expect("query")
            await self.pump()
        self.send_client()
        await self.writer.drain()
        return True

    async def statement_completed(self, head: Expect, stmt: Statement, tag: str) -> bool:
        """Book it: its rows and bytes against the transaction's limits (session.py), DDL
        that committed as it ran into the schema log, an ``ASYNC`` statement's job."""
        if stmt.writes_rows:
            self.batch.outstanding_writes -= 1
        refusal = self.session.completed(stmt, tag)
        if refusal is not None:
            self.to_client(wire.error_response(refusal.sqlstate, refusal.message))
            self.guard_failed()
            return False
        if stmt.is_ddl and (self.session.txn is None or self.session.implicit):
            self.session.committed(stmt)
        work = job(stmt)
        if work is not None and self.jobs is not None:
            # DSQL answers an ASYNC statement with its job's id (one row, one column). An
            # index built outside a block stays invalid until its job ends, as on DSQL
            # (inside one the job log cannot see it yet); "already exists" built nothing.
            built = work[0] == "INDEX_BUILD" and self.session.txn is None
            built = built and "42P07" not in head.notices
            job_id = await self.jobs.record_job(*work, building=built)
            if head.kind == "query":
                self.to_client(wire.row_description(["job_id"]))
            self.to_client(wire.data_row([job_id]))
        return True

    # -- the simple query protocol -------------------------------------------------------------

    async def simple_query(self, text: str) -> None:
        from harness.lint.split import split

        pieces = [s.text for s in split(text).statements if not s.meta and s.text.strip()]
        if not pieces:
            self.to_server(wire.message(b"Q", text.encode() + b"\0"))
            self.expect("query")
            await self.pump()
            self.to_client(wire.ready_for_query(self.session.status.value))
            return
        stmts = [classify(piece) for piece in pieces]
        for at, stmt in enumerate(stmts):
            if not await self.simple_statement(stmt, stmts[at:]):
                break
        status = await self.finish()
        self.to_client(wire.ready_for_query(status))

    async def simple_statement(self, stmt: Statement, rest: list[Statement]) -> bool:
        """Run one statement of a simple query; False when it failed (the rest is skipped)."""
        session = self.session
        if session.status is Status.FAILED and stmt.ends_transaction:
            # The server was rolled back when the block failed; COMMIT reports ROLLBACK.
            self.to_client(wire.command_complete("ROLLBACK"))
            session.end()
            return True
        refusal = await self.decide(stmt)
        if refusal is not None:
            self.refused(refusal)
            await self.pump()
            return False
        if stmt.begins and session.implicit:
            session.begin(explicit=True, text=stmt.text)
            self.to_client(wire.command_complete("BEGIN"))
            return True
        loss = self.commit_refusal(session) if stmt.commits else None
        if loss is not None:
            return await self.lose(loss)
        if self.jobs is not None and waits_for_job(stmt):
            await self.jobs.finish_all()  # the jobs a wait could be for are done at once
        plain = not stmt.begins and not stmt.ends_transaction
        outside = session.status is Status.IDLE and session.txn is None
        if plain and outside and self.needs_wrap(rest):
            self.private("BEGIN")
            session.begin(explicit=False)
        guard, savepoint = self.guarding(stmt)
        if savepoint:
            self.private(f"SAVEPOINT {occ.SAVEPOINT}")
        session.ran(stmt)
        query = wire.message(b"Q", rewrite_statement(stmt).encode() + b"\0")
        self.to_server(query)
        entry = self.expect("query", stmt, occ=guard, savepoint=savepoint)
        await self.pump()
        if entry.blocked:
            if self.stands_in(stmt):
                return await self.stand_in(stmt, rows=entry)
            return await self.preempt(stmt, entry, query)
        if stmt.ends_transaction:
            if stmt.commits and entry.error is None:
                session.committed(stmt)
            session.end()  # a COMMIT that fails ends the transaction too
        elif stmt.begins and entry.error is None:
            session.begin(explicit=True, text=stmt.text)
        return not self.batch.failed
