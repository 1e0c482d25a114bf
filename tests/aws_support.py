"""Stand-ins for Aurora and DSQL in the AWS endpoint tests: real servers, moto, a frozen clock.

- :func:`standin` — one PostgreSQL 16 per worker on 127.0.0.1 that demands passwords (SCRAM)
  behind a real TLS front (self-signed certificate, also valid for :data:`DSQL_HOST`), with an
  application role whose password lives only in the "secret".
- :func:`aws_env` — an AWS environment with static, fake credentials and no profile, so
  nothing reaches a real account and DSQL tokens are reproducible.
- :func:`frozen_clock` — botocore's signing clock pinned, so a DSQL token is deterministic.
- :func:`dsql_cluster` — a local Aurora DSQL (:mod:`harness.dsql_local`) for :data:`DSQL_HOST`
  that checks every token against :data:`ACCESS_KEY`/:data:`SECRET_KEY` (the keys
  :func:`aws_env` and :func:`run_verify` sign with) and enforces DSQL's dialect.
"""

from __future__ import annotations

import datetime
import http.server
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from psycopg import sql

from harness.dsql_local import DsqlLocal
from harness.dsql_local.tokens import SigningIdentity
from harness.embedded.provision import PostgresCluster

DSQL_ID = "abcdefghijklmnopqrstuvwxyz"
DSQL_HOST = f"{DSQL_ID}.dsql.us-east-1.on.aws"
REGION = "us-east-2"
SECRET_ID = "rds!cluster-d1aab255-8b30-49d0-a107-f2cc5e0c5cc6"
APP_USER = "skillin_app"
APP_DB = "skillindb"
FROZEN = datetime.datetime(2026, 11, 22, 1, 2, 3)
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

SCHEMA = """
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, created_at text);
INSERT INTO users VALUES (1, 'ada@example.com', '2026-01-01'), (2, 'bob@example.com', NULL);
"""


@dataclass(frozen=True)
class StandIn:
    """The Aurora/DSQL stand-in server and the secrets only its tests know."""

    cluster: PostgresCluster
    admin_password: str
    app_password: str

    @property
    def tls_port(self) -> int:
        return self.cluster.tls_port

    @property
    def plain_port(self) -> int:
        return self.cluster.port

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(self.cluster.conninfo(dbname), autocommit=True)

    def set_password(self, role: str, password: str) -> None:
        """Give ``role`` (created on first use) ``password``: how a test plants a DSQL token."""
        with self.admin() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )

    def secrets(self) -> tuple[str, ...]:
        return (self.admin_password, self.app_password)


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    admin_password = "adm-" + secrets.token_urlsafe(16)
    app_password = "app-" + secrets.token_urlsafe(16)
    with PostgresCluster(
        tcp=True, password=admin_password, tls=True, tls_names=(DSQL_HOST,)
    ) as cluster:
        found = StandIn(cluster, admin_password, app_password)
        found.set_password(APP_USER, app_password)
        with found.admin() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(APP_DB), sql.Identifier(APP_USER)
                )
            )
        with psycopg.connect(
            cluster.conninfo(APP_DB, user=APP_USER, password=app_password), autocommit=True
        ) as conn:
            conn.execute(SCHEMA)  # type: ignore[arg-type]
        yield found


@pytest.fixture(scope="session")
def dsql_cluster() -> Iterator[DsqlLocal]:
    """One local DSQL per worker, its table ``users`` loaded as :data:`SCHEMA` holds it."""
    with DsqlLocal(endpoint=DSQL_HOST, identity=SigningIdentity(ACCESS_KEY, SECRET_KEY)) as dsql:
        with psycopg.connect(
            dsql.conninfo(password=dsql.token()), autocommit=True
        ) as conn:  # DSQL's rules: one DDL per transaction, then the rows
            conn.execute(SCHEMA.splitlines()[1])
            conn.execute(SCHEMA.splitlines()[2])
        yield dsql


