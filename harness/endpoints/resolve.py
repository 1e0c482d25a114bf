"""Turn a plan's endpoint into something sessions can be opened on, once, with secrets kept in.

:func:`resolve` does the once-per-run work — starting an embedded or container server and
loading it, reading a DSN from the environment — and returns a :class:`Connector`: plain
data that pytest-xdist can hand to every worker. :func:`open_database` opens a read-only
session from it, connecting under the plan's ``connect`` budget and retry policy
(:mod:`harness.endpoints.retry`; every attempt is logged, no secret ever is). Environment overrides:
``CUTOVER_SOURCE_DSN`` / ``CUTOVER_TARGET_DSN`` replace the DSN of a ``postgres`` endpoint;
``aurora`` reads Secrets Manager (:mod:`.secrets`, :mod:`.aurora`); ``dsql`` signs an IAM token
for every connection (:mod:`.dsql`). A SQLite file is checked once here (a directory, an
unreadable or damaged file stop the run) and read without writing anything beside it
(:mod:`.sqlite_file`); a DSN that does not parse is refused without being echoed
(:mod:`.redact`).

The AWS and server modules are imported when an endpoint needs them: a plan with two SQLite
files never loads boto3.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import psycopg.conninfo
from psycopg import sql

from harness.endpoints.redact import (
    dsn_problem,
    dsn_secrets,
    redact_dsn,
    scrub,
    uri_password_unencoded,
)
from harness.endpoints.retry import Attempt, Backoff, ErrorClass, classify, retry_call
from harness.endpoints.settings import (
    AuroraEndpoint,
    ConnectSettings,
    DsqlEndpoint,
    DsqlLocalEndpoint,
    EmbeddedEndpoint,
    Endpoint,
    PostgresEndpoint,
    SqliteEndpoint,
)
from harness.endpoints.sqlite_file import check_file, open_read_only
from harness.errors import EndpointError

if TYPE_CHECKING:
    from harness.db.database import Database

CONNECT_TIMEOUT_S = 10
DSQL_KINDS = ("dsql", "dsql-local")
"""Endpoint kinds whose sessions follow Aurora DSQL's rules (no read-only startup option, no
SET statement_timeout, statements bounded to its five-minute transactions)."""


@dataclass(frozen=True)
class Connector:
    """How to open sessions on one side; builtin data only, the DSN never shown."""

    role: str
    """``source`` or ``target``."""
    kind: str
    """The plan's endpoint kind (sqlite, postgres, embedded, container, aurora, dsql,
    dsql-local)."""
    dialect: str
    """``sqlite`` or ``postgres``: what sessions speak."""
    address: str = field(repr=False)
    """A file path or a DSN (which may hold a password: never print it)."""
    display: str
    schema: str | None = None
    """The schema holding the tables (None: ``public``); when named, every session's
    search path is that schema and only it, so the application's queries find its tables."""
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    """Budget for one connect attempt (the plan's ``connect.connect_timeout_s``)."""
    retry: dict[str, Any] = field(default_factory=dict)
    """:class:`harness.endpoints.retry.Backoff` arguments; empty means the default policy."""
    token: dict[str, Any] | None = None
    """DSQL, or ``aurora`` with ``auth: iam``: what to sign a fresh IAM token with for each
    connection (no secret in it)."""
    secret: dict[str, Any] | None = None
    """``aurora`` with a Secrets Manager secret: where it is (a :class:`SecretRef`'s fields, no
    value), so the connect-rate probe can read it again per connection as a fresh client does."""
    reader_address: str | None = field(default=None, repr=False)
    """Aurora: the reader endpoint's DSN (same credentials as ``address``)."""
    evidence: dict[str, Any] = field(default_factory=dict)
    """The resolved endpoint as it may be shown: redacted DSN, secret id, region…"""
    credential_hint: str = ""
    """What to check when the server refuses the credentials (names, never values)."""

    @property
    def backoff(self) -> Backoff:
        return Backoff(**self.retry)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Connector:
        return cls(**data)


def resolve(
    spec: Endpoint,
    role: str,
    resources: ExitStack,
    *,
    connect: ConnectSettings | None = None,
) -> Connector:
    """Resolve one endpoint; servers it starts are stopped when ``resources`` closes."""
    connect = connect or ConnectSettings()
    found = _resolve(spec, role, resources)
    retry = connect.retry
    return Connector(
        **{
            **found.to_dict(),
            "connect_timeout_s": connect.connect_timeout_s,
            "retry": asdict(retry.backoff()),
        }
    )


