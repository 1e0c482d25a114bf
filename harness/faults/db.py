"""Database sessions that survive faults the way a careful application's do.

Everything retries through :func:`harness.endpoints.retry.retry_call` (one retry discipline for the
whole harness): a :class:`Session` reconnects when its connection broke and runs each unit of
work as a whole transaction, so a connection reset, a server restart or a serialization
failure (SQLSTATE ``40001``, what Aurora DSQL's optimistic concurrency returns at commit) is
answered by running the *whole* transaction again, never by replaying half of it.

:func:`provoke_conflict` produces a genuine ``40001`` on PostgreSQL: two concurrent
REPEATABLE READ transactions update the same row and the later one loses at its UPDATE.
:func:`provoke_commit_conflict` produces Aurora DSQL's: the losing UPDATE goes through and its
transaction fails at ``COMMIT`` with ``40001 … (OC000)``.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from harness.endpoints.redact import scrub
from harness.endpoints.retry import Attempt, Backoff, retry_call

__all__ = ["RetryLog", "Session", "provoke_commit_conflict", "provoke_conflict"]

T = TypeVar("T")
Connect = Callable[[], psycopg.Connection[Any]]
CONNECT_TIMEOUT_S = 3  # libpq counts whole seconds, minimum 2
_BEGIN = {
    psycopg.IsolationLevel.READ_COMMITTED: "BEGIN ISOLATION LEVEL READ COMMITTED",
    psycopg.IsolationLevel.REPEATABLE_READ: "BEGIN ISOLATION LEVEL REPEATABLE READ",
    psycopg.IsolationLevel.SERIALIZABLE: "BEGIN ISOLATION LEVEL SERIALIZABLE",
}


@dataclass
class RetryLog:
    """Every attempt :func:`retry_call` reported, plus the clock and randomness it used."""

    attempts: list[Attempt] = field(default_factory=list)
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random

    def record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)

    @property
    def delays(self) -> list[float]:
        """The waits between attempts, in order."""
        return [a.delay_s for a in self.attempts if a.outcome == "retry"]

    @property
    def retried(self) -> int:
        return sum(a.outcome == "retry" for a in self.attempts)

    def since(self, start: int) -> list[Attempt]:
        return self.attempts[start:]


def connector(conninfo: str, *, password: str | None = None, **options: Any) -> Connect:
    """A function opening autocommit connections (transactions are explicit in :class:`Session`)."""

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(
            conninfo,
            password=password,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            **options,
        )

    return connect


class Session:
    """One connection, reopened when it breaks; work runs as retried whole transactions."""

    def __init__(
        self,
        connect: Connect,
        *,
        policy: Backoff,
        endpoint: str,
        log: RetryLog | None = None,
        isolation: psycopg.IsolationLevel = psycopg.IsolationLevel.REPEATABLE_READ,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._connect = connect
        self.policy = policy
        self.endpoint = endpoint
        self.log = log or RetryLog()
        self.isolation = isolation
        self.secrets = secrets
        self.conn: psycopg.Connection[Any] | None = None
        self.connects = 0

    def connection(self) -> psycopg.Connection[Any]:
        """The open connection, reconnecting (once, no retry here) when there is none."""
        if self.conn is None or self.conn.closed or self.conn.broken:
            self.drop()
            self.conn = self._connect()
            self.connects += 1
        return self.conn

    def open(self) -> psycopg.Connection[Any]:
        """Connect with retries (refused, reset, server starting up …)."""
        return self._retry(self.connection)

    def transaction(self, body: Callable[[psycopg.Connection[Any], int], T]) -> T:
        """Run ``body(conn, attempt_number)`` in one transaction; retry the whole of it."""
        number = 0

        def attempt() -> T:
            nonlocal number
            number += 1
            conn = self.connection()
            # Explicit BEGIN/COMMIT rather than conn.transaction(): on a connection that just
            # broke, psycopg's context manager logs its failed rollback as noise.
            try:
                conn.execute(_BEGIN[self.isolation])
                value = body(conn, number)
                conn.execute("COMMIT")
                return value
            except psycopg.Error:
                if conn.broken:
                    self.drop()
                else:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute("ROLLBACK")
                raise

        return self._retry(attempt)

    def query(self, query: str | sql.Composed, params: tuple[Any, ...] = ()) -> list[Any]:
        """Run one read-only statement with retries; return its rows."""

        def attempt() -> list[Any]:
            conn = self.connection()
            try:
                return conn.execute(query, params).fetchall()
            except psycopg.Error:
                if conn.broken:
                    self.drop()
                raise

        return self._retry(attempt)

    def message(self, exc: BaseException) -> str:
        """One line for a user: the driver's first line with every known secret removed."""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return scrub(first, self.secrets)

    def drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                self.conn.close()
        self.conn = None

    def close(self) -> None:
        self.drop()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _retry(self, fn: Callable[[], T]) -> T:
        return retry_call(
            fn,
            policy=self.policy,
            endpoint=self.endpoint,
            on_attempt=self.log.record,
            sleep=self.log.sleep,
            rand=self.log.rand,
        )


def provoke_conflict(
    conn: psycopg.Connection[Any], other: Connect, table: sql.Composable, row_id: int
) -> None:
    """Make ``conn``'s open REPEATABLE READ transaction lose a write-write race on ``row_id``.

    ``conn`` reads the row (taking its snapshot); a second REPEATABLE READ transaction on
    another connection updates the same row and commits; ``conn``'s own update of the row
    then fails with a genuine SQLSTATE 40001 from the server
    (:class:`psycopg.errors.SerializationFailure`), which this function lets propagate.
    ``table`` needs ``id`` and an integer ``hits`` column.
    """
    update = sql.SQL("UPDATE {} SET hits = hits + 1 WHERE id = %s").format(table)
    conn.execute(sql.SQL("SELECT hits FROM {} WHERE id = %s").format(table), (row_id,)).fetchall()
    with other() as rival:
        rival.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with rival.transaction():
            rival.execute(update, (row_id,))
    conn.execute(update, (row_id,))


def provoke_commit_conflict(
    conn: psycopg.Connection[Any], other: Connect, table: sql.Composable, row_id: int
) -> None:
    """Make ``conn``'s open transaction lose a write-write race on ``row_id``, DSQL's way.

    A second transaction (on another connection) updates the row first and holds it; ``conn``
    then updates the same row, which Aurora DSQL lets through without a lock wait; the rival
    commits. Nothing fails here: ``conn``'s ``COMMIT`` will, with a genuine SQLSTATE 40001
    ``change conflicts with another transaction (OC000)`` from the server. Only for a server
    with optimistic concurrency: on PostgreSQL ``conn``'s update would wait for the rival.
    """
    update = sql.SQL("UPDATE {} SET hits = hits + 1 WHERE id = %s").format(table)
    with other() as rival:
        rival.execute("BEGIN")
        rival.execute(update, (row_id,))
        conn.execute(update, (row_id,))
        rival.execute("COMMIT")
