"""Turn a plan's endpoint into something sessions can be opened on, once, with secrets kept in.

:func:`resolve` does the once-per-run work — starting an embedded or container server and
loading it, reading a DSN from the environment — and returns a :class:`Connector`: plain
data that pytest-xdist can hand to every worker. :func:`open_database` opens a read-only
session from it. Environment overrides: ``CUTOVER_SOURCE_DSN`` / ``CUTOVER_TARGET_DSN``
replace the DSN of a ``postgres`` endpoint.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import psycopg.conninfo

from harness.database import Database, PostgresDatabase, SqliteDatabase
from harness.errors import EndpointError
from harness.plan import ContainerEndpoint, EmbeddedEndpoint, PostgresEndpoint, SqliteEndpoint
from harness.redact import dsn_secrets, misplaced_at, redact_dsn, scrub

CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class Connector:
    """How to open sessions on one side; builtin data only, the DSN never shown."""

    role: str
    """``source`` or ``target``."""
    kind: str
    """The plan's endpoint kind (sqlite, postgres, embedded, container)."""
    dialect: str
    """``sqlite`` or ``postgres``: what sessions speak."""
    address: str = field(repr=False)
    """A file path or a DSN (which may hold a password: never print it)."""
    display: str
    schema: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Connector:
        return cls(**data)


Spec = SqliteEndpoint | PostgresEndpoint | EmbeddedEndpoint | ContainerEndpoint


def resolve(spec: Spec, role: str, resources: ExitStack) -> Connector:
    """Resolve one endpoint; servers it starts are stopped when ``resources`` closes."""
    if isinstance(spec, SqliteEndpoint):
        path = spec.path
        if not path.is_file():
            raise EndpointError(
                f"SQLite file {path} not found (check {role}.path in the plan)", endpoint=role
            )
        return Connector(role, "sqlite", "sqlite", str(path), f"sqlite:{path} (read-only)")
    if isinstance(spec, PostgresEndpoint):
        dsn = _dsn_of(spec, role)
        return Connector(role, "postgres", "postgres", dsn, redact_dsn(dsn), spec.db_schema)
    from harness.endpoints.servers import start_container, start_embedded

    starter = start_embedded if isinstance(spec, EmbeddedEndpoint) else start_container
    dsn = starter(spec, role, resources)  # type: ignore[arg-type]
    return Connector(
        role, spec.kind, "postgres", dsn, f"{spec.kind}: {redact_dsn(dsn)}", spec.db_schema
    )


def _dsn_of(spec: PostgresEndpoint, role: str) -> str:
    override = os.environ.get(f"CUTOVER_{role.upper()}_DSN")
    if override:
        dsn, origin = override, f"CUTOVER_{role.upper()}_DSN"
    elif spec.dsn_env is not None:
        value = os.environ.get(spec.dsn_env)
        if not value:
            raise EndpointError(
                f"environment variable {spec.dsn_env} (named by {role}.dsn_env) is not set",
                endpoint=role,
            )
        dsn, origin = value, spec.dsn_env
    else:
        dsn, origin = str(spec.dsn), f"{role}.dsn"
    if misplaced_at(dsn):
        raise EndpointError(
            f"{origin}: the password in {redact_dsn(dsn)} contains '@'; percent-encode it as %40",
            endpoint=role,
        )
    try:
        psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        raise EndpointError(
            f"{origin} is not a valid PostgreSQL DSN ({redact_dsn(dsn)}); expected "
            "postgresql://USER@HOST:PORT/DBNAME or 'host=… dbname=… user=…'",
            endpoint=role,
        ) from None
    return dsn


def open_database(connector: Connector) -> Database:
    """A read-only session; failures become one-line :class:`EndpointError` with a hint."""
    if connector.dialect == "sqlite":
        return _open_sqlite(connector)
    conn = _connect_postgres(connector)
    db = PostgresDatabase(
        conn,
        connector.display,
        connector.schema or "public",
        reopen=lambda: _connect_postgres(connector),
    )
    exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (db.schema,)).fetchone()
    if not exists:
        conn.close()
        raise EndpointError(
            f"schema '{db.schema}' does not exist in {connector.display} "
            f"(check {connector.role}.schema in the plan)",
            endpoint=connector.role,
        )
    return db


# Read-only, and every session prints values the same way: row checksums hash PostgreSQL's
# own text output of values on both sides, which depends on these settings.
_SESSION = (
    "-c default_transaction_read_only=on -c TimeZone=UTC -c DateStyle=ISO,YMD"
    " -c IntervalStyle=postgres -c extra_float_digits=1"
)


def _connect_postgres(connector: Connector) -> psycopg.Connection[Any]:
    secrets = dsn_secrets(connector.address)
    try:
        return psycopg.connect(
            connector.address,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            options=_SESSION,
            application_name="cutover",
        )
    except psycopg.OperationalError as exc:
        raise EndpointError(
            _connect_hint(scrub(str(exc), secrets)) + f" [{connector.display}]",
            endpoint=connector.role,
            sqlstate=exc.sqlstate,
        ) from None


def _open_sqlite(connector: Connector) -> Database:
    path = Path(connector.address)
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.Error as exc:
        raise EndpointError(
            f"cannot open {path} as a SQLite database: {exc}", endpoint=connector.role
        ) from None
    return SqliteDatabase(conn, connector.display)


_HINTS = (
    ("password authentication failed", "wrong user name or password"),
    ("no password supplied", "the server wants a password and the DSN has none"),
    ("connection refused", "nothing listens there: is the server running, host and port right?"),
    ("could not translate host name", "unknown host name: check the host in the DSN"),
    ("name or service not known", "unknown host name: check the host in the DSN"),
    ("timeout expired", f"no answer within {CONNECT_TIMEOUT_S} s: check host, port and firewall"),
    ("does not exist", "the database or role named in the DSN does not exist"),
    ("no such file or directory", "no server on that unix socket: is it running?"),
)


def _connect_hint(message: str) -> str:
    first = " ".join(message.split())
    lowered = first.lower()
    for needle, hint in _HINTS:
        if needle in lowered:
            return f"cannot connect: {hint} ({first})"
    return f"cannot connect: {first}"
