"""The default fault bed database: a TCP PostgreSQL with a password, created by the harness.

The only database the plain suite writes to, restarts or makes conflict; a wrong password is
what the server refuses (``28P01``).
"""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from harness.embedded.provision import PostgresCluster
from harness.endpoints.redact import redact_dsn
from harness.endpoints.resolve import Connector
from harness.faults.db import Connect, connector, provoke_conflict
from harness.faults.proxy import FaultProxy

__all__ = ["BED_DB", "PostgresBedDatabase"]

BED_DB = "cutover_faults"


class PostgresBedDatabase:
    """A TCP PostgreSQL cluster with one database, ``cutover_faults``, and a password."""

    kind = "postgres"
    conflict_at = "statement"

    def __init__(self, cluster: PostgresCluster, password: str) -> None:
        self.cluster = cluster
        self.password = password

    @classmethod
    def start(cls, password: str) -> PostgresBedDatabase:
        from harness.faults.beds import make_tables

        cluster = PostgresCluster(tcp=True, password=password)
        cluster.start()
        try:
            cluster.create_database(BED_DB)
            make_tables(cluster.conninfo(BED_DB))
        except BaseException:
            cluster.stop()
            raise
        return cls(cluster, password)

    @property
    def upstream(self) -> tuple[str, int]:
        return self.cluster.host, self.cluster.port

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password,)

    def conninfo(self, proxy: FaultProxy) -> str:
        """Where a client reaches the database through ``proxy`` (no password in it)."""
        return f"host=127.0.0.1 port={proxy.port} user=postgres dbname={BED_DB}"

    def connect(self, proxy: FaultProxy) -> Connect:
        return connector(self.conninfo(proxy), password=self.password)

    def direct(self) -> Connect:
        return connector(self.cluster.conninfo(BED_DB))

    def audit_conninfo(self) -> str:
        return self.cluster.conninfo(BED_DB)

    def connector(self, proxy: FaultProxy, retry: dict[str, Any], *, wrong: bool) -> Connector:
        password = secrets.token_urlsafe(12) if wrong else self.password
        dsn = make_conninfo(self.conninfo(proxy), password=password)
        return Connector(
            role="target",
            kind="postgres",
            dialect="postgres",
            address=dsn,
            display=redact_dsn(dsn),
            connect_timeout_s=3,
            retry=retry,
        )

    def restart(self) -> None:
        self.cluster.restart()

    def provoke_conflict(
        self, conn: psycopg.Connection[Any], rival: Connect, table: sql.Composable, row_id: int
    ) -> None:
        provoke_conflict(conn, rival, table, row_id)

    def stop(self) -> None:
        self.cluster.stop()
