"""The wire-protocol guard: TLS, IAM tokens and DSQL's rules in front of a plain PostgreSQL.

Clients connect as to Aurora DSQL: TLS first (``SSLRequest`` or ``sslnegotiation=direct``,
as :mod:`harness.embedded.tls_front` accepts them), user ``admin`` or a role created ``WITH
LOGIN`` and granted to the IAM principal that signed the token (``AWS IAM GRANT``,
:mod:`harness.dsql_local.grants`), database ``postgres``, an IAM auth token as the password
(:mod:`harness.dsql_local.tokens`), startup parameters from DSQL's allowlist. The guard then
opens its own connection to the server (a unix socket, trust authentication) as that role,
reports the server version DSQL reports, and hands both connections to
:class:`~harness.dsql_local.relay.Relay`, which mediates every message. The server runs
every session at REPEATABLE READ (``default_transaction_isolation``), so
``SHOW transaction_isolation`` answers as DSQL does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path

from harness.dsql_local import occ
from harness.dsql_local import protocol as wire
from harness.dsql_local.conflicts import ConflictInjector
from harness.dsql_local.grants import MAY_LOG_IN
from harness.dsql_local.limits import Limits, SchemaLog
from harness.dsql_local.peers import Peers
from harness.dsql_local.protocol import Message
from harness.dsql_local.relay import Relay
from harness.dsql_local.rules import JobLog, Refusal, refuse_setting
from harness.dsql_local.tokens import REFUSAL, TokenRejected, TokenVerifier

__all__ = ["Guard", "GuardConfig"]

log = logging.getLogger("cutover.dsql_local")

_TLS_HANDSHAKE = b"\x16"
_DATABASE = "postgres"


@dataclass(frozen=True)
class GuardConfig:
    """How a guard answers: where its server is, whom it lets in, what it reports."""

    backend_socket: Path
    """The PostgreSQL unix socket file (``…/.s.PGSQL.5432``); trust authentication."""
    cert_file: Path
    key_file: Path
    verifier: TokenVerifier
    server_version: str = "16.15"
    """What ``server_version`` is reported as (DSQL said 16.15 on 2026-09-15)."""
    backend_database: str = _DATABASE
    host: str = "127.0.0.1"
    port: int = 0
    limits: Limits = field(default_factory=Limits)
    """DSQL's transaction and connection quotas (limits.py); tests shorten the ages."""


