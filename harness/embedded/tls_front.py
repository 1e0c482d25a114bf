"""A TLS front for an embedded PostgreSQL: real TLS on the wire, the server's own auth behind it.

The ``pgserver`` wheel's PostgreSQL is built without OpenSSL, so ``ssl=on`` cannot be set on
it. Aurora behind RDS Proxy, and DSQL, are reached over TLS, and the harness must prove that
``sslmode=require`` and ``verify-full`` really work; so this front answers PostgreSQL's
``SSLRequest`` with ``S``, completes the TLS handshake with a certificate it is given, and then
relays bytes to the plain server unchanged — the server still checks the password (SCRAM), so
a wrong secret still fails authentication. Like RDS Proxy, it terminates TLS.

Both ways into TLS work: PostgreSQL's ``SSLRequest`` and ``sslnegotiation=direct`` (a TLS
ClientHello from the first byte, ALPN ``postgresql``, as AWS's DSQL connectors use); the first
byte is peeked to tell them apart. ``require_tls=True`` refuses clients that skip TLS with
the error a TLS-only server sends (``28000``), as DSQL does. GSSAPI encryption requests are
declined (``N``), as libpq expects. It runs an asyncio loop in one daemon thread;
:meth:`TlsFront.stop` closes every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
from pathlib import Path

__all__ = ["TlsFront"]

_TLS_HANDSHAKE = b"\x16"  # the first byte of a TLS record carrying a ClientHello
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_CHUNK = 64 * 1024


def _fatal(sqlstate: str, message: str) -> bytes:
    """A PostgreSQL ErrorResponse message (severity FATAL)."""
    fields = b"".join(
        tag + value.encode() + b"\0"
        for tag, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


class TlsFront:
    """Listen on 127.0.0.1 (a free port), terminate TLS, relay to ``backend``."""

    def __init__(
        self,
        backend: tuple[str, int],
        *,
        cert_file: Path,
        key_file: Path,
        require_tls: bool = False,
    ) -> None:
        self._backend = backend
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(cert_file), str(key_file))
        self._context.set_alpn_protocols(["postgresql"])  # libpq 17+ insists on it when direct
        self._require_tls = require_tls
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._acceptor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def start(self) -> TlsFront:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=10)
        return self

    async def _listen(self) -> int:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self._acceptor = self._loop.create_task(self._accept_loop())
        port: int = self._listener.getsockname()[1]
        return port

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _close(self) -> None:
        tasks = [*self._tasks, *([self._acceptor] if self._acceptor else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._listener.close()

    async def _accept_loop(self) -> None:
        while True:
            conn, _ = await self._loop.sock_accept(self._listener)
            # As asyncio.start_server does: small protocol messages must not wait for Nagle.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = self._loop.create_task(self._connection(conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _connection(self, conn: socket.socket) -> None:
        writer: asyncio.StreamWriter | None = None
        try:
            direct = await self._opens_with_tls(conn)
            reader = asyncio.StreamReader()
            opened: asyncio.Future[asyncio.StreamWriter] = self._loop.create_future()
            # A connected-callback marks the protocol server-side: StreamWriter.start_tls then
            # does the server half of the handshake (as asyncio.start_server's streams do).
            protocol = asyncio.StreamReaderProtocol(reader, lambda _, w: opened.set_result(w))
            await self._loop.connect_accepted_socket(
                lambda: protocol, conn, ssl=self._context if direct else None
            )
            writer = await opened
            await self._serve(reader, writer, negotiated=direct)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # the client went away or failed its handshake: nothing to relay
        except asyncio.CancelledError:
            pass  # stop(): end quietly
        finally:
            if writer is not None:
                writer.close()
            else:
                conn.close()

    async def _opens_with_tls(self, conn: socket.socket) -> bool:
        """Whether the client starts with a TLS ClientHello (``sslnegotiation=direct``) rather
        than PostgreSQL's SSLRequest; peeks, so the bytes stay for whoever reads next."""
        readable: asyncio.Future[None] = self._loop.create_future()

        def ready() -> None:
            if not readable.done():
                readable.set_result(None)

        self._loop.add_reader(conn.fileno(), ready)
        try:
            await readable
        finally:
            self._loop.remove_reader(conn.fileno())
        return conn.recv(1, socket.MSG_PEEK) == _TLS_HANDSHAKE

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, negotiated: bool
    ) -> None:
        if negotiated:  # direct TLS: the startup message follows the handshake at once
            await self._relay(reader, writer, b"")
            return
        head = await reader.readexactly(8)
        code = struct.unpack("!ii", head)[1]
        if code == _GSSENC_REQUEST:
            writer.write(b"N")
            await writer.drain()
            head = await reader.readexactly(8)
            code = struct.unpack("!ii", head)[1]
        if code == _SSL_REQUEST:
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self._context)
            head = b""
        elif self._require_tls:
            writer.write(_fatal("28000", "connection refused: TLS is required"))
            await writer.drain()
            return
        await self._relay(reader, writer, head)

    async def _relay(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        backend_reader, backend_writer = await asyncio.open_connection(*self._backend)
        try:
            backend_writer.write(head)
            await asyncio.gather(
                self._pump(reader, backend_writer), self._pump(backend_reader, writer)
            )
        finally:
            backend_writer.close()

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(_CHUNK):
                sink.write(chunk)
                await sink.drain()
        finally:
            with contextlib.suppress(Exception):
                if sink.can_write_eof():
                    sink.write_eof()
                else:
                    sink.close()
