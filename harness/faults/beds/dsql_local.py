"""The DSQL fault bed: a local Aurora DSQL (:mod:`harness.dsql_local`) started and owned here.

What a team moving to DSQL needs its retry discipline to hold against, as DSQL does it:

- **IAM tokens, not passwords.** Every connection signs a fresh token for the cluster's
  endpoint name (TLS verified against that name, reached on 127.0.0.1 through the fault
  proxy with ``hostaddr``). The cluster checks tokens against signing keys made for this bed
  (random; no AWS account or credentials are used); the harness's own connect code finds
  them through one environment variable, as for a ``dsql-local`` plan endpoint. A *wrong*
  credential is a token signed with other random keys: the guard refuses it (``28000``).
- **Optimistic concurrency.** A write that meets another transaction's write is let through
  and its transaction fails at ``COMMIT`` with ``40001 … (OC000)``
  (:func:`harness.faults.db.provoke_commit_conflict`), never a lock wait.
- **DSQL's dialect and limits**, enforced by the guard on everything the faults run: one DDL
  per transaction, at most 3,000 rows per transaction, no ``SET statement_timeout``.

A server restart restarts the PostgreSQL behind the guard: the client's connection drops
(``SSL connection has been closed unexpectedly``) while the endpoint keeps answering, which is
what a DSQL client sees when the query processor serving it goes away.
"""

from __future__ import annotations

import os
import secrets
import string
import uuid
from typing import Any

import psycopg
from psycopg import sql

from harness.dsql_local.server import DsqlLocal
from harness.dsql_local.tokens import SigningIdentity
from harness.endpoints.redact import redact_dsn
from harness.endpoints.resolve import Connector
from harness.faults.db import CONNECT_TIMEOUT_S, Connect, provoke_commit_conflict
from harness.faults.proxy import FaultProxy

__all__ = ["DsqlBedDatabase"]

TOKEN_LIFETIME_S = 900


def _random_identity() -> SigningIdentity:
    alphabet = string.ascii_uppercase + string.digits
    access_key = "AKIALOCAL" + "".join(secrets.choice(alphabet) for _ in range(11))
    return SigningIdentity(access_key, secrets.token_urlsafe(30))


class DsqlBedDatabase:
    """A local DSQL cluster; ``admin`` connects with a fresh IAM token every time."""

    kind = "dsql-local"
    conflict_at = "commit"

    def __init__(self, dsql: DsqlLocal, keys_env: str, wrong_keys_env: str) -> None:
        self.dsql = dsql
        self._keys_env = keys_env
        """The environment variable holding the cluster's keys (``access:secret``)."""
        self._wrong_keys_env = wrong_keys_env
        """The one holding keys the cluster does not know (the ``wrong_password`` fault)."""
        self._secrets: tuple[str, ...] = ()

    @classmethod
    def start(cls) -> DsqlBedDatabase:
        from harness.faults.beds import make_tables

        right, wrong = _random_identity(), _random_identity()
        suffix = uuid.uuid4().hex[:8].upper()
        made = cls(
            DsqlLocal(identity=right),
            f"CUTOVER_FAULTS_DSQL_KEYS_{suffix}",
            f"CUTOVER_FAULTS_DSQL_WRONG_KEYS_{suffix}",
        )
        made._secrets = (right.secret_key, wrong.secret_key)
        for variable, identity in ((made._keys_env, right), (made._wrong_keys_env, wrong)):
            os.environ[variable] = f"{identity.access_key}:{identity.secret_key}"
        try:
            made.dsql.start()
            make_tables(made.audit_conninfo())
        except BaseException:
            made.stop()
            raise
        return made

    @property
    def upstream(self) -> tuple[str, int]:
        return "127.0.0.1", self.dsql.port

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def connect(self, proxy: FaultProxy) -> Connect:
        return self._connect(proxy.port)

    def direct(self) -> Connect:
        return self._connect(self.dsql.port)

    def _connect(self, port: int) -> Connect:
        dsql = self.dsql

        def connect() -> psycopg.Connection[Any]:
            # The token is signed here, per connection, as DSQL's own connectors do.
            return psycopg.connect(
                dsql.conninfo(password=dsql.token(), port=port),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
            )

        return connect

    def audit_conninfo(self) -> str:
        return self.dsql.conninfo(password=self.dsql.token())

    def connector(self, proxy: FaultProxy, retry: dict[str, Any], *, wrong: bool) -> Connector:
        address = self.dsql.conninfo(port=proxy.port)
        return Connector(
            role="target",
            kind="dsql",
            dialect="postgres",
            address=address,
            display=f"dsql: {redact_dsn(address)} (IAM token, {self.dsql.region})",
            connect_timeout_s=3,
            retry=retry,
            token={
                "hostname": self.dsql.endpoint,
                "region": self.dsql.region,
                "admin": True,
                "expires_in": TOKEN_LIFETIME_S,
                "identity_env": self._wrong_keys_env if wrong else self._keys_env,
            },
            credential_hint="the token was signed with keys this cluster does not know",
        )

    def restart(self) -> None:
        self.dsql.cluster.restart()

    def provoke_conflict(
        self, conn: psycopg.Connection[Any], rival: Connect, table: sql.Composable, row_id: int
    ) -> None:
        provoke_commit_conflict(conn, rival, table, row_id)

    def stop(self) -> None:
        try:
            self.dsql.stop()
        finally:
            for variable in (self._keys_env, self._wrong_keys_env):
                os.environ.pop(variable, None)
