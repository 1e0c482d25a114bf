"""The session relay: every message between one client and its server connection, mediated.

Statements DSQL refuses are answered here with DSQL's SQLSTATE and message
(:mod:`harness.dsql_local.rules`), over the simple protocol and the extended one (a refused
``Parse`` fails and the rest of the batch is skipped up to ``Sync``, as a server does). Each
transaction is kept by :mod:`harness.dsql_local.session`: one DDL, no DDL with DML, 3,000 rows
counted from the server's command tags. So that a transaction crossing the limit can be
undone, statements that may write run inside a server transaction the relay opens itself
(private statements: named ones of its own, never the client's unnamed statement or portal)
and commits only when the limit held; a failed client block is rolled back in the server at
once and answered ``25P02`` here until it ends. Answers keep their order: the relay's own
messages wait in one queue with the server's (:class:`Expect`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import struct
from collections import deque
from collections.abc import Callable

from harness.dsql_local import grants, occ
from harness.dsql_local import protocol as wire
from harness.dsql_local.conflicts import ConflictInjector
from harness.dsql_local.expect import Batch, Expect
from harness.dsql_local.extended import Extended
from harness.dsql_local.limits import SCHEMA_CONFLICT, Limits, SchemaLog
from harness.dsql_local.peers import RETRY_LOCK_TIMEOUT, Peers
from harness.dsql_local.protocol import Message
from harness.dsql_local.rules import JobLog, Refusal, job, refuse, waits_for_job
from harness.dsql_local.rules import rewrite as rewrite_statement
from harness.dsql_local.session import Session, Status
from harness.dsql_local.statement import Statement, classify

__all__ = ["Relay"]

_PRIVATE_PORTAL = "cutover_dsql_private"
_CHUNK = 64 * 1024  # rows for the client are sent in writes of about this size
# The catalog questions the rules ask; to_regclass/to_regtype never fail, so a lookup cannot
# abort the client's transaction. A key column of a table is one of its primary key's.
_KEY_COLUMN = (
    "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
    " AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass($1) AND i.indisprimary"
    " AND a.attname = $2)"
)
_TYPE_KIND = "SELECT typtype::text FROM pg_type WHERE oid = to_regtype($1)"
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Relay:
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
        self.conflicts = conflicts or ConflictInjector()
        self.peers = peers or Peers(None)
        self.pid = pid
        """The server process of this session (BackendKeyData)."""
        self.busy = asyncio.Lock()
        """Held while a client message is handled, or while another session releases this
        one's locks (peers.py): one user of the server connection at a time."""
        self.open_batch = False
        """An extended batch was flushed to the server and waits for its Sync."""
        self.limits = limits or Limits()
        self.reader, self.writer = client
        self.backend_reader, self.backend_writer = server
        self.backend = wire.MessageStream(self.backend_reader)
        self.jobs = jobs
        self.parameter = parameter
        self.session = Session(self.limits, schema)
        self.queue: deque[Expect] = deque()
        self.batch = Batch()
        self.extended = Extended(self)
        self.private_names: dict[str, str] = {}
        self.pending: list[Message] = []
        self.client_out = bytearray()
        self.server_out = bytearray()
        self.skipping = False

    # -- plumbing ---------------------------------------------------------------------------

    def to_client(self, data: bytes) -> None:
        """Queue bytes for the client; sent in one write per unit (or per 64 KiB of rows)."""
        self.client_out += data
        if len(self.client_out) >= _CHUNK:
            self.send_client()

    def to_server(self, data: bytes) -> None:
        """Queue bytes for the server; sent before the relay waits for its answer."""
        self.server_out += data
        if len(self.server_out) >= _CHUNK:  # COPY data: keep it moving
            self.backend_writer.write(bytes(self.server_out))
            self.server_out.clear()

    def send_client(self) -> None:
        if self.client_out:
            self.writer.write(bytes(self.client_out))
            self.client_out.clear()

    async def send_server(self) -> None:
        if self.server_out:
            self.backend_writer.write(bytes(self.server_out))
            self.server_out.clear()
        await self.backend_writer.drain()

    def expect(self, kind: str, stmt: Statement | None = None, **fields: object) -> Expect:
        entry = Expect(kind, stmt, **fields)  # type: ignore[arg-type]
        self.queue.append(entry)
        return entry

    def synthetic(self, data: bytes) -> None:
        self.queue.append(Expect("synthetic", data=data))

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

    # -- private statements ------------------------------------------------------------------

    def private(self, sql: str, *params: str, like: Expect | None = None) -> Expect:
        """Queue ``sql`` on the server through a named statement and portal of the guard's
        own (the client's unnamed statement and portal are left alone); no Sync.
        ``params`` are text values for ``$1``, ``$2`` …; or ``like``: a client statement
        whose parameter types and bound values ``sql``'s parameters take (a stand-in's)."""
        types = like.types if like is not None else b"\0\0"
        key = sql if types == b"\0\0" else f"{sql}\0{types.hex()}"
        name = self.private_names.get(key)
        if name is None:
            name = f"cutover_dsql_{len(self.private_names)}"
            self.private_names[key] = name
            parse = name.encode() + b"\0" + sql.encode() + b"\0" + types
            self.to_server(wire.message(b"P", parse))
            self.expect("parse", forward=False, private=True)
        portal = _PRIVATE_PORTAL.encode() + b"\0"
        if like is not None:
            values = like.bound
        else:
            values = b"\0\0" + struct.pack("!h", len(params))
            values += b"".join(struct.pack("!i", len(v.encode())) + v.encode() for v in params)
        bind = portal + name.encode() + b"\0" + values
        self.to_server(wire.message(b"B", bind + b"\0\0"))
        self.expect("bind", forward=False, private=True)
        self.to_server(wire.message(b"E", portal + b"\0\0\0\0"))
        entry = self.expect("execute", forward=False, private=True)
        self.to_server(wire.message(b"C", b"P" + portal))
        self.expect("close", forward=False, private=True)
        return entry

    def private_sync(self) -> Expect:
        self.to_server(wire.message(b"S"))
        return self.expect("sync", forward=False, private=True)

    async def lookup(self, sql: str, *params: str, like: Expect | None = None) -> str | None:
        """The first column of the first row ``sql`` returns, asked on the client's own
        connection (its search path, its transaction) between its statements."""
        entry = self.private(sql, *params, like=like)
        self.to_server(wire.message(b"H"))  # Flush: no Sync, so no transaction boundary
        await self.pump(until=lambda: all(e is not entry for e in self.queue))
        return entry.rows[0][0] if entry.rows and entry.rows[0] else None

    async def is_key_column(self, table: str, column: str) -> bool:
        return await self.lookup(_KEY_COLUMN, table, column) == "t"

    async def type_kind(self, name: str) -> str | None:
        return await self.lookup(_TYPE_KIND, name)

    async def role_granted(self, role: str) -> bool:
        return await self.lookup(grants.ROLE_GRANTED, role) == "t"

    async def run_private(self, sql: str) -> Expect:
        """Run ``sql`` privately to completion (with a Sync of its own)."""
        entry = self.private(sql)
        self.private_sync()
        await self.pump()
        return entry

    # -- the response pump --------------------------------------------------------------------

    async def pump(self, until: Callable[[], bool] | None = None) -> None:
        """Answer the client, in order, until the queue is empty (or ``until()``)."""
        await self.send_server()
        while self.queue and not (until and until()):
            head = self.queue[0]
            if head.kind == "synthetic":
                self.queue.popleft()
                if head.forward:
                    self.to_client(head.data)
                continue
            if head.forward and not head.private and head.sent_rows >= head.skip_rows:
                # A result's rows go to the client as they came, in bulk: nothing is decided
                # on a DataRow of the client's own statement (only counted, for stand-ins).
                rows, count = self.backend.data_rows()
                if count:
                    head.sent_rows += count
                    self.to_client(rows)
                    continue
            msg = await self.backend.next()
            await self.on_server(head, msg)

    async def on_server(self, head: Expect, msg: Message) -> None:
        kind = msg.kind
        if kind == b"Z" and head.kind not in ("sync", "query"):
            # The server skipped everything up to this Sync (an error earlier in the batch):
            # so does the queue, or the relay would wait for answers that never come.
            while self.queue and self.queue[0].kind != "sync":
                self.queue.popleft()
            if not self.queue:
                return
            head = self.queue[0]
        if kind == b"S":
            self.to_client(self.parameter(msg))
            return
        if kind in b"NA":
            if kind == b"N":
                head.notices.append(wire.backend_error(msg.body).get("C", ""))
            if head.forward:
                self.to_client(msg.encode())
            return
        if kind == b"E":
            await self.on_server_error(head, msg)
            return
        done = False
        if head.kind == "query":
            if kind in b"TD" and self.stand_in_skips(head, msg):
                return
            if kind == b"Z":
                done = True
            elif kind == b"C":
                await self.on_complete(head, msg)
                return
            elif kind == b"G":
                self.forward(head, msg)
                await self.copy_in(extended=False)
                return
            else:
                self.forward(head, msg)
        elif head.kind == "sync":
            if kind == b"Z":
                head.tag = msg.body.decode()
                done = True
        elif head.kind == "execute":
            if kind == b"D" and head.private:
                head.rows.append(wire.data_values(msg.body))
            elif kind == b"C":
                await self.on_complete(head, msg)
                done = True
            elif kind in b"Is":
                self.forward(head, msg)
                done = True
            elif kind == b"G":
                self.forward(head, msg)
                await self.copy_in(extended=True)
            else:
                self.forward(head, msg)
        elif head.kind == "describe":
            if kind == b"n" and head.stmt is not None and job(head.stmt):
                msg = Message(b"T", wire.row_description(["job_id"])[5:])
            self.forward(head, msg)
            done = kind in b"Tn"
        else:  # parse, bind, close: one message each
            self.forward(head, msg)
            done = True
        if done:
            self.queue.popleft()

    def forward(self, head: Expect, msg: Message) -> None:
        if head.forward:
            self.to_client(msg.encode())

    def stand_in_skips(self, head: Expect, msg: Message) -> bool:
        """Track what a query sent; drop what its stand-in would send twice (occ.py)."""
        if msg.kind == b"T":
            head.described = True
            return head.skip_rows >= 0
        head.sent_rows += 1
        return head.sent_rows <= head.skip_rows

    async def on_complete(self, head: Expect, msg: Message) -> None:
        tag = wire.command_tag(msg.body)
        head.tag = tag
        if tag == "DEALLOCATE ALL":
            # the client's (psycopg sends one after DDL) dropped the guard's private
            # statements too: prepare them again when next used
            self.private_names.clear()
        stmt = head.stmt
        if stmt is not None and head.forward:
            if stmt.writes_rows:
                self.batch.outstanding_writes -= 1
            refusal = self.session.completed(stmt, tag)
            if refusal is not None:
                self.to_client(wire.error_response(refusal.sqlstate, refusal.message))
                self.guard_failed()
                return
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
            iam = grants.parse(stmt)
            if iam is not None:  # the server ran a CALL in its place
                msg = Message(b"C", wire.command_complete(iam.tag)[5:])
        self.forward(head, msg)

    async def on_server_error(self, head: Expect, msg: Message) -> None:
        head.error = wire.backend_error(msg.body)
        code = head.error.get("C")
        if head.occ and occ.meeting(code, head.stmt, in_block=self.session.status is Status.OPEN):
            self.on_blocked(head)
            return
        if head.forward and head.stmt is not None and grants.parse(head.stmt) is not None:
            # the procedure run in its place is not the client's business (no CONTEXT line)
            error = head.error
            self.to_client(wire.error_response(error.get("C", "XX000"), error.get("M", "")))
        elif head.forward:
            self.to_client(msg.encode())
        if not head.private:
            self.batch.failed = True
        if head.kind == "query":
            head.forward = False  # the ReadyForQuery after it is the guard's to send
            return
        # The server skips every message up to Sync: so do we (the guard's own answers too,
        # and the client's messages of this batch not yet relayed).
        self.queue.popleft()
        while self.queue and self.queue[0].kind != "sync":
            self.queue.popleft()
        if not self.queue:
            self.skipping = True

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

    def guard_failed(self) -> None:
        """The guard failed a statement the server ran: silence the rest up to Sync."""
        self.batch.failed = True
        for entry in self.queue:
            if entry.kind == "sync":
                break
            entry.forward = False
        self.skipping = True

    async def copy_in(self, *, extended: bool) -> None:
        """Relay the client's COPY data until CopyDone or CopyFail.

        The server ignores a Sync that reaches it during COPY IN, so after a COPY begun by
        an Execute the client sends one more (libpq does); it answers the Sync already
        waiting in the queue."""
        self.send_client()  # the client waits for CopyInResponse before it sends data
        await self.writer.drain()
        while True:
            msg = await wire.read_message(self.reader)
            if msg.kind in b"dcf":
                if msg.kind == b"d":
                    self.session.pending_bytes += len(msg.body)
                self.to_server(msg.encode())
                if msg.kind in b"cf":
                    if extended:
                        self.to_server((await wire.read_message(self.reader)).encode())
                    await self.send_server()
                    return
            elif msg.kind in b"HS":
                continue  # ignored by the server during COPY IN too
            else:
                raise ValueError(f"unexpected message {msg.kind!r} during COPY")

    # -- the decisions -------------------------------------------------------------------------

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
        small = len(writes) == 1 and (writes[0].static_rows or 10**9) <= 3000
        small = small and writes[0].analysis.payload + carried <= self.limits.write_bytes
        return not small

    # -- the simple query protocol ------------------------------------------------------------

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
