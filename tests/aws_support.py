"""Stand-ins for Aurora and DSQL in the AWS endpoint tests: real servers, moto, a frozen clock.

- :func:`standin` — one PostgreSQL 16 per worker on 127.0.0.1 that demands passwords (SCRAM)
  behind a real TLS front (self-signed certificate, also valid for :data:`DSQL_HOST`), with an
  application role whose password lives only in the "secret".
- :func:`aws_env` — an AWS environment with static, fake credentials and no profile, so
  nothing reaches a real account and DSQL tokens are reproducible.
- :func:`frozen_clock` — botocore's signing clock pinned, so a DSQL token is deterministic.
"""

from __future__ import annotations

import datetime
import json
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from psycopg import sql

from harness.provision import PostgresCluster

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
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, created_at text);
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
    """The token boto3 itself makes, computed independently of the harness."""
    client = boto3.client("dsql", region_name="us-east-1")
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
