"""The extended query protocol: Parse, Bind, Describe, Execute, Close, up to Sync or Flush.

A refused ``Parse`` fails and the rest of the batch is skipped up to ``Sync``, as a server
skips after an error; a statement's transaction rules are checked at its ``Execute``. One
batch outside a transaction block is one implicit transaction, as PostgreSQL runs it: when
it may write more than it says, it runs inside a server transaction of the relay's (see
:mod:`harness.dsql_local.relay`). In a failed block, the end of the block (``COMMIT`` or
``ROLLBACK``) is answered by the relay itself (:class:`~harness.dsql_local.expect.Fake`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.dsql_local import occ
from harness.dsql_local import protocol as wire
from harness.dsql_local.expect import Fake
from harness.dsql_local.protocol import Message
from harness.dsql_local.rules import Refusal, refuse, waits_for_job
from harness.dsql_local.rules import rewrite as rewrite_statement
from harness.dsql_local.session import ABORTED, Status
from harness.dsql_local.statement import Statement, classify

if TYPE_CHECKING:
    from harness.dsql_local.relay import Relay

__all__ = ["Extended"]


class Extended:
    """One session's extended-protocol state: its prepared statements and portals."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        # What each prepared statement and portal will run: a Statement, a Fake the relay
        # answers itself, or None (an empty query, or a name the server will refuse).
        self.statements: dict[str, Statement | Fake | None] = {}
        self.portals: dict[str, Statement | Fake | None] = {}
        self.binds: dict[str, Message] = {}
        """The Bind of each portal, to run its statement again (peers.py)."""
        self.types: dict[str, bytes] = {}
        """The parameter types each prepared statement was parsed with (for its stand-in)."""

    async def run(self, batch: list[Message]) -> None:
        """One batch of extended-protocol messages, ending with Sync or Flush."""
        relay = self.relay
        if relay.session.status is Status.IDLE and relay.session.txn is None:
            executes = self.batch_statements(batch)
            carried = sum(len(m.body) for m in batch if m.kind == b"B")
            if relay.needs_wrap(executes, carried):
                relay.private("BEGIN")
                relay.session.begin(explicit=False)
        for msg in batch:
            await self.message(msg)

    def batch_statements(self, batch: list[Message]) -> list[Statement]:
        """The statements the batch's Executes will run (before a BEGIN of the client's)."""
        statements = {k: v for k, v in self.statements.items() if isinstance(v, Statement)}
        portals = {k: v for k, v in self.portals.items() if isinstance(v, Statement)}
        out: list[Statement] = []
        for msg in batch:
            if msg.kind == b"P":
                name, sql = wire.parse_message(msg.body)
                statements[name] = classify(sql)
            elif msg.kind == b"B":
                portal, name = wire.bind_names(msg.body)
                if name in statements:
                    portals[portal] = statements[name]
            elif msg.kind == b"E":
                stmt = portals.get(wire.execute_portal(msg.body))
                if stmt is None:
                    continue
                if stmt.begins or stmt.ends_transaction:
                    break
                out.append(stmt)
        return out

    async def message(self, msg: Message) -> None:
        relay = self.relay
        kind = msg.kind
        if kind == b"S":
            relay.to_server(msg.encode())
            relay.expect("sync")
            relay.skipping = False
            await relay.pump()
            blocked = relay.batch.blocked
            if blocked is not None and blocked.stmt is not None:
                if relay.batch.blocked_alone and relay.stands_in(blocked.stmt):
                    await relay.stand_in(blocked.stmt, rows=None, bound=blocked)
                elif relay.batch.blocked_alone and blocked.resend:
                    await relay.preempt(blocked.stmt, blocked, blocked.resend)
                else:  # later statements of the batch were skipped: fail it, as at COMMIT
                    relay.refused(occ.CONFLICT)
                    await relay.pump()
            status = await relay.finish()
            relay.to_client(wire.ready_for_query(status))
            return
        if kind == b"H":
            relay.to_server(msg.encode())
            await relay.pump()
            return
        if relay.skipping:
            return  # discarded up to Sync, as the server does after an error
        if kind == b"P":
            await self.on_parse(msg)
        elif kind == b"B":
            portal, name = wire.bind_names(msg.body)
            target = self.statements.get(name)
            self.portals[portal] = target
            self.binds[portal] = msg
            if isinstance(target, Statement) and target.writes_rows:
                relay.session.pending_bytes += len(msg.body)  # its values are data written
            if isinstance(target, Fake):
                relay.synthetic(wire.message(b"2"))
            else:
                relay.to_server(msg.encode())
                relay.expect("bind")
        elif kind == b"D":
            which, name = wire.describe_target(msg.body)
            source = self.statements if which == b"S" else self.portals
            if isinstance(source.get(name), Fake):
                if which == b"S":
                    relay.synthetic(wire.message(b"t", b"\0\0"))
                relay.synthetic(wire.message(b"n"))
            else:
                target = source.get(name)
                relay.to_server(msg.encode())
                relay.expect("describe", target if isinstance(target, Statement) else None)
        elif kind == b"C":
            which, name = wire.describe_target(msg.body)
            source = self.statements if which == b"S" else self.portals
            if which != b"S":
                self.binds.pop(name, None)
            if isinstance(source.pop(name, None), Fake):
                relay.synthetic(wire.message(b"3"))
            else:
                relay.to_server(msg.encode())
                relay.expect("close")
        elif kind == b"E":
            await self.on_execute(msg)

    async def on_parse(self, msg: Message) -> None:
        relay = self.relay
        name, sql = wire.parse_message(msg.body)
        stmt = classify(sql) if sql.strip() else None
        if stmt is not None and relay.session.status is Status.FAILED and stmt.ends_transaction:
            self.statements[name] = Fake()
            relay.synthetic(wire.message(b"1"))
            return
        if stmt is not None:
            failed = relay.session.status is Status.FAILED
            refusal = await (_aborted(stmt) if failed else refuse(stmt, relay))
            if refusal is not None:
                relay.refused(refusal)
                relay.skipping = True
                return
            text = rewrite_statement(stmt)
            if text != sql:
                body = msg.body
                rest = body[body.index(b"\0") + 1 :]
                rest = rest[rest.index(b"\0") + 1 :]
                msg = Message(b"P", name.encode() + b"\0" + text.encode() + b"\0" + rest)
        self.statements[name] = stmt
        self.types[name] = wire.parse_types(msg.body)
        relay.to_server(msg.encode())
        relay.expect("parse")

    async def on_execute(self, msg: Message) -> None:
        relay = self.relay
        portal = wire.execute_portal(msg.body)
        target = self.portals.get(portal)
        session = relay.session
        if isinstance(target, Fake):
            relay.synthetic(wire.command_complete("ROLLBACK"))
            session.end()
            return
        stmt = target
        if stmt is None:  # an unknown portal: the server says so
            relay.to_server(msg.encode())
            relay.expect("execute")
            return
        if session.status is Status.FAILED:
            relay.refused(ABORTED)
            relay.skipping = True
            return
        if (stmt.begins or stmt.ends_transaction) and relay.queue:
            # A pipelined batch: whether this boundary is reached at all depends on what ran
            # before it in the batch (the server skips to Sync after an error), and so does
            # what it ends (rows written may cross the limit). Know before moving the session.
            relay.to_server(wire.message(b"H"))
            await relay.pump()
            if relay.skipping:
                return
        if stmt.begins:
            if session.implicit:
                session.begin(explicit=True, text=stmt.text)
                relay.synthetic(wire.command_complete("BEGIN"))
                return
            session.begin(explicit=True, text=stmt.text)
        elif stmt.commits and (loss := relay.commit_refusal(session)) is not None:
            await relay.run_private("ROLLBACK")
            session.end()
            relay.refused(loss)
            relay.skipping = True
            return
        elif stmt.ends_transaction:
            if stmt.commits:
                session.committed(stmt)
            session.end()
        else:
            refusal = session.check(stmt)
            if refusal is not None:
                relay.refused(refusal)
                relay.skipping = True
                return
            session.ran(stmt)
        if stmt.writes_rows:
            relay.batch.outstanding_writes += 1
        if relay.jobs is not None and waits_for_job(stmt):
            await relay.jobs.finish_all()
        guard, savepoint = relay.guarding(stmt)
        if savepoint:
            relay.private(f"SAVEPOINT {occ.SAVEPOINT}")
        relay.to_server(msg.encode())
        bind = self.binds.get(portal)
        # run again: its portal closed first (a named one may outlive the failure), re-bound
        close = wire.message(b"C", b"P" + portal.encode() + b"\0")
        resend = close + bind.encode() + msg.encode() if bind is not None else b""
        entry = relay.expect("execute", stmt, occ=guard, savepoint=savepoint, resend=resend)
        if bind is not None:
            entry.bound = wire.bind_parameters(bind.body)
            entry.types = self.types.get(wire.bind_names(bind.body)[1], b"\0\0")


async def _aborted(stmt: Statement) -> Refusal | None:
    return None if stmt.ends_transaction else ABORTED
