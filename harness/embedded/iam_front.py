"""An Aurora/RDS Proxy stand-in with IAM database authentication: TLS, a token as password.

Clients connect as to an Aurora PostgreSQL writer or an RDS Proxy with IAM authentication
required: TLS first (:class:`~harness.embedded.tls_front.TlsFront` with ``require_tls``, both
``SSLRequest`` and direct TLS), then the password is asked for in clear text (inside TLS, as
RDS does for IAM) and must be an ``rds-db:connect`` token for this endpoint's ``host:port``,
the user logging in and the server's AWS credentials: the same SigV4 verifier the local DSQL
uses (:meth:`harness.dsql_local.tokens.TokenVerifier.for_rds`), so a wrong key, another user,
host or port, or an expired token is refused with RDS's words; and, as on RDS, the user must
be a member of the role ``rds_iam``. Only then does the front log in
to the real PostgreSQL behind it, as that user, over the server's unix socket (trust: the
token was the authentication) and relay the session byte for byte.

The front is bound before the verifier is made: the port is part of what a token is signed
for, and a free port is only known once bound. ``cutover aurora-iam serve``
(:mod:`harness.embedded.iam_command`) serves one on a plan's port for an application.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from pathlib import Path

from harness.dsql_local import protocol as wire
from harness.dsql_local.tokens import SigningIdentity, TokenRejected, TokenVerifier
from harness.embedded.tls_front import TlsFront

__all__ = ["IamFront"]

log = logging.getLogger("cutover.iam_front")


class IamFront(TlsFront):
    """Listen on 127.0.0.1, require TLS and an RDS IAM token, relay to ``backend_socket``."""

    def __init__(
        self,
        hostname: str,
        region: str,
        identity: SigningIdentity,
        *,
        backend_socket: Path,
        cert_file: Path,
        key_file: Path,
        superuser: str = "postgres",
        port: int = 0,
    ) -> None:
        super().__init__(("127.0.0.1", 0), cert_file=cert_file, key_file=key_file, require_tls=True)
        # Bound here, in the caller's thread: a port in use is an OSError the caller sees now.
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self.hostname = hostname
        self.region = region
        self._identity = identity
        self._socket = backend_socket
        self._superuser = superuser
        self._verifier: TokenVerifier | None = None

    def start(self) -> IamFront:
        super().start()
        self._verifier = TokenVerifier.for_rds(
            self.hostname, self.port, self.region, self._identity
        )
        return self

    async def _listen(self) -> int:
        # TlsFront's, but on the socket bound in __init__ (on the port asked for)
        self._listener.listen(64)
        self._listener.setblocking(False)
        self._acceptor = self._loop.create_task(self._accept_loop())
        port: int = self._listener.getsockname()[1]
        return port

    async def _relay(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        startup = await wire.read_startup(reader, head)
        if startup.code == wire.CANCEL_REQUEST:
            _, backend = await asyncio.open_unix_connection(str(self._socket))
            body = struct.pack("!i", wire.CANCEL_REQUEST) + startup.raw
            backend.write(struct.pack("!i", len(body) + 4) + body)
            await backend.drain()
            backend.close()
            return
        if startup.code != wire.PROTOCOL_3:
            writer.write(
                wire.error_response("0A000", "unsupported frontend protocol", severity="FATAL")
            )
            await writer.drain()
            return
        user = startup.params.get("user", "")
        writer.write(wire.authentication(3))  # AuthenticationCleartextPassword, inside TLS
        await writer.drain()
        reply = await wire.read_message(reader)
        password = reply.body.rstrip(b"\0").decode(errors="replace") if reply.kind == b"p" else ""
        try:
            assert self._verifier is not None  # start() made it before accepting
            self._verifier.verify(password, user)
            await asyncio.to_thread(self._granted_rds_iam, user)
        except TokenRejected as exc:
            log.info("refused %s: %s", user or "(no user)", exc.reason)
            # RDS's words for a refused IAM token (the reason stays in this server's log)
            writer.write(
                wire.error_response(
                    "28P01", f'PAM authentication failed for user "{user}"', severity="FATAL"
                )
            )
            await writer.drain()
            return
        backend_reader, backend_writer = await asyncio.open_unix_connection(str(self._socket))
        try:
            backend_writer.write(wire.startup_message(startup.params))
            await backend_writer.drain()
            await asyncio.gather(
                self._pump(reader, backend_writer), self._pump(backend_reader, writer)
            )
        finally:
            backend_writer.close()

    def _granted_rds_iam(self, user: str) -> None:
        """RDS lets a user in with a token only when it is a member of ``rds_iam``."""
        import psycopg

        port = int(self._socket.name.rsplit(".", 1)[1])
        try:
            with psycopg.connect(
                host=str(self._socket.parent), port=port, user=self._superuser, dbname="postgres"
            ) as conn:
                row = conn.execute(
                    "SELECT pg_has_role(r.oid, 'rds_iam', 'MEMBER') FROM pg_roles r"
                    " WHERE r.rolname = %s",
                    (user,),
                ).fetchone()
        except psycopg.Error as exc:  # no rds_iam role at all: nobody may use IAM here
            raise TokenRejected(f"cannot check rds_iam: {exc.sqlstate}") from None
        if row is None or not row[0]:
            raise TokenRejected(f"role {user!r} is not granted rds_iam")
