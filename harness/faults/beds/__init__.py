"""The database a fault bed injects faults into, one module per kind the plan can choose.

``faults.bed`` in a plan names one (:data:`harness.faults.outcome.BED_NAMES`):

- :mod:`~harness.faults.beds.postgres` — a TCP PostgreSQL with a password (the default);
- :mod:`~harness.faults.beds.dsql_local` — a local Aurora DSQL (:mod:`harness.dsql_local`):
  TLS, a fresh IAM token per connection, optimistic concurrency failing at ``COMMIT``.

Each is a :class:`BedDatabase`: the runners of :mod:`harness.faults.paths.harness` reach it
only through this protocol, so every fault runs the same code on either kind.
"""

from __future__ import annotations

from typing import Any, Protocol

import psycopg
from psycopg import sql

from harness.endpoints.resolve import Connector
from harness.faults.db import Connect
from harness.faults.proxy import FaultProxy

__all__ = ["BED_TABLES", "BedDatabase", "make_tables", "start_database"]

BED_TABLES = (
    "CREATE TABLE IF NOT EXISTS counters (id int PRIMARY KEY, hits int NOT NULL DEFAULT 0)",
    "INSERT INTO counters (id) VALUES (1) ON CONFLICT (id) DO NOTHING",
)
"""The row the ``conflict`` fault races on (one statement per transaction, as DSQL wants)."""


class BedDatabase(Protocol):
    """A database started for the fault bed, with everything a fault needs of it."""

    kind: str
    """The plan's name for it (``postgres``, ``dsql-local``)."""
    conflict_at: str
    """Where a write-write conflict surfaces: ``statement`` (PostgreSQL's 40001 at the
    losing UPDATE) or ``commit`` (DSQL's OC000 at COMMIT)."""

    @property
    def upstream(self) -> tuple[str, int]:
        """The TCP address a fault proxy fronts."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret that must never reach a message (password, signing key)."""

    def connect(self, proxy: FaultProxy) -> Connect:
        """Open autocommit connections through ``proxy`` (a fresh credential each time)."""

    def direct(self) -> Connect:
        """Open autocommit connections without the proxy (a rival writer)."""

    def audit_conninfo(self) -> str:
        """A conninfo, credential included, reading the bed without the proxy (the account
        of the no-lost-writes run); never shown."""

    def connector(self, proxy: FaultProxy, retry: dict[str, Any], *, wrong: bool) -> Connector:
        """The bed as a plan endpoint reached through ``proxy``, for the harness's own connect
        code; ``wrong``: credentials the server refuses (a wrong password or key)."""

    def restart(self) -> None:
        """Restart the server under open sessions (what a client sees of a server restart)."""

    def provoke_conflict(
        self, conn: psycopg.Connection[Any], rival: Connect, table: sql.Composable, row_id: int
    ) -> None:
        """Make ``conn``'s open transaction lose a genuine write-write race on ``row_id``."""

    def stop(self) -> None: ...


def make_tables(conninfo: str) -> None:
    """The conflict row and the workload's tables, each statement in its own transaction."""
    from harness.faults.workload import prepare

    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in BED_TABLES:
            conn.execute(statement)
    prepare(conninfo)


def start_database(kind: str, *, password: str) -> BedDatabase:
    """Start the bed's database of ``kind``, its tables made (``password``: postgres's)."""
    if kind == "dsql-local":
        from harness.faults.beds.dsql_local import DsqlBedDatabase

        return DsqlBedDatabase.start()
    from harness.faults.beds.postgres import PostgresBedDatabase

    return PostgresBedDatabase.start(password)
