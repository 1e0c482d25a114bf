"""Shared fixtures for the harness's own tests: real servers, real files, no mocks.

One socket-only PostgreSQL and one TCP + password PostgreSQL per xdist worker (each starts
in about a second); tests create their own databases in them and never share tables.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from harness.provision import PostgresCluster

SHARED = Path(__file__).resolve().parents[2] / "shared"
CHINOOK = SHARED / "fixtures" / "chinook"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A socket-only, trust-auth PostgreSQL 16 owned by this test worker."""
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_password_cluster() -> Iterator[tuple[PostgresCluster, str]]:
    """A PostgreSQL 16 on 127.0.0.1 that requires a password (scram-sha-256)."""
    password = secrets.token_urlsafe(12)
    with PostgresCluster(tcp=True, password=password) as cluster:
        yield cluster, password


@pytest.fixture
def pg_database(pg_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh empty database in the worker's cluster; returns its DSN."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    dsn = pg_cluster.create_database(name)
    yield dsn
    pg_cluster.drop_database(name)


def run_sql(dsn: str, statements: str) -> None:
    """Run setup SQL in a database the test created."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statements)  # type: ignore[arg-type]


@pytest.fixture
def write_plan(tmp_path: Path) -> Callable[..., Path]:
    """Write a plan dict (or raw YAML text) to tmp_path/plan.yaml and return its path."""

    def _write(plan: dict[str, Any] | str, name: str = "plan.yaml") -> Path:
        path = tmp_path / name
        text = plan if isinstance(plan, str) else yaml.safe_dump(plan, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def chinook() -> Path:
    """The Chinook fixture folder from ../shared; skips when the project stands alone."""
    if not (CHINOOK / "Chinook_Sqlite.sqlite").is_file():
        pytest.skip(f"Chinook fixtures not found at {CHINOOK} (../shared is absent)")
    return CHINOOK
