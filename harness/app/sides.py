"""Point an application process at one side: the environment it gets, and the database
behind it.

A test suite writes. So a side is only ever handed to the application as a database cutover
made for the purpose, unless the plan lists the side in ``allow_writes``:

- ``embedded`` and ``container`` (servers cutover started): a fresh database on the same
  server, filled from the side's database with ``pg_dump | pg_restore`` (a snapshot, so the
  run's own read sessions may stay open), dropped afterwards — the suite never writes to the
  database the row checks read;
- ``dsql-local`` (a local DSQL cutover started): the side itself, since DSQL has one database
  (``postgres``); the server and its data end with the run;
- ``sqlite``: a copy of the file made for the run with SQLite's backup API (consistent even
  with a WAL file beside it), deleted afterwards;
- anything else (``postgres``, ``aurora``, ``dsql``, or a sqlite file used in place): only
  with ``allow_writes``, and then the side itself.

The process gets ``CUTOVER_SIDE``, ``DATABASE_URL`` (``postgresql://…``, or ``sqlite:///`` +
the file's absolute path for a SQLite side: ``new URL(url).pathname`` is the path) and, for
PostgreSQL, ``PGHOST``/``PGPORT``/``PGUSER``/``PGPASSWORD``/``PGDATABASE`` (``PGSSLMODE``
where the side needs TLS). A side that signs an IAM token per connection (DSQL) gets a fresh
one as its password. Every password and token is listed in :attr:`Pointed.secrets`, which the
callers scrub from anything they keep.
"""

from __future__ import annotations

import secrets as random
import shutil
import sqlite3
import subprocess
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import psycopg.conninfo
from psycopg import sql

from harness.endpoints.redact import redact_dsn, scrub
from harness.endpoints.resolve import Connector
from harness.endpoints.sqlite_file import open_read_only
from harness.errors import EndpointError, PlanError

CREATED = frozenset({"embedded", "container", "dsql-local"})
"""Endpoint kinds whose database cutover itself made for the run."""
COPIED = frozenset({"embedded", "container"})
"""Of those, the kinds whose server can hold a copy database for the application."""
_COPY_TIMEOUT_S = 900


@dataclass(frozen=True)
class Pointed:
    """An application's view of one side."""

    side: str
    env: dict[str, str]
    """``CUTOVER_SIDE``, ``DATABASE_URL`` and, for PostgreSQL, ``PG*`` (holds the password)."""
    shown: str
    """Where it points, as it may be shown (no password)."""
    secrets: tuple[str, ...]
    """Every password or token in :attr:`env`: scrub them from output before keeping it."""

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets)


def check_writable(connector: Connector, *, allow_writes: bool, section: str) -> None:
    """Refuse, up front, a side the application would write to that cutover did not create."""
    if connector.kind in CREATED or connector.dialect == "sqlite" or allow_writes:
        return  # a sqlite file is copied for the run unless allowed in place
    raise PlanError(
        f"{section} would let the application write to the {connector.role} "
        f"({connector.kind}: {connector.display}), a database cutover did not create; point "
        f"the {connector.role} at one it creates (kind: embedded, container, dsql-local, or a "
        f"sqlite file, which is copied for the run) or, if writes there are acceptable, "
        f"allow them with {_allow_key(section, connector.role)}"
    )


def _allow_key(section: str, role: str) -> str:
    if section == "app_tests":
        return f"app_tests.allow_writes: [{role}]"
    return "health.allow_writes: true"


@contextmanager
def pointed_at(connector: Connector, *, allow_writes: bool, workdir: Path) -> Iterator[Pointed]:
    """The environment for an application on ``connector``'s side, with its rehearsal copy
    made for as long as the block runs (see the module docstring)."""
    if connector.dialect == "sqlite":
        with _sqlite(connector, allow_writes=allow_writes, workdir=workdir) as pointed:
            yield pointed
        return
    if connector.kind in COPIED and not allow_writes:
        with _postgres_copy(connector) as dsn:
            yield _postgres_env(connector, dsn, f"a copy made for the run, {redact_dsn(dsn)}")
        return
    check_writable(connector, allow_writes=allow_writes, section="the application")
    yield _postgres_env(connector, connector.address, connector.display)


