"""The wire side of a session: the client's messages and the server's answers, kept in order.

Nothing here decides what DSQL answers; this is how decisions reach the wire. Bytes for either
side are buffered and sent a unit at a time (rows in writes of about 64 KiB). What the client's
stream waits for is one queue of :class:`~harness.dsql_local.expect.Expect`, the server's
answers and the guard's own (synthetic) alike, so both keep the client's order; each server
message is matched to the queue's head and forwarded, dropped (private statements, what the
server skipped after an error) or reshaped where DSQL's answer differs (an ``ASYNC``
statement's job id, a procedure run in a statement's place). Private statements are the
guard's own named statement and portal on the client's connection, pipelined with its
messages, so a lookup sees the client's search path and transaction.

What an answer means for DSQL the layers above say through two hooks: a meeting with another
transaction's lock (:meth:`Pump.lock_met`, :mod:`harness.dsql_local.arbiter`) and a client
statement's completion (:meth:`Pump.statement_completed`, :mod:`harness.dsql_local.relay`).
"""

from __future__ import annotations

import abc
import asyncio
import struct
from collections import deque
from collections.abc import Callable

from harness.dsql_local import grants
from harness.dsql_local import protocol as wire
from harness.dsql_local.expect import Batch, Expect
from harness.dsql_local.protocol import Message
from harness.dsql_local.rules import job
from harness.dsql_local.session import Session
from harness.dsql_local.statement import Statement

__all__ = ["Pump", "Streams"]

_PRIVATE_PORTAL = "cutover_dsql_private"
_CHUNK = 64 * 1024  # rows for the client are sent in writes of about this size
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Pump(abc.ABC):
    """The client's streams and its server connection's, and the queue of answers between."""

    def __init__(
        self,
        client: Streams,
        server: Streams,
        *,
        parameter: Callable[[Message], bytes],
        session: Session,
    ) -> None:
        self.busy = asyncio.Lock()
        """Held while a client message is handled, or while another session releases this
        one's locks (peers.py): one user of the server connection at a time."""
        self.open_batch = False
        """An extended batch was flushed to the server and waits for its Sync."""
        self.reader, self.writer = client
        self.backend_reader, self.backend_writer = server
        self.backend = wire.MessageStream(self.backend_reader)
        self.parameter = parameter
        """How a server's ParameterStatus reaches the client (the version DSQL reports)."""
        self.session = session
        """Only for the COPY data a writing statement carries (its size counts, session.py)."""
        self.queue: deque[Expect] = deque()
        self.batch = Batch()
        self.private_names: dict[str, str] = {}
        self.client_out = bytearray()
        self.server_out = bytearray()
        self.skipping = False

    # -- what the layers above decide ----------------------------------------------------------

    @abc.abstractmethod
    def lock_met(self, head: Expect) -> bool:
        """``head`` failed, its error in ``head.error``: whether that was a meeting with
        another transaction that DSQL settles at COMMIT, taken over (occ.py); then nothing of
        the error reaches the client."""

    @abc.abstractmethod
    async def statement_completed(self, head: Expect, stmt: Statement, tag: str) -> bool:
        """The client's ``stmt`` completed with ``tag``, its CommandComplete not yet sent;
        False when the guard fails it here (its answer already queued for the client)."""

    # -- plumbing ------------------------------------------------------------------------------

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

    # -- private statements --------------------------------------------------------------------

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

    async def run_private(self, sql: str) -> Expect:
        """Run ``sql`` privately to completion (with a Sync of its own)."""
        entry = self.private(sql)
        self.private_sync()
        await self.pump()
        return entry

    # -- the response pump ---------------------------------------------------------------------

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
            if not await self.statement_completed(head, stmt, tag):
                return
            iam = grants.parse(stmt)
            if iam is not None:  # the server ran a CALL in its place
                msg = Message(b"C", wire.command_complete(iam.tag)[5:])
        self.forward(head, msg)

    async def on_server_error(self, head: Expect, msg: Message) -> None:
        head.error = wire.backend_error(msg.body)
        if self.lock_met(head):
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