def _resolve(spec: Endpoint, role: str, resources: ExitStack) -> Connector:

    if isinstance(spec, AuroraEndpoint):
        from harness.endpoints.aurora import resolve_aurora

        fields = resolve_aurora(spec, role)
        return Connector(role, "aurora", "postgres", schema=_named_schema(spec), **fields)
    if isinstance(spec, DsqlEndpoint):
        from harness.endpoints.dsql import resolve_dsql

        fields = resolve_dsql(spec, role)
        return Connector(role, "dsql", "postgres", schema=_named_schema(spec), **fields)
    if isinstance(spec, DsqlLocalEndpoint):
        from harness.dsql_local.endpoint import start_dsql_local

        fields = start_dsql_local(spec, role, resources)
        return Connector(role, "dsql-local", "postgres", schema=_named_schema(spec), **fields)
    if isinstance(spec, SqliteEndpoint):
        path = spec.path
        check_file(path, role)  # once, up front: a directory, a damaged file stop the run here
        return Connector(role, "sqlite", "sqlite", str(path), f"sqlite:{path} (read-only)")
    if isinstance(spec, PostgresEndpoint):
        dsn = _dsn_of(spec, role)
        return Connector(role, "postgres", "postgres", dsn, redact_dsn(dsn), _named_schema(spec))
    from harness.embedded.servers import start_container, start_embedded

    starter = start_embedded if isinstance(spec, EmbeddedEndpoint) else start_container
    dsn = starter(spec, role, resources)  # type: ignore[arg-type]
    return Connector(
        role, spec.kind, "postgres", dsn, f"{spec.kind}: {redact_dsn(dsn)}", _named_schema(spec)
    )


def _named_schema(spec: Endpoint) -> str | None:
    """The plan's ``schema:`` when it names one (sessions then search it), else None: the
    tables are in ``public`` and the search path is the server's or the DSN's own."""
    if isinstance(spec, SqliteEndpoint) or "db_schema" not in spec.model_fields_set:
        return None
    return spec.db_schema


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
    # A DSN refused here is not echoed: one that does not parse may hold the password
    # anywhere (libpq's own message quotes the text it stumbled on). The one exception shows
    # a one-line URI's user and host, everything from "user:" to the last "@" masked.
    if uri_password_unencoded(dsn):
        shown = f" in {scrub(dsn)}" if dsn.isprintable() else ""
        raise EndpointError(
            f"{origin}: the password{shown} holds a character a URI must "
            "percent-encode; percent-encode it as %40 for '@', %2F for '/', %20 for a space "
            "and %25 for '%' (or give the DSN as key=value with password='…')",
            endpoint=role,
        )
    problem = dsn_problem(dsn)
    if problem is not None:
        raise EndpointError(
            f"{origin} is not a valid PostgreSQL DSN (not shown: it may hold a password): "
            f"it holds {problem}; expected postgresql://USER@HOST:PORT/DBNAME or "
            "'host=… dbname=… user=…'",
            endpoint=role,
        )
    return dsn


def open_database(
    connector: Connector, *, on_attempt: Callable[[Attempt], None] | None = None
) -> Database:
    """A read-only session; failures become one-line :class:`EndpointError` with a hint.

    ``on_attempt`` sees every connect attempt of the retry policy (PostgreSQL sides)."""
    from harness.db.database import PostgresDatabase

    if connector.dialect == "sqlite":
        return _open_sqlite(connector)
    conn = connect_postgres(connector, on_attempt=on_attempt)
    db = PostgresDatabase(
        conn,
        connector.display,
        connector.schema or "public",
        reopen=lambda: _connect_postgres(connector),
        bounded=connector.kind in DSQL_KINDS,
        server_settings=connector.kind not in DSQL_KINDS,
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


# Every session prints values the same way: row checksums hash PostgreSQL's own text of
# values on both sides (columns compared raw, casts between types), and psycopg reads dates
# and intervals in these styles only. All four are on Aurora DSQL's SET allowlist
# (../shared/reference/dsql-compat.md §0b); the types whose text depends on any other setting
# (bytea_output, lc_monetary) are spelled out by the hashing SQL (harness.rows.canon.raw_sql).
PINNED = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "1"),
)
_REPORTED = ("TimeZone", "DateStyle", "IntervalStyle")
"""Pinned settings the server reports at connect (ParameterStatus): when they came back as
pinned, the startup options took (and a startup option outranks every database or role
default); when not (a pooler dropping ``options``), the session SETs them all."""
_PINNED_OPTIONS = " ".join(f"-c {name}={value.replace(' ', '')}" for name, value in PINNED)


def _options(conninfo: str, schema: str | None, *, read_only: bool) -> str:
    """Startup options: the DSN's own first, then ours, which win where both speak (read-only
    and the pinned settings); a side with a schema searches it, and only it. DSQL refuses
    ``default_transaction_read_only`` (``read_only=False``: see :class:`PostgresDatabase`)."""
    own = psycopg.conninfo.conninfo_to_dict(conninfo).get("options") or ""
    ours = ("-c default_transaction_read_only=on " if read_only else "") + _PINNED_OPTIONS
    if schema is not None:
        plain = re.fullmatch(r"[a-z_][a-z0-9_$]*", schema)
        name = schema if plain else '"' + schema.replace('"', '""') + '"'
        ours += " -c search_path=" + name.replace("\\", "\\\\").replace(" ", "\\ ")
    return f"{own} {ours}".strip()


