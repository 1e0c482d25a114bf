"""A local Aurora DSQL: an embedded PostgreSQL 16 with the guard in front of it.

::

    with DsqlLocal() as dsql:                      # credentials from botocore's chain
        conninfo = dsql.conninfo("admin", password=dsql.token("admin"))
        psycopg.connect(conninfo)                  # TLS, IAM token, DSQL's rules

The cluster's endpoint name is shaped like a real one (``<id>.dsql.<region>.on.aws``); clients
reach it on 127.0.0.1 through ``hostaddr`` and sign tokens for the name, exactly as for a real
cluster. The server behind it is a socket-only :class:`~harness.embedded.provision.
PostgresCluster` (nothing listens on TCP but the guard), with role ``admin`` owning database
``postgres`` and its ``public`` schema, as on DSQL.
"""

from __future__ import annotations

import secrets
import string
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo

from harness.dsql_local.catalog import ServerJobLog
from harness.dsql_local.conflicts import ConflictInjector
from harness.dsql_local.grants import IAM_SETUP
from harness.dsql_local.guard import Guard, GuardConfig
from harness.dsql_local.limits import Limits
from harness.dsql_local.tokens import SigningIdentity, TokenVerifier
from harness.embedded.provision import PostgresCluster, self_signed_certificate
from harness.errors import ProvisionError

__all__ = ["DsqlLocal", "endpoint_region"]

_SETUP = (
    "CREATE ROLE admin WITH LOGIN CREATEROLE",
    "ALTER DATABASE postgres OWNER TO admin",
    "ALTER SCHEMA public OWNER TO admin",
    # DSQL's job log and its wait procedure (columns and errors as recorded; the guard
    # writes a row for every ASYNC statement, built at once, so every job is completed).
    "CREATE SCHEMA sys",
    "CREATE TABLE sys.jobs (job_id text PRIMARY KEY, status text NOT NULL, details text,"
    " job_type text NOT NULL, class_id oid, object_id oid, object_name text,"
    " start_time timestamptz NOT NULL DEFAULT now(), update_time timestamptz)",
    "CREATE PROCEDURE sys.wait_for_job(job text) LANGUAGE plpgsql AS $$ BEGIN"
    " IF job !~ '^[a-z2-7]{26}$' THEN"
    "  RAISE EXCEPTION 'Unable to convert text to UUID' USING ERRCODE = '22P02'; END IF;"
    " IF NOT EXISTS (SELECT 1 FROM sys.jobs WHERE job_id = job) THEN"
    "  RAISE EXCEPTION 'job % not found', job USING ERRCODE = 'P0002'; END IF;"
    " END $$",
    "GRANT USAGE ON SCHEMA sys TO PUBLIC",
    "GRANT SELECT ON sys.jobs TO PUBLIC",
    *IAM_SETUP,
)
_ID_ALPHABET = string.ascii_lowercase + string.digits


def endpoint_region(endpoint: str) -> str:
    """The region a DSQL endpoint name carries (``<id>.dsql.<region>.on.aws``)."""
    parts = endpoint.lower().split(".")
    if len(parts) != 5 or parts[1] != "dsql" or parts[3:] != ["on", "aws"] or not parts[0]:
        raise ProvisionError(
            f"{endpoint!r} is not a DSQL endpoint name; fix: use <id>.dsql.<region>.on.aws"
        )
    return parts[2]


