"""DSQL's quotas on a transaction and a connection, and the schema changes a transaction meets.

Limits (AWS, "Cluster quotas and database limits", reference/dsql-compat.md §1g and §3):

- a write transaction modifies at most 10 MiB of data: ``54000 transaction size limit 10mb
  exceeded``;
- a transaction lives at most 300 s: ``54000 transaction age limit of 300s exceeded``;
- a connection lives at most 60 minutes, then DSQL closes it (a transaction open at that
  moment may run on to its own age limit).

The ages are configurable so a test can reach them in a second; the defaults are DSQL's.

Schema changes (AWS, "Concurrency control in Aurora DSQL", troubleshooting and DDL pages):
DDL is a distributed transaction, and a transaction whose catalog went stale under it — a
table it read or wrote was changed by another transaction's DDL committed after it began —
fails at COMMIT with ``40001 schema has been updated by another transaction (OC001)``
(the wording of the concurrency-control page, 2026; an older DDL page adds ", please retry:").
:class:`SchemaLog` is the cluster's record of which tables changed when; every session of a
guard shares one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from harness.dsql_local.rules import Refusal

__all__ = ["SCHEMA_CONFLICT", "WRITE_LIMIT", "Limits", "SchemaLog"]

WRITE_LIMIT = 10 * 2**20
"""Bytes of modified data one transaction may write (10 MiB)."""

SCHEMA_CONFLICT = Refusal("40001", "schema has been updated by another transaction (OC001)", "occ")
_ANY = "*"
"""A change whose object the analysis could not name: it may touch any table."""


@dataclass(frozen=True)
class Limits:
    """The quotas a local DSQL enforces; the defaults are DSQL's."""

    transaction_age: float = 300.0
    """Seconds a transaction may live before its statements and COMMIT are refused."""
    connection_age: float = 3600.0
    """Seconds a connection may live; after that it is closed at its next message outside a
    transaction block."""
    write_bytes: int = WRITE_LIMIT

    def __post_init__(self) -> None:
        if self.transaction_age <= 0 or self.connection_age <= 0 or self.write_bytes <= 0:
            raise ValueError("DSQL limits must be positive")

    @property
    def too_old(self) -> Refusal:
        return Refusal(
            "54000", f"transaction age limit of {self.transaction_age:g}s exceeded", "DSQL122"
        )

    @property
    def too_big(self) -> Refusal:
        mib, rest = divmod(self.write_bytes, 2**20)
        size = f"{mib}mb" if not rest else f"{self.write_bytes}b"  # DSQL says "10mb"
        return Refusal("54000", f"transaction size limit {size} exceeded", "DSQL121")


class SchemaLog:
    """Which tables committed DDL changed, by a cluster-wide clock (thread safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clock = 0
        self._changed: dict[str, int] = {}

    def now(self) -> int:
        """The clock a transaction beginning now starts from."""
        with self._lock:
            return self._clock

    def changed(self, table: str | None) -> None:
        """DDL on ``table`` (a bare name; None when unknown: every table) committed."""
        with self._lock:
            self._clock += 1
            self._changed[table or _ANY] = self._clock

    def stale(self, since: int, tables: set[str]) -> bool:
        """Whether DDL committed after ``since`` changed one of ``tables``."""
        if not tables:
            return False
        with self._lock:
            if self._changed.get(_ANY, 0) > since:
                return True
            return any(self._changed.get(t, 0) > since for t in tables)
