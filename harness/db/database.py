"""Read-only sessions on a source or target, and the questions checks ask of them.

Every question is answered inside the database (counts, bounds, lengths); only small results
cross the wire. SQL is composed with ``psycopg.sql`` on PostgreSQL and with quoted
identifiers from the catalog on SQLite, never from user text.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from harness.db.catalog import Catalog
from harness.db.introspect import postgres as pg_introspect
from harness.db.introspect import sqlite as sqlite_introspect
from harness.errors import CheckError

Unfit = sql.Composable | Callable[[Any], bool]
"""A test of the values that would not survive a move (see :meth:`Database.fit`)."""


@dataclass(frozen=True)
class FitReport:
    """Whether a source column's actual values fit a narrower target type."""

    values: int
    """Non-null values inspected (all of them: the check is exact, not sampled)."""
    unfit: int
    minimum: Any = None
    maximum: Any = None
    max_length: int | None = None
    example: Any = None
    """One value that does not fit, if any."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"values": self.values, "unfit": self.unfit}
        for key in ("minimum", "maximum", "max_length", "example"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value if isinstance(value, int | float | str) else str(value)
        return out


class Database(ABC):
    """One read-only session on a source or target database."""

    dialect: str
    display: str
    """Redacted description of where this is, safe to show."""

    def __init__(self) -> None:
        self._catalog: Catalog | None = None

    def catalog(self) -> Catalog:
        """The schema, read once per session."""
        if self._catalog is None:
            self._catalog = self._read_catalog()
        return self._catalog

    @abstractmethod
    def _read_catalog(self) -> Catalog: ...

    @abstractmethod
    def server_version(self) -> str: ...

    @abstractmethod
    def count_rows(self, table: str) -> int: ...

    @abstractmethod
    def count_nulls(self, table: str, column: str) -> int: ...

    @abstractmethod
    def fit(self, table: str, column: str, unfit: Unfit) -> FitReport:
        """How many non-null values of ``table.column`` the test ``unfit`` picks out: a
        condition on the column in SQL (PostgreSQL), a function of a value (SQLite), as
        :mod:`harness.checks.narrowing` builds them."""

    @abstractmethod
    def close(self) -> None: ...


class SqliteDatabase(Database):
    """A SQLite file opened read-only (:mod:`harness.endpoints.sqlite_file`): the harness
    cannot write to it, nor beside it."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, display: str) -> None:
        super().__init__()
        self.conn = conn
        self.display = display
        self._scratch_conn: sqlite3.Connection | None = None
        """The private copy rolled-back writes run on (:meth:`execute_rolled_back`)."""
        self._scratch_folder: Any = None

    def _read_catalog(self) -> Catalog:
        return sqlite_introspect.read_catalog(self.conn)

    def server_version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    @staticmethod
    def _ident(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def _one(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        try:
            return self.conn.execute(query, params).fetchone()
        except sqlite3.Error as exc:
            raise CheckError(f"{self.display}: {exc}") from None

    def count_rows(self, table: str) -> int:
        return int(self._one(f"SELECT count(*) FROM {self._ident(table)}")[0])  # noqa: S608

    def count_nulls(self, table: str, column: str) -> int:
        t, c = self._ident(table), self._ident(column)
        return int(self._one(f"SELECT count(*) FROM {t} WHERE {c} IS NULL")[0])  # noqa: S608

    def fit(self, table: str, column: str, unfit: Unfit) -> FitReport:
        assert callable(unfit), "a SQLite fit test is a function of a value"
        t, c = self._ident(table), self._ident(column)
        name = f"cutover_unfit_{id(unfit):x}"
        self.conn.create_function(name, 1, lambda v: int(unfit(v)), deterministic=True)
        cond = f"{c} IS NOT NULL AND {name}({c})"
        row = self._one(
            f"SELECT count({c}), count(CASE WHEN {cond} THEN 1 END), min({c}), max({c}),"  # noqa: S608
            f" max(length({c})), max(CASE WHEN {cond} THEN {c} END) FROM {t}"
        )
        return FitReport(row[0], row[1], row[2], row[3], row[4], row[5])

    def execute_rolled_back(
        self, query: str, params: Any = None, *, timeout_s: float | None = None
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]], int]:
        """Run the application's write ``query`` in a transaction that is always rolled back:
        its result columns, rows (``RETURNING``) and affected-row count.

        The file itself is open read-only and stays so: the write runs on a private copy
        made on first use (SQLite's online backup, so a consistent snapshot) in a temporary
        folder, removed by :meth:`close`. The copy is never written to the file it came from.
        After ``timeout_s`` the statement is interrupted (SQLite's progress handler):
        ``sqlite3.OperationalError('interrupted')``.
        """
        copy = self._scratch()
        if timeout_s is not None:
            import time

            deadline = time.monotonic() + timeout_s
            copy.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        copy.execute("BEGIN")
        try:
            cursor = copy.execute(query, params if params is not None else ())
            rows = cursor.fetchall()  # rowcount is final once RETURNING rows are read
            names = tuple(d[0] for d in cursor.description or ())
            count = cursor.rowcount
        finally:
            if copy.in_transaction:  # an interrupted write was rolled back by SQLite itself
                copy.execute("ROLLBACK")
            copy.set_progress_handler(None, 0)
        return names, rows, count

    def _scratch(self) -> sqlite3.Connection:
        if self._scratch_conn is not None:
            return self._scratch_conn
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp(prefix="cutover-sqlite-writes-"))
        copy = sqlite3.connect(folder / "copy.db", isolation_level=None)
        try:
            self.conn.backup(copy)
        except sqlite3.Error as exc:
            copy.close()
            _remove(folder)
            raise CheckError(f"{self.display}: cannot copy for rolled-back writes: {exc}") from None
        self._scratch_conn = copy
        self._scratch_folder = folder
        return copy

    def close(self) -> None:
        if self._scratch_conn is not None:
            self._scratch_conn.close()
            _remove(self._scratch_folder)
            self._scratch_conn = None
        self.conn.close()


