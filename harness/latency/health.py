"""Connect time and the ``SELECT 1`` health check, measured on fresh sessions.

Both open their own sessions through :func:`harness.endpoints.open_database`, the same path
every check uses (read-only, redacted errors), and close them again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from harness.db.database import Database, PostgresDatabase, SqliteDatabase
from harness.endpoints.resolve import Connector, open_database
from harness.errors import EndpointError
from harness.queries.answers import statement_timeout


@dataclass(frozen=True)
class Probe:
    """One ``SELECT 1``: whether it answered within the timeout, and how long it took."""

    ok: bool
    ms: float
    error: str | None = None


def connect_times(connector: Connector, runs: int) -> tuple[list[float], str | None]:
    """Milliseconds to open (and verify) a session, ``runs`` times; stops at the first error."""
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        try:
            db = open_database(connector)
        except EndpointError as exc:
            return times, str(exc)
        times.append((time.perf_counter_ns() - start) / 1e6)
        db.close()
    return times, None


def health_probes(connector: Connector, runs: int, timeout_ms: float) -> list[Probe]:
    """``SELECT 1`` ``runs`` times in a row on one new session, each bounded by the timeout.

    On PostgreSQL each probe is cancelled at the timeout (see
    :meth:`PostgresDatabase.statement_timeout`) so a hung probe cannot hang the check; a
    probe that answers but takes longer still counts as failed.
    """
    try:
        db = open_database(connector)
    except EndpointError as exc:
        return [Probe(False, 0.0, str(exc))] * runs
    try:
        with statement_timeout(db, timeout_ms / 1000):
            return _probe(db, runs, timeout_ms)
    finally:
        db.close()


def _probe(db: Database, runs: int, timeout_ms: float) -> list[Probe]:
    probes = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        error = _select_one(db)
        ms = (time.perf_counter_ns() - start) / 1e6
        if error is None and ms > timeout_ms:
            error = f"answered after {ms:.1f} ms"
        probes.append(Probe(error is None, round(ms, 3), error))
    return probes


def _select_one(db: Database) -> str | None:
    try:
        assert isinstance(db, SqliteDatabase | PostgresDatabase)
        row = db.conn.execute("SELECT 1").fetchone()
    except Exception as exc:  # any failure of a probe is a failed probe, recorded as text
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None if row == (1,) else f"unexpected answer {row!r}"