class Guard:
    """A listening local-DSQL guard; :meth:`start` runs it in a daemon thread."""

    def __init__(
        self, config: GuardConfig, jobs: JobLog | None = None, *, superuser: str | None = None
    ) -> None:
        """``superuser``: a conninfo of the server's superuser, for watching lock waits
        (:mod:`harness.dsql_local.peers`); without it a wait is never cut short."""
        self.config = config
        self.jobs = jobs
        self.conflicts = ConflictInjector()
        self.schema = SchemaLog()
        self.peers = Peers(superuser)
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(config.cert_file), str(config.key_file))
        self._context.set_alpn_protocols(["postgresql"])
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._acceptor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Guard:
        """Listen in a daemon thread; returns once the port is bound."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="dsql-local-guard", daemon=True
        )
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.listen(), self._loop)
        future.result(timeout=10)
        return self

    async def listen(self) -> None:
        """Bind the port (``config.port``, 0 for a free one) and accept in the running loop."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        sock.listen(128)
        sock.setblocking(False)
        self._listener = sock
        self.port = sock.getsockname()[1]
        self._acceptor = asyncio.get_running_loop().create_task(self._accept_loop(sock))

    async def _accept_loop(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            conn, _ = await loop.sock_accept(listener)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._connection(conn))

    async def _connection(self, conn: socket.socket) -> None:
        """Peek at the first byte: a TLS ClientHello (direct TLS) or a startup packet."""
        loop = asyncio.get_running_loop()
        writer: asyncio.StreamWriter | None = None
        try:
            direct = await _peek(loop, conn) == _TLS_HANDSHAKE
            reader = asyncio.StreamReader(limit=2**20)
            opened: asyncio.Future[asyncio.StreamWriter] = loop.create_future()
            # A connected-callback marks the protocol server-side, so start_tls later does
            # the server half of the handshake (as in harness.embedded.tls_front).
            protocol = asyncio.StreamReaderProtocol(reader, lambda _, w: opened.set_result(w))
            await loop.connect_accepted_socket(
                lambda: protocol, conn, ssl=self._context if direct else None
            )
            writer = await opened
        except (OSError, ssl.SSLError):
            conn.close()
            return
        await self.serve(reader, writer, direct=direct)

    def stop(self) -> None:
        """Close the listener and every connection; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._acceptor] if self._acceptor else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._listener is not None:
            self._listener.close()
        if self.jobs is not None:
            await self.jobs.close()
        await self.peers.close()

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one connection -----------------------------------------------------------------------

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, direct: bool
    ) -> None:
        """TLS negotiation, startup, authentication, then the session."""
        try:
            if not direct:
                tls = await self._negotiate(reader, writer)
                if tls is None:
                    return
            startup = await wire.read_startup(reader)
            if startup.code == wire.CANCEL_REQUEST:
                await self._forward_cancel(startup)
                return
            if startup.code != wire.PROTOCOL_3:
                await _fatal(writer, "0A000", "unsupported frontend protocol")
                return
            connection = await self._authenticate(reader, writer, startup.params)
            if connection is not None:
                await connection.run()
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, ValueError):
            pass  # the client went away or spoke nonsense: nothing more to say to it
        except asyncio.CancelledError:
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                # A TLS close is a short exchange of its own: let it finish, so a guard stopped
                # right after its last client leaves no socket half closed.
                await asyncio.wait_for(writer.wait_closed(), timeout=1)

    async def _negotiate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool | None:
        """Answer SSLRequest (and decline GSSAPI); refuse clients that skip TLS."""
        head = await reader.readexactly(8)
        code = struct.unpack("!ii", head)[1]
        if code == wire.GSSENC_REQUEST:
            writer.write(b"N")
            await writer.drain()
            head = await reader.readexactly(8)
            code = struct.unpack("!ii", head)[1]
        if code != wire.SSL_REQUEST:
            await _fatal(writer, "28000", "connection refused: TLS is required")
            return None
        writer.write(b"S")
        await writer.drain()
        await writer.start_tls(self._context)
        return True

    async def _forward_cancel(self, startup: wire.Startup) -> None:
        _, writer = await asyncio.open_unix_connection(str(self.config.backend_socket))
        body = struct.pack("!i", wire.CANCEL_REQUEST) + startup.raw
        writer.write(struct.pack("!i", len(body) + 4) + body)
        await writer.drain()
        writer.close()

    async def _authenticate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, params: dict[str, str]
    ) -> Relay | None:
        user = params.get("user", "")
        database = params.get("database") or user
        writer.write(wire.authentication(3))  # AuthenticationCleartextPassword
        await writer.drain()
        reply = await wire.read_message(reader)
        if reply.kind != b"p":
            await _fatal(writer, "08P01", "expected a password message")
            return None
        password = reply.body.rstrip(b"\0").decode(errors="replace")
        try:
            if user == "postgres" or user.startswith("pg_"):
                raise TokenRejected(f"role {user!r} is the server's own, not DSQL's")
            principal = self.config.verifier.verify(password, user)
        except TokenRejected as exc:
            log.info("refused %s: %s", user or "(no user)", exc.reason)
            await _fatal(writer, *REFUSAL)
            return None
        if database != _DATABASE:
            await _fatal(writer, "3D000", f'database "{database}" does not exist')
            return None
        startup = {"user": user, "database": self.config.backend_database}
        for name, value in params.items():
            if name in ("user", "database", "replication"):
                continue
            refusal = _refuse_options(value) if name == "options" else refuse_setting(name)
            if refusal is not None:
                await _fatal(writer, refusal.sqlstate, refusal.message)
                return None
            startup[name] = value
        server_options = (
            " -c default_transaction_isolation=repeatable\\ read"
            f" -c lock_timeout={occ.LOCK_TIMEOUT}"  # DSQL never waits on a lock (occ.py)
        )
        startup["options"] = (startup.get("options", "") + server_options).strip()
        backend_reader, backend_writer = await asyncio.open_unix_connection(
            str(self.config.backend_socket)
        )
        try:  # until the relay owns it: a client gone mid-login must not leak it
            backend_writer.write(wire.startup_message(startup))
            await backend_writer.drain()
            # The server's answer (AuthenticationOk, parameters, key, ready) goes to the client,
            # with the version DSQL reports, once the role may log in; a FATAL (no such role, no
            # LOGIN) goes as it is.
            answer = bytearray()
            pid = 0
            while True:
                msg = await wire.read_message(backend_reader)
                if msg.kind == b"E":
                    writer.write(msg.encode())
                    await writer.drain()
                    backend_writer.close()
                    return None
                answer += self._parameter(msg) if msg.kind == b"S" else msg.encode()
                if msg.kind == b"K":
                    pid = struct.unpack("!i", msg.body[:4])[0]
                if msg.kind == b"Z":
                    break
            if user != "admin" and not await _granted(backend_reader, backend_writer, principal):
                # DSQL: a role logs in only for a principal it was granted to (AWS IAM GRANT)
                log.info("refused %s: role not granted to %s (AWS IAM GRANT)", user, principal)
                backend_writer.close()
                await _fatal(writer, *REFUSAL)
                return None
            writer.write(bytes(answer))
            await writer.drain()
        except BaseException:
            backend_writer.close()
            raise
        return Relay(
            (reader, writer),
            (backend_reader, backend_writer),
            jobs=self.jobs,
            parameter=self._parameter,
            conflicts=self.conflicts,
            limits=self.config.limits,
            schema=self.schema,
            peers=self.peers,
            pid=pid,
        )

    def _parameter(self, msg: Message) -> bytes:
        name = msg.body.split(b"\0", 1)[0]
        if name == b"server_version":
            return wire.parameter_status("server_version", self.config.server_version)
        return msg.encode()


async def _peek(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> bytes:
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(sock.fileno(), ready)
    try:
        await readable
    finally:
        loop.remove_reader(sock.fileno())
    return sock.recv(1, socket.MSG_PEEK)


async def _granted(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, principal: str
) -> bool:
    """Whether the session's role was granted to ``principal``, asked on its own new server
    connection (an ARN of the guard's own configuration, quoted); an error is a no."""
    literal = "'" + principal.replace("'", "''") + "'"
    query = MAY_LOG_IN.replace("$1", literal)
    writer.write(wire.message(b"Q", query.encode() + b"\0"))
    await writer.drain()
    granted = failed = False
    while True:
        msg = await wire.read_message(reader)
        if msg.kind == b"D":
            granted = wire.data_values(msg.body) == ["t"]
        elif msg.kind == b"E":
            failed = True
        elif msg.kind == b"Z":
            return granted and not failed


async def _fatal(writer: asyncio.StreamWriter, sqlstate: str, text: str) -> None:
    writer.write(wire.error_response(sqlstate, text, severity="FATAL"))
    await writer.drain()


def _refuse_options(options: str) -> Refusal | None:
    """Each ``-c name=value`` / ``--name=value`` of the startup ``options`` against the list."""
    parts = options.replace("\\ ", "\0").split()
    at = 0
    while at < len(parts):
        part = parts[at]
        setting = None
        if part == "-c" and at + 1 < len(parts):
            setting = parts[at + 1]
            at += 1
        elif part.startswith(("-c", "--")):
            setting = part[2:]
        at += 1
        if setting:
            refusal = refuse_setting(setting.split("=", 1)[0].replace("-", "_"))
            if refusal is not None:
                return refusal
    return None
