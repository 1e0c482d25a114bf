"""A TLS front for an embedded PostgreSQL: real TLS on the wire, the server's own auth behind it.

The ``pgserver`` wheel's PostgreSQL is built without OpenSSL, so ``ssl=on`` cannot be set on
it. Aurora behind RDS Proxy, and DSQL, are reached over TLS, and the harness must prove that
``sslmode=require`` and ``verify-full`` really work; so this front answers PostgreSQL's
``SSLRequest`` with ``S``, completes the TLS handshake with a certificate it is given, and then
relays bytes to the plain server unchanged — the server still checks the password (SCRAM), so
a wrong secret still fails authentication. Like RDS Proxy, it terminates TLS.

``require_tls=True`` refuses clients that skip TLS with the error a TLS-only server sends
(``28000``), as DSQL does. GSSAPI encryption requests are declined (``N``), as libpq expects.
It runs an asyncio loop in one daemon thread; :meth:`TlsFront.stop` closes every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
import threading
from pathlib import Path

__all__ = ["TlsFront"]

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
        self._require_tls = require_tls
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def start(self) -> TlsFront:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=10)
        return self

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
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
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # the client went away or failed its handshake: nothing to relay
        except asyncio.CancelledError:
            pass  # stop(): end quietly (asyncio's stream callback would log a cancelled task)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