class DsqlLocal:
    """An ephemeral local DSQL cluster: start it, connect to it, stop it."""

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        identity: SigningIdentity | None = None,
        port: int = 0,
        base_dir: Path | None = None,
        limits: Limits | None = None,
        principals: tuple[SigningIdentity, ...] = (),
    ) -> None:
        """``limits``: DSQL's quotas (defaults: DSQL's own); a test may shorten the
        transaction and connection ages to reach them in a second. ``principals``: more IAM
        identities whose tokens the cluster accepts besides ``identity``'s (each stands for
        its ``arn``; a role other than ``admin`` logs in only for a principal it was granted
        to with ``AWS IAM GRANT``)."""
        cluster_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(26))
        self.endpoint = (endpoint or f"{cluster_id}.dsql.us-east-1.on.aws").lower()
        self.region = endpoint_region(self.endpoint)
        self._identity = identity
        self._principals = tuple(principals)
        self._port = port
        self._limits = limits or Limits()
        self._cluster = PostgresCluster(base_dir=base_dir)
        self._guard: Guard | None = None
        self._clients: dict[str, Any] = {}

    def start(self) -> DsqlLocal:
        identity = self._identity
        if identity is None:
            try:
                identity = SigningIdentity.from_environment()
            except LookupError as exc:
                raise ProvisionError(str(exc)) from None
        self._identity = identity
        self._cluster.start()
        try:
            self._prepare()
            cert, key = self_signed_certificate((self.endpoint, "localhost", "127.0.0.1"))
            root = self._cluster.data_dir.parent
            cert_file, key_file = root / "dsql.crt", root / "dsql.key"
            key_file.touch(mode=0o600)
            key_file.write_bytes(key)
            cert_file.write_bytes(cert)
            socket_dir = self._cluster.socket_dir
            config = GuardConfig(
                backend_socket=socket_dir / f".s.PGSQL.{self._cluster.port}",
                cert_file=cert_file,
                key_file=key_file,
                verifier=TokenVerifier(
                    self.endpoint, self.region, identity, others=self._principals
                ),
                port=self._port,
                limits=self._limits,
            )
            jobs = ServerJobLog(socket_dir, self._cluster.port, "postgres")
            self._guard = Guard(config, jobs, superuser=self._cluster.conninfo()).start()
        except BaseException:
            self.stop()
            raise
        return self

    def _prepare(self) -> None:
        """Give the server DSQL's shape: role ``admin`` owning ``postgres`` and ``public``."""
        import psycopg

        try:
            with psycopg.connect(self._cluster.conninfo(), autocommit=True) as conn:
                for statement in _SETUP:
                    conn.execute(statement)
        except psycopg.Error as exc:
            raise ProvisionError(f"preparing the local DSQL: {exc}".strip()) from None

    def stop(self) -> None:
        if self._guard is not None:
            self._guard.stop()
            self._guard = None
        self._cluster.stop()

    def __enter__(self) -> DsqlLocal:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._guard is None:
            raise ProvisionError("the local DSQL is not running; fix: call start() first")
        return self._guard.port

    @property
    def conflicts(self) -> ConflictInjector:
        """DSQL's OC000 at COMMIT on demand, for testing retry loops (``fail_next(n)``,
        ``fail_every(n)``, ``clear()``)."""
        if self._guard is None:
            raise ProvisionError("the local DSQL is not running; fix: call start() first")
        return self._guard.conflicts

    @property
    def ca_file(self) -> Path:
        """The certificate clients may verify the endpoint with (``sslrootcert``)."""
        return self._cluster.data_dir.parent / "dsql.crt"

    @property
    def cluster(self) -> PostgresCluster:
        """The PostgreSQL behind the guard (for loading fixtures without DSQL's rules)."""
        return self._cluster

    @property
    def arn(self) -> str:
        """The IAM principal the cluster's own credentials stand for: what ``AWS IAM GRANT``
        names so that tokens of :meth:`token` log a custom role in."""
        identity = self._identity
        if identity is None:
            raise ProvisionError("the local DSQL is not running; fix: call start() first")
        return identity.arn

    def token(
        self,
        user: str = "admin",
        *,
        expires_in: int = 900,
        identity: SigningIdentity | None = None,
    ) -> str:
        """An IAM auth token for ``user``, signed as boto3 signs one for a real cluster, with
        the cluster's credentials or another principal's (``identity``)."""
        signer = self._signer(identity)
        generate = (
            signer.generate_db_connect_admin_auth_token
            if user == "admin"
            else signer.generate_db_connect_auth_token
        )
        token: str = generate(Hostname=self.endpoint, Region=self.region, ExpiresIn=expires_in)
        return token

    def _signer(self, identity: SigningIdentity | None) -> Any:
        """A boto3 ``dsql`` client signing with the cluster's credentials or ``identity``'s
        (one per key, made once: a client takes a few hundred milliseconds to build, a token
        a fraction of one)."""
        identity = identity or self._identity
        if identity is None:
            raise ProvisionError("the local DSQL is not running; fix: call start() first")
        client = self._clients.get(identity.access_key)
        if client is None:
            import boto3

            session = boto3.session.Session(
                aws_access_key_id=identity.access_key,
                aws_secret_access_key=identity.secret_key,
                aws_session_token=identity.token,
            )
            client = session.client("dsql", region_name=self.region)
            self._clients[identity.access_key] = client
        return client

    def conninfo(self, user: str = "admin", *, password: str | None = None, **extra: Any) -> str:
        """A libpq conninfo for the endpoint, via 127.0.0.1, verifying its certificate."""
        params: dict[str, Any] = {
            "host": self.endpoint,
            "hostaddr": "127.0.0.1",
            "port": self.port,
            "dbname": "postgres",
            "user": user,
            "sslmode": "verify-full",
            "sslrootcert": str(self.ca_file),
        }
        if password is not None:
            params["password"] = password
        params.update(extra)
        return make_conninfo("", **params)

    def uri(self, user: str = "admin") -> str:
        """The URI ``cutover dsql-local serve`` prints: a token is made by the client."""
        return (
            f"postgresql://{user}@{self.endpoint}:{self.port}/postgres"
            "?hostaddr=127.0.0.1&sslmode=require"
        )
