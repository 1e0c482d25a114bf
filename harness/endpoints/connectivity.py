"""The ``connectivity`` checks: each endpoint answers within the plan's budget, and a reader
endpoint answers the same as its writer.

Evidence is the resolved endpoint as it may be shown (redacted DSN, secret id, region, TLS),
the server version, how long the connect took and every attempt the retry policy made.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import psycopg

from harness.endpoints.resolve import Connector, connect_postgres
from harness.endpoints.retry import Attempt
from harness.endpoints.sqlite_file import open_read_only
from harness.results.check import CheckResult, Status

AREA = "connectivity"


def endpoint_evidence(connector: Connector) -> dict[str, Any]:
    """The resolved endpoint, redacted (``display`` never holds a secret)."""
    return {"kind": connector.kind, "display": connector.display, **connector.evidence}


def check_connect(connector: Connector, *, budget_s: float) -> CheckResult:
    """Open a fresh session the way every check does and time it against ``budget_s``."""
    evidence: dict[str, Any] = {"endpoint": endpoint_evidence(connector), "budget_s": budget_s}
    if connector.dialect == "sqlite":
        start = time.perf_counter()
        with contextlib.closing(open_read_only(Path(connector.address), connector.role)) as conn:
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        elapsed = time.perf_counter() - start
        version = f"SQLite {sqlite3.sqlite_version}"
        evidence.update(server_version=version, connect_s=round(elapsed, 4), attempts=[])
        return _judge(connector.role, elapsed, budget_s, version, evidence)
    attempts: list[Attempt] = []
    start = time.perf_counter()
    with connect_postgres(connector, on_attempt=attempts.append) as conn:
        elapsed = time.perf_counter() - start
        version = f"PostgreSQL {conn.execute('SHOW server_version').fetchone()[0]}"  # type: ignore[index]
        evidence.update(
            server_version=version,
            tls=bool(conn.pgconn.ssl_in_use),
            user=conn.info.user,
            database=conn.info.dbname,
        )
    evidence.update(connect_s=round(elapsed, 4), attempts=[a.to_dict() for a in attempts])
    return _judge(connector.role, elapsed, budget_s, version, evidence)


def _judge(
    role: str, elapsed: float, budget_s: float, version: str, evidence: dict[str, Any]
) -> CheckResult:
    retries = max(0, len(evidence.get("attempts", [])) - 1)
    tried = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    if elapsed > budget_s:
        return CheckResult(
            AREA,
            role,
            Status.FAIL,
            f"{role} answered in {elapsed:.2f} s{tried}, over the {budget_s:g} s connect budget "
            f"({version})",
            evidence=evidence,
        )
    return CheckResult(
        AREA, role, Status.PASS, f"{role} answered in {elapsed:.2f} s{tried} ({version})",
        evidence=evidence,
    )  # fmt: skip


_FINGERPRINT = """
SELECT current_setting('server_version'), current_database(),
       (SELECT count(*) FROM information_schema.tables WHERE table_schema = %(schema)s),
       (SELECT coalesce(md5(string_agg(table_name, ',' ORDER BY table_name)), '')
          FROM information_schema.tables WHERE table_schema = %(schema)s),
       pg_is_in_recovery()
"""


def check_reader(connector: Connector) -> CheckResult:
    """The reader endpoint answers like the writer: same version, database and tables; lag."""
    name = f"{connector.role}-reader"
    params = {"schema": connector.schema or "public"}
    with connect_postgres(connector) as writer, connect_postgres(connector, reader=True) as reader:
        mine = writer.execute(_FINGERPRINT, params).fetchone()
        theirs = reader.execute(_FINGERPRINT, params).fetchone()
        assert mine is not None
        assert theirs is not None
        lag_s, lag_how = _replica_lag(reader, in_recovery=bool(theirs[4]))
    labels = ("server_version", "database", "tables", "table_names_md5")
    differ = [label for label, a, b in zip(labels, mine, theirs, strict=False) if a != b]
    evidence = {
        "writer": dict(zip(labels, mine, strict=False)),
        "reader": dict(zip(labels, theirs, strict=False)),
        "reader_in_recovery": bool(theirs[4]),
        "replica_lag_s": lag_s,
        "replica_lag_measured_by": lag_how,
        "reader_dsn": connector.evidence.get("reader_dsn"),
    }
    lag = "unknown lag" if lag_s is None else f"replica lag {lag_s:.3f} s"
    if differ:
        return CheckResult(
            AREA,
            name,
            Status.FAIL,
            f"the reader answers differently from the writer ({', '.join(differ)}); {lag}",
            evidence=evidence,
        )
    return CheckResult(
        AREA, name, Status.PASS, f"reader answers like the writer; {lag} ({lag_how})",
        evidence=evidence,
    )  # fmt: skip


def _replica_lag(reader: psycopg.Connection[Any], *, in_recovery: bool) -> tuple[float | None, str]:
    """Lag as the reader measures it: Aurora's own view first, then PostgreSQL's replay time."""
    try:
        row = reader.execute(
            "SELECT max(replica_lag_in_msec) FROM aurora_replica_status()"
        ).fetchone()
        if row is not None and row[0] is not None:
            return float(row[0]) / 1000.0, "aurora_replica_status()"
    except psycopg.Error:
        pass  # not Aurora: fall through to stock PostgreSQL
    if not in_recovery:
        return 0.0, "reader is not in recovery (it is the writer's own server)"
    row = reader.execute(
        "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
    ).fetchone()
    lag = None if row is None or row[0] is None else float(row[0])
    return lag, "now() - pg_last_xact_replay_timestamp()"