@contextmanager
def _sqlite(connector: Connector, *, allow_writes: bool, workdir: Path) -> Iterator[Pointed]:
    original = Path(connector.address).resolve()
    if allow_writes:
        yield _sqlite_env(connector.role, original, f"sqlite:{original} (in place)")
        return
    folder = workdir / f"{connector.role}-{random.token_hex(4)}"
    folder.mkdir(parents=True)
    copy = folder / original.name
    source = open_read_only(original, connector.role)
    try:
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    try:
        yield _sqlite_env(connector.role, copy, f"sqlite:{copy} (a copy made for the run)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _sqlite_env(side: str, path: Path, shown: str) -> Pointed:
    return Pointed(
        side,
        {"CUTOVER_SIDE": side, "DATABASE_URL": "sqlite://" + urllib.parse.quote(str(path))},
        shown,
        (),
    )


@contextmanager
def _postgres_copy(connector: Connector) -> Iterator[str]:
    """A new database on the side's server holding what the side's database holds."""
    params = psycopg.conninfo.conninfo_to_dict(connector.address)
    original = str(params.get("dbname") or "postgres")
    name = f"cutover_app_{connector.role}_{random.token_hex(4)}"
    admin = psycopg.conninfo.make_conninfo(connector.address, dbname=original)
    copy = psycopg.conninfo.make_conninfo(connector.address, dbname=name)
    secrets = [str(params["password"])] if params.get("password") else []
    with _admin(admin, connector, secrets) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        _dump_into(admin, copy, connector, secrets)
        yield copy
    finally:
        with _admin(admin, connector, secrets) as conn:
            # FORCE: an application the suite left running must not keep the copy alive.
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def _admin(
    conninfo: str, connector: Connector, secrets: list[str]
) -> Iterator[psycopg.Connection[object]]:
    # Not through open_database: its sessions are read-only, and creating the copy writes
    # (to a server cutover started, never to one it did not).
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise EndpointError(
            f"cannot make the application's copy of the {connector.role}: "
            f"{scrub(str(exc), secrets).strip()}",
            endpoint=connector.role,
        ) from None
    with conn:
        yield conn


def _dump_into(source: str, target: str, connector: Connector, secrets: list[str]) -> None:
    from harness.embedded.provision import postgres_bin

    with tempfile.TemporaryFile() as dump_log:
        dump = subprocess.Popen(
            [str(postgres_bin("pg_dump")), "--format=custom", "--no-owner", "--dbname", source],
            stdout=subprocess.PIPE,
            stderr=dump_log,
        )
        assert dump.stdout is not None
        try:
            restore = subprocess.run(
                [
                    str(postgres_bin("pg_restore")),
                    "--no-owner",
                    "--exit-on-error",
                    "--dbname",
                    target,
                ],
                stdin=dump.stdout,
                capture_output=True,
                timeout=_COPY_TIMEOUT_S,
                check=False,
            )
        finally:
            dump.stdout.close()
            dump.wait(timeout=_COPY_TIMEOUT_S)
        dump_log.seek(0)
        dump_err = dump_log.read()
    problem = (
        dump_err.decode(errors="replace")
        if dump.returncode
        else restore.stderr.decode(errors="replace")
        if restore.returncode
        else ""
    )
    if problem:
        first = next((ln for ln in problem.splitlines() if ln.strip()), "no message")
        raise EndpointError(
            f"cannot copy the {connector.role} for the application: {scrub(first, secrets)}",
            endpoint=connector.role,
        )


def _postgres_env(connector: Connector, conninfo: str, shown: str) -> Pointed:
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    password = str(params.get("password") or "")
    if connector.token is not None:  # DSQL, or aurora with auth: iam
        from harness.endpoints.resolve import fresh_token

        password = fresh_token(connector)
    # node-postgres and most drivers know no hostaddr: where the side has one (a tunnel, a
    # local DSQL), the application connects to that address; a token stays signed for the
    # endpoint's name, which is what the server checks.
    host = str(params.get("hostaddr") or params.get("host") or "localhost")
    port = str(params.get("port") or "5432")
    user = str(params.get("user") or "postgres")
    dbname = str(params.get("dbname") or "postgres")
    env = {
        "CUTOVER_SIDE": connector.role,
        "PGHOST": host,
        "PGPORT": port,
        "PGUSER": user,
        "PGPASSWORD": password,
        "PGDATABASE": dbname,
    }
    query: dict[str, str] = {}
    sslmode = params.get("sslmode")
    if sslmode and sslmode not in ("disable", "allow", "prefer"):
        env["PGSSLMODE"] = query["sslmode"] = str(sslmode)
    quoted = urllib.parse.quote
    if host.startswith("/"):  # a unix socket folder: the ?host= form libpq and node-postgres read
        netloc, query = "", {"host": host, "port": port, **query}
    else:
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    auth = quoted(user, safe="") + (f":{quoted(password, safe='')}" if password else "")
    env["DATABASE_URL"] = f"postgresql://{auth}@{netloc}/{quoted(dbname, safe='')}" + (
        f"?{urllib.parse.urlencode(query, safe='/')}" if query else ""
    )
    return Pointed(connector.role, env, shown, (password,) if password else ())
