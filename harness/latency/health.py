"""Connection reliability and the ``SELECT 1`` health check, measured on fresh sessions.

Both open their own sessions through :func:`harness.endpoints.open_database`, the same path
every check uses (read-only, redacted errors), and close them again. The connect-rate probe
goes through the whole path a fresh client takes: an IAM endpoint signs a token per attempt
(as every session does), and a Secrets Manager endpoint reads its secret again for each
connection, inside the clock (every other session uses the run's one read).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from harness.db.database import Database, PostgresDatabase, SqliteDatabase
from harness.endpoints.resolve import Connector, open_database
from harness.endpoints.retry import Attempt
from harness.errors import EndpointError
from harness.queries.answers import statement_timeout


@dataclass(frozen=True)
class Probe:
    """One ``SELECT 1``: whether it answered within the timeout, and how long it took."""

    ok: bool
    ms: float
    error: str | None = None


@dataclass(frozen=True)
class Connection:
    """One fresh session opened (or not) under the plan's retry policy."""

    ok: bool
    """Opened (within ``max_ms`` when the budget has one)."""
    ms: float
    """From the first attempt to a usable session, or to giving up."""
    attempts: int
    """Connect attempts the retry policy made (1 when the first one worked)."""
    error: str | None = None


def connections(
    connector: Connector, runs: int, *, max_ms: float | None, allowed_failures: int
) -> list[Connection]:
    """Open and close ``runs`` sessions one after another, each through the whole path
    (the secret read again or a fresh token, TLS, the retry policy, the schema check), and
    time each.

    Stops once more than ``allowed_failures`` have failed: the rate is then decided, and a
    dead endpoint need not be retried a hundred times over to prove it.
    """
    done: list[Connection] = []
    for _ in range(runs):
        attempts: list[Attempt] = []
        start = time.perf_counter_ns()
        try:
            db = open_database(_as_a_fresh_client(connector), on_attempt=attempts.append)
        except EndpointError as exc:
            ms = (time.perf_counter_ns() - start) / 1e6
            done.append(Connection(False, round(ms, 3), max(1, len(attempts)), str(exc)))
        else:
            ms = (time.perf_counter_ns() - start) / 1e6
            db.close()
            late = max_ms is not None and ms > max_ms
            error = f"opened after {ms:.0f} ms (budget {max_ms:g} ms)" if late else None
            done.append(Connection(error is None, round(ms, 3), max(1, len(attempts)), error))
        if sum(not c.ok for c in done) > allowed_failures:
            break
    return done


def _as_a_fresh_client(connector: Connector) -> Connector:
    """``connector`` with its credentials as a client opening a new connection gets them: a
    Secrets Manager endpoint's secret read again (a rotated password, a throttled or denied
    read count here); anything else as it is (a token is signed per attempt anyway)."""
    if connector.secret is None:
        return connector
    from harness.endpoints.aurora import with_fresh_secret

    return replace(
        connector,
        address=with_fresh_secret(connector.address, connector.secret, connector.role),
    )


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
