"""Run one query on one side and read its answer: column names, column types, rows.

A query's answer carries no catalog to say what type a column is, so types come from the
result itself: PostgreSQL describes every column by type OID (and numeric precision and
scale), which psycopg's type registry names; SQLite has no column types, so its values are
typed one by one when they are canonised (:mod:`harness.queries.compare`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

from harness.db import typemap as coltypes
from harness.db.database import Database, PostgresDatabase, SqliteDatabase
from harness.db.typemap import TypeInfo


@dataclass(frozen=True)
class Answer:
    """The rows one side returned (at most the row cap) and what they are."""

    columns: tuple[str, ...]
    types: tuple[TypeInfo | None, ...]
    """Per column; ``None`` where the side does not say (SQLite)."""
    rows: list[tuple[Any, ...]]
    truncated: bool
    """More rows than the cap were returned; only the first ``cap`` are here."""
    affected: int | None = None
    """Rows a write inserted, updated or deleted (None for a query)."""


class QueryFailed(Exception):
    """The database refused or failed the query (not the harness's own failure)."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        self.message = message
        self.sqlstate = sqlstate
        super().__init__(message)

    def text(self) -> str:
        return f"[{self.sqlstate}] {self.message}" if self.sqlstate else self.message


def run(
    db: Database, text: str, params: dict[str, Any], cap: int, *, timeout_s: float | None = None
) -> Answer:
    """Run ``text`` with ``params`` on ``db``; a database error is :class:`QueryFailed`.

    With ``timeout_s`` the query is cancelled after that long (PostgreSQL: SQLSTATE 57014,
    see :meth:`PostgresDatabase.statement_timeout`; SQLite: interrupted from its progress
    handler), so one runaway query cannot hang the whole verification.
    """
    if isinstance(db, SqliteDatabase):
        return _run_sqlite(db.conn, text, params, cap, timeout_s)
    assert isinstance(db, PostgresDatabase)
    with db.statement_timeout(timeout_s):
        return _run_postgres(db, text, params, cap)


def run_write(
    db: Database, text: str, params: dict[str, Any], cap: int, *, timeout_s: float | None = None
) -> Answer:
    """Run the write ``text`` in a transaction that is always rolled back (the plan opted in:
    :attr:`~harness.queries.settings.QuerySettings.writes`): its ``RETURNING`` rows and its
    affected-row count; a database error is :class:`QueryFailed`."""
    if isinstance(db, SqliteDatabase):
        try:
            names, rows, count = db.execute_rolled_back(text, params, timeout_s=timeout_s)
        except sqlite3.OperationalError as exc:
            if timeout_s is not None and str(exc) == "interrupted":
                raise QueryFailed(f"cancelled after {timeout_s:g} s", "SQLITE_INTERRUPT") from None
            raise QueryFailed(str(exc), getattr(exc, "sqlite_errorname", None)) from None
        except sqlite3.Error as exc:
            raise QueryFailed(str(exc), getattr(exc, "sqlite_errorname", None)) from None
        except (sqlite3.Warning, ValueError) as exc:
            raise QueryFailed(str(exc), None) from None
        return Answer(names, (None,) * len(names), rows[:cap], len(rows) > cap, count)
    assert isinstance(db, PostgresDatabase)
    conn = db.conn
    try:
        with db.statement_timeout(timeout_s), conn.cursor() as cursor:
            db.execute_rolled_back(cursor, text, params)
            description = cursor.description or []
            rows = cursor.fetchmany(cap + 1) if description else []
            count = cursor.rowcount
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueryFailed(message, exc.sqlstate) from None
    names = tuple(c.name for c in description)
    types = tuple(_pg_type(conn, c) for c in description)
    return Answer(names, types, [tuple(r) for r in rows[:cap]], len(rows) > cap, count)


@contextlib.contextmanager
def statement_timeout(db: Database, timeout_s: float | None) -> Iterator[None]:
    """Each PostgreSQL statement in the block cancelled after ``timeout_s`` (SQLite: none)."""
    if not isinstance(db, PostgresDatabase):
        yield
        return
    with db.statement_timeout(timeout_s):
        yield


def _run_sqlite(
    conn: sqlite3.Connection, text: str, params: dict[str, Any], cap: int, timeout_s: float | None
) -> Answer:
    if timeout_s is not None:
        deadline = time.monotonic() + timeout_s
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        cursor = conn.execute(text, params)
        rows = cursor.fetchmany(cap + 1)
    except sqlite3.OperationalError as exc:
        if timeout_s is not None and str(exc) == "interrupted":
            raise QueryFailed(f"cancelled after {timeout_s:g} s", "SQLITE_INTERRUPT") from None
        raise QueryFailed(str(exc), getattr(exc, "sqlite_errorname", None)) from None
    except sqlite3.Error as exc:
        # SQLite has no SQLSTATE; its result code name (SQLITE_ERROR) plays that part.
        raise QueryFailed(str(exc), getattr(exc, "sqlite_errorname", None)) from None
    except (sqlite3.Warning, ValueError) as exc:  # e.g. two statements in one query
        raise QueryFailed(str(exc), None) from None
    finally:
        if timeout_s is not None:
            conn.set_progress_handler(None, 0)
    names = tuple(d[0] for d in cursor.description or ())
    cursor.close()
    return Answer(names, (None,) * len(names), rows[:cap], len(rows) > cap)


def _run_postgres(db: PostgresDatabase, text: str, params: dict[str, Any], cap: int) -> Answer:
    conn = db.conn
    try:
        with conn.cursor() as cursor:
            db.execute_read_only(cursor, text, params)
            description = cursor.description or []
            rows = cursor.fetchmany(cap + 1)
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueryFailed(message, exc.sqlstate) from None
    names = tuple(c.name for c in description)
    types = tuple(_pg_type(conn, c) for c in description)
    return Answer(names, types, [tuple(r) for r in rows[:cap]], len(rows) > cap)


def _pg_type(conn: psycopg.Connection[Any], column: Any) -> TypeInfo | None:
    info = conn.adapters.types.get(column.type_code)
    if info is None:
        return None
    name = info.name
    if name == "numeric" and column.precision is not None:
        name = f"numeric({column.precision},{column.scale or 0})"
    elif name == "bpchar":  # char(n): compared without its blank padding
        return TypeInfo("text", "char", fixed_length=True)
    try:
        return coltypes.parse(name, "postgres")
    except Exception:  # a type sqlglot cannot name: compared as PostgreSQL's own text
        return None