def _remove(folder: Any) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


COUNT_BLOCK = 1_000_000
"""Rows one statement counts on a server that ends transactions after five minutes."""


class PostgresDatabase(Database):
    """A read-only PostgreSQL session.

    Aurora DSQL refuses both the startup option that makes a session read-only
    (``default_transaction_read_only``) and ``SET statement_timeout`` (its SET allowlist,
    ../shared/reference/dsql-compat.md §0b). There (``server_settings=False``) the
    application's SQL runs in ``BEGIN READ ONLY`` transactions that are always rolled back
    (:meth:`execute_read_only`), and a timeout is a cancel request the client sends
    (:meth:`statement_timeout`); everywhere else the server enforces both.
    """

    dialect = "postgres"

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        display: str,
        schema: str,
        *,
        reopen: Callable[[], psycopg.Connection[Any]] | None = None,
        bounded: bool = False,
        server_settings: bool = True,
    ) -> None:
        super().__init__()
        self.server_settings = server_settings
        """The session was opened read-only and may SET ``statement_timeout``."""
        self._deadline_s: float | None = None
        self._in_pipeline = False
        self.round_trips = 0
        """Statements sent to the server (each one request and its answer over the link)."""
        self.conn = self._counted(conn)
        self.display = display
        self.schema = schema
        self._reopen = reopen
        self.bounded = bounded
        """Transactions end after five minutes (Aurora DSQL): no statement may scan a whole
        large table, so counts and row checksums go in key-range blocks."""

    def reconnect(self) -> None:
        """Replace a dropped session with a new one (same settings), for retried queries."""
        if self._reopen is None:
            raise CheckError(f"{self.display}: the connection dropped and cannot be reopened")
        with contextlib.suppress(psycopg.Error):
            self.conn.close()
        self.conn = self._counted(self._reopen())

    def _counted(self, conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        """``conn``, its statements counted in :attr:`round_trips`, wherever they are sent
        from (catalog, counts, row checksums): over a link each costs a round trip, which
        is what row parity's cost is bounded by (benchmarks/rows.py --rtt-ms)."""
        database = self

        class Counted(psycopg.Cursor[Any]):
            def execute(self, *args: Any, **kwargs: Any) -> Any:
                database.round_trips += 1
                with database._cancelled_after():
                    return super().execute(*args, **kwargs)

        conn.cursor_factory = Counted
        return conn

    @contextlib.contextmanager
    def statement_timeout(self, seconds: float | None) -> Iterator[None]:
        """Each statement the block sends is cancelled after ``seconds`` (SQLSTATE 57014)."""
        if seconds is None:
            yield
            return
        if not self.server_settings:
            self._deadline_s = seconds
            try:
                yield
            finally:
                self._deadline_s = None
            return
        self.conn.execute(f"SET statement_timeout = {max(int(seconds * 1000), 1)}")
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                self.conn.execute("RESET statement_timeout")

    def execute_read_only(
        self, cursor: psycopg.Cursor[Any], query: str, params: Any = None
    ) -> psycopg.Cursor[Any]:
        """Run the application's ``query`` on ``cursor`` where it cannot write: as is on a
        read-only session; otherwise between ``BEGIN READ ONLY`` and ``ROLLBACK``, pipelined
        so the transaction costs no round trip of its own."""
        if self.server_settings:
            return cursor.execute(query, params)
        return self._rolled_back("BEGIN READ ONLY", cursor, query, params)

    def execute_rolled_back(
        self, cursor: psycopg.Cursor[Any], query: str, params: Any = None
    ) -> psycopg.Cursor[Any]:
        """Run the application's write ``query`` on ``cursor`` in a transaction that is always
        rolled back: ``BEGIN READ WRITE``, the statement, ``ROLLBACK``, pipelined as one.

        Only for a plan that opts in (``queries.writes``). ``READ WRITE`` overrides the
        session's ``default_transaction_read_only`` for this one transaction; nothing it
        does is committed, though what PostgreSQL never rolls back (a sequence's
        ``nextval``) stays advanced (docs/queries.md). On Aurora DSQL the transaction's
        limits apply, and a write it refuses fails with its SQLSTATE."""
        return self._rolled_back("BEGIN READ WRITE", cursor, query, params)

    def _rolled_back(
        self, begin: LiteralString, cursor: psycopg.Cursor[Any], query: str, params: Any
    ) -> psycopg.Cursor[Any]:
        """``query`` between ``begin`` and ``ROLLBACK`` in one pipeline; after a failure the
        session is left idle (the ROLLBACK the pipeline skipped is sent on its own)."""
        conn = self.conn
        try:
            with self._cancelled_after(), self._pipelined(), conn.pipeline():
                conn.execute(begin)
                cursor.execute(query, params)
                conn.execute("ROLLBACK")
        except BaseException:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
            raise
        return cursor

    @contextlib.contextmanager
    def _cancelled_after(self) -> Iterator[None]:
        """The client's own ``statement_timeout``: a cancel request once the deadline of
        :meth:`statement_timeout` is up (sent over TLS like the session, libpq >= 17). In a
        pipeline the wait is at its end, so the pipeline as a whole is timed."""
        if self._deadline_s is None or self._in_pipeline:
            yield
            return
        timer = threading.Timer(self._deadline_s, self.conn.cancel_safe)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    @contextlib.contextmanager
    def _pipelined(self) -> Iterator[None]:
        self._in_pipeline = True
        try:
            yield
        finally:
            self._in_pipeline = False

    def _read_catalog(self) -> Catalog:
        return pg_introspect.read_catalog(self.conn, self.schema)

    def server_version(self) -> str:
        return f"PostgreSQL {self._one(sql.SQL('SHOW server_version'))[0]}"

    def _table(self, table: str) -> sql.Composable:
        return sql.Identifier(self.schema, table)

    def _one(self, query: sql.SQL | sql.Composed, params: tuple[Any, ...] = ()) -> Any:
        try:
            return self.conn.execute(query, params).fetchone()
        except psycopg.Error as exc:
            raise CheckError(f"{self.display}: {str(exc).strip().splitlines()[0]}") from None

    def count_rows(self, table: str) -> int:
        if self.bounded:
            return self._count_stepwise(table)
        return int(self._one(sql.SQL("SELECT count(*) FROM {}").format(self._table(table)))[0])

    def _count_stepwise(self, table: str) -> int:
        """count(*) a block of rows at a time along the primary key, so that no statement
        counts a large table whole on a server that ends transactions after five minutes."""
        found = self.catalog().table(table)
        key = found.primary_key if found is not None else ()
        if not key:  # nothing to step along
            return int(self._one(sql.SQL("SELECT count(*) FROM {}").format(self._table(table)))[0])
        names = sql.SQL(", ").join(map(sql.Identifier, key))
        row = sql.SQL("({})").format(names)
        marks = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(key)))
        total, last = 0, None
        while True:
            after = sql.SQL("true") if last is None else sql.SQL("{} > {}").format(row, marks)
            edge = self._one(
                sql.SQL("SELECT {k} FROM {t} WHERE {a} ORDER BY {k} OFFSET %s LIMIT 1").format(
                    k=names, t=self._table(table), a=after
                ),
                (*(last or ()), COUNT_BLOCK - 1),
            )
            if edge is None:  # fewer than a block left: count them
                query = sql.SQL("SELECT count(*) FROM {t} WHERE {a}")
                rest = self._one(query.format(t=self._table(table), a=after), tuple(last or ()))
                return total + int(rest[0])
            total += COUNT_BLOCK
            last = tuple(edge)

    def count_nulls(self, table: str, column: str) -> int:
        query = sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL")
        return int(self._one(query.format(self._table(table), sql.Identifier(column)))[0])

    def fit(self, table: str, column: str, unfit: Unfit) -> FitReport:
        assert isinstance(unfit, sql.Composable), "a PostgreSQL fit test is an SQL condition"
        c = sql.Identifier(column)
        query = sql.SQL(
            "SELECT count({c}), count(CASE WHEN {cond} THEN 1 END), min({c})::text, max({c})::text,"
            " max(length({c}::text)), max(CASE WHEN {cond} THEN {c}::text END) FROM {t}"
        ).format(c=c, cond=unfit, t=self._table(table))
        row = self._one(query)
        return FitReport(row[0], row[1], row[2], row[3], row[4], row[5])

    def close(self) -> None:
        self.conn.close()
