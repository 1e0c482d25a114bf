"""Shared fixtures for the harness's own tests: real servers, real files, no mocks.

One socket-only PostgreSQL and one TCP + password PostgreSQL per xdist worker (each starts
in about a second); tests create their own databases in them and never share tables.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
import yaml
from filelock import FileLock

from harness.embedded.provision import PostgresCluster

pytest_plugins = ("harness.faults.pytest_fixtures",)

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


CLI_TIMEOUT_S = 300


def run_cutover(
    *args: str, cwd: Path, unset: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m harness.cli ARGS`` as a user would, in a clean environment.

    ``CUTOVER_*_DSN`` and libpq's ``PG*`` variables would override what the plan says, and
    pytest's own variables would leak into the inner run, so none of them are passed on.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "PG", "CUTOVER_")) and k not in unset
    }
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


T = TypeVar("T")


def run_once(
    request: pytest.FixtureRequest, name: str, produce: Callable[[Path], T], kind: type[T]
) -> T:
    """Produce an expensive run once per session; under xdist once for all workers.

    The first worker produces it behind a FileLock and records it (``kind`` is a dataclass
    of builtin fields); the others read the record.
    """
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    if request.getfixturevalue("worker_id") == "master":
        return produce(factory.mktemp(name))
    root = factory.getbasetemp().parent / "cutover-shared-runs"  # this run's workers only
    root.mkdir(exist_ok=True)
    record = root / f"{name}.json"
    with FileLock(str(root / f"{name}.lock")):
        if not record.exists():
            work = root / name
            work.mkdir(exist_ok=True)
            record.write_text(json.dumps(dataclasses.asdict(produce(work))), encoding="utf-8")
        return kind(**json.loads(record.read_text(encoding="utf-8")))


@dataclasses.dataclass(frozen=True)
class DemoReports:
    """The report folders of two real `cutover demo` runs: one GO, one NO-GO (--drift)."""

    go: str
    nogo: str


DEMO_ROWS = "2000"  # enough rows for every seeded drift; small enough to run in seconds


@pytest.fixture(scope="session")
def demo_reports(request: pytest.FixtureRequest) -> DemoReports:
    """`cutover demo` and `cutover demo --drift`, once per session (once for all workers)."""

    def produce(work: Path) -> DemoReports:
        folders = {}
        for name, extra in (("go", ()), ("nogo", ("--drift",))):
            out = work / name
            done = run_cutover(
                "demo", "--rows", DEMO_ROWS, "--report-dir", str(out), *extra, cwd=work
            )
            assert (out / "results.json").is_file(), done.stdout + done.stderr
            assert done.returncode == (1 if extra else 0), done.stdout + done.stderr
            folders[name] = str(out)
        return DemoReports(**folders)

    return run_once(request, "demo-reports", produce, DemoReports)