def _pin(conn: psycopg.Connection[Any], schema: str | None) -> None:
    """SET the pinned settings (and the search path) when the startup options did not reach
    the server; a no-op, with no round trip, when they did."""
    if all(conn.info.parameter_status(n) == dict(PINNED)[n] for n in _REPORTED):
        return
    sets = [
        sql.SQL("SET {} = {}").format(sql.SQL(name), sql.Literal(value)) for name, value in PINNED
    ]
    if schema is not None:
        sets.append(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("; ").join(sets))


def connect_postgres(
    connector: Connector,
    *,
    reader: bool = False,
    on_attempt: Callable[[Attempt], None] | None = None,
) -> psycopg.Connection[Any]:
    """A session on ``connector`` (or its reader), retried under its policy.

    DSQL gets a freshly signed token per attempt. A failure that outlives the retries becomes
    one :class:`EndpointError` line naming the endpoint, the cause and what to check.
    """
    address = connector.reader_address if reader else connector.address
    if address is None:
        raise EndpointError("this endpoint has no reader_host", endpoint=connector.role)
    seen: list[str] = list(dsn_secrets(address))

    def attempt() -> psycopg.Connection[Any]:
        conninfo = address
        if connector.token is not None:
            token = fresh_token(connector, reader=reader)
            seen.append(token)
            conninfo = psycopg.conninfo.make_conninfo(address, password=token)
        conn = psycopg.connect(
            conninfo,
            autocommit=True,
            # libpq takes whole seconds and treats anything under 2 as 2
            connect_timeout=max(2, math.ceil(connector.connect_timeout_s)),
            options=_options(
                conninfo, connector.schema, read_only=connector.kind not in DSQL_KINDS
            ),
            application_name="cutover",
        )
        try:
            _pin(conn, connector.schema)
        except BaseException:
            conn.close()
            raise
        return conn

    try:
        return retry_call(
            attempt,
            policy=connector.backoff,
            endpoint=connector.role + ("-reader" if reader else ""),
            on_attempt=on_attempt,
        )
    except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
        display = redact_dsn(address) if reader else connector.display
        message = _connect_hint(scrub(str(exc), seen), classify(exc), connector)
        raise EndpointError(
            f"{message} [{display}]", endpoint=connector.role, sqlstate=exc.sqlstate
        ) from None


def fresh_token(connector: Connector, *, reader: bool = False) -> str:
    """The IAM token (the password) for one attempt: RDS (``aurora`` with ``auth: iam``,
    signed for the writer's or the reader's name) or DSQL."""
    assert connector.token is not None
    if connector.token.get("service") == "rds":
        from harness.endpoints.aurora import make_token as rds_token

        return rds_token(connector.token, connector.role, reader=reader)
    from harness.endpoints.dsql import make_token

    return make_token(connector.token, connector.role)


def _connect_postgres(connector: Connector) -> psycopg.Connection[Any]:
    return connect_postgres(connector)


def _open_sqlite(connector: Connector) -> Database:
    from harness.db.database import SqliteDatabase

    path = Path(connector.address)
    conn = open_read_only(path, connector.role, check_same_thread=False)
    return SqliteDatabase(conn, connector.display)


_HINTS = (
    ("password authentication failed", "wrong user name or password"),
    ("no password supplied", "the server wants a password and the DSN has none"),
    ("unable to accept connection, access denied", "access denied to these credentials"),
    ("connection refused", "nothing listens there: is the server running, host and port right?"),
    ("could not translate host name", "unknown host name: check the host in the DSN"),
    ("failed to resolve host", "unknown host name: check the host in the DSN"),
    ("name or service not known", "unknown host name: check the host in the DSN"),
    ("timeout expired", "no answer within {timeout} s: check host, port and firewall"),
    (
        "server does not support ssl",
        "TLS is required but the server offers none: is this the right host and port "
        "(a proxy or tunnel that ends TLS?)",
    ),
    ("certificate", "the server's TLS certificate was not accepted: check sslrootcert and host"),
    ("does not exist", "the database or role named in the DSN does not exist"),
    ("no such file or directory", "no server on that unix socket: is it running?"),
)


def _connect_hint(message: str, kind: ErrorClass, connector: Connector) -> str:
    first = " ".join(message.split())
    lowered = first.lower()
    for needle, hint in _HINTS:
        if needle in lowered:
            text = f"cannot connect: {hint.format(timeout=connector.connect_timeout_s)} ({first})"
            break
    else:
        text = f"cannot connect: {first}"
    if kind is ErrorClass.AUTH and connector.credential_hint:
        text += f"; {connector.credential_hint}"
    return text