def without_aws(folder: Path, **keys: str) -> dict[str, str]:
    """The environment of a user with no AWS account: no credentials, profile or region (and
    no PG* or pytest variables), plus ``keys``; config files pointed into ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_", "PG"))}
    env.update(
        AWS_CONFIG_FILE=str(folder / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(folder / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        **keys,
    )
    return env


def sqlite_source(folder: Path) -> Path:
    """The same two users in a SQLite file: the "local database" side of a plan."""
    path = folder / "source.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, created_at TEXT);"
            "INSERT INTO users VALUES (1, 'ada@example.com', '2026-01-01'),"
            " (2, 'bob@example.com', NULL);"
        )
    conn.close()
    return path


_AWS_VARS = (
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "CUTOVER_SECRET_ID",
    "CUTOVER_SOURCE_SECRET_ID",
    "CUTOVER_TARGET_SECRET_ID",
    "CUTOVER_SOURCE_REGION",
    "CUTOVER_TARGET_REGION",
)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Static fake credentials, no profile, no region: every test names what it needs."""
    for var in _AWS_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def frozen_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime.datetime = FROZEN) -> None:
    """Pin the clock botocore signs with (a DSQL token embeds the signing time)."""
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: moment)


def dsql_token(*, admin: bool = True, host: str = DSQL_HOST, expires_in: int = 900) -> str:
    """The token boto3 itself makes, computed independently of the harness.

    A new session, not boto3's default one: the default session keeps the credentials it
    first resolved, which an earlier test in the same worker may have set to other keys, and
    the token would then not be the one a `cutover verify` with ``aws_env``'s keys makes.
    """
    client = boto3.session.Session().client("dsql", region_name="us-east-1")
    make = (
        client.generate_db_connect_admin_auth_token
        if admin
        else client.generate_db_connect_auth_token
    )
    token: str = make(Hostname=host, Region="us-east-1", ExpiresIn=expires_in)
    return token


def put_secret(client: Any, value: dict[str, Any] | str, name: str = SECRET_ID) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    client.create_secret(Name=name, SecretString=text)


# --- out of process: a moto server, a misbehaving AWS endpoint, `cutover verify` --------------


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 for subprocesses; returns its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FlakyAws:
    """A real HTTP endpoint that answers Secrets Manager calls with ``errors`` first, then
    ``secret_string`` (botocore's JSON protocol), counting every request it gets."""

    def __init__(self, errors: list[tuple[int, str]], secret_string: str) -> None:
        self.errors = list(errors)
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.requests += 1
                if owner.errors:
                    status, code = owner.errors.pop(0)
                    body = {"__type": code, "message": "injected by the test"}
                else:
                    status = 200
                    body = {
                        "ARN": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:x",
                        "Name": SECRET_ID,
                        "SecretString": secret_string,
                        "VersionId": "v1",
                    }
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # keep pytest's output clean
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


FROZEN_PLUGIN = f'''"""Pin botocore's signing clock in a `cutover verify` run (tests only)."""
import datetime

import botocore.auth

_AT = datetime.datetime.fromisoformat("{FROZEN.isoformat()}")
botocore.auth.get_current_datetime = lambda remove_tzinfo=True: _AT
'''


def run_verify(
    plan: Path, cwd: Path, *, env: dict[str, str] | None = None, freeze: bool = False
) -> subprocess.CompletedProcess[str]:
    """``cutover verify`` as a user runs it, with fake static AWS credentials and no profile;
    ``freeze`` pins the signing clock so the DSQL token the run makes is predictable."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "PG", "CUTOVER_", "AWS_"))
    }
    clean.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_CONFIG_FILE=str(cwd / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(cwd / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    clean.update(env or {})
    extra: list[str] = []
    if freeze:
        (cwd / "cutover_frozen_clock.py").write_text(FROZEN_PLUGIN, encoding="utf-8")
        clean["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(cwd), clean.get("PYTHONPATH", "")) if p
        )
        extra = ["--", "-p", "cutover_frozen_clock"]
    args = ["verify", "--plan", str(plan), "--report-dir", str(cwd / "out"), *extra]
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def report_texts(folder: Path) -> dict[str, str]:
    """Every file a run wrote, as text (for greps)."""
    return {
        str(path): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
