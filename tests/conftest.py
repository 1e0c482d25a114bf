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
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``slow`` items (end-to-end runs, tens of seconds each on a busy machine) first.

    xdist hands out items in this order, and the suite ends when the last worker does: a long
    run handed out late keeps one worker busy while the other has nothing left. Run first,
    the long items are spread over the workers and the many short ones fill the gaps after.
    The sort is stable, so every other item keeps its place (and each worker sees the same
    order, as xdist requires).
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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
        conn.execute(statements)  # type: ignore[call-overload]


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
    return run_each_once(request, {name: produce}, kind)[name]


def run_each_once(
    request: pytest.FixtureRequest, produce: Mapping[str, Callable[[Path], T]], kind: type[T]
) -> dict[str, T]:
    """Several independent expensive runs, each as ``run_once`` makes it, started together.

    Each name has its own lock and record, so a worker that finds one already being produced
    by another waits for that one only; started together, runs that mostly wait (on servers,
    subprocesses, the disk) overlap instead of queueing one behind the other.
    """
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    shared = request.getfixturevalue("worker_id") != "master"
    # Asked here, before any thread: the factory makes its base folder on first use, unlocked.
    root = factory.getbasetemp().parent / "cutover-shared-runs"  # this run's workers only
    if shared:
        root.mkdir(exist_ok=True)

    def once(name: str) -> T:
        if not shared:
            return produce[name](factory.mktemp(name))
        record = root / f"{name}.json"
        with FileLock(str(root / f"{name}.lock")):
            if not record.exists():
                work = root / name
                work.mkdir(exist_ok=True)
                made = dataclasses.asdict(produce[name](work))  # type: ignore[call-overload]
                record.write_text(json.dumps(made), encoding="utf-8")
            return kind(**json.loads(record.read_text(encoding="utf-8")))

    if len(produce) == 1:
        return {name: once(name) for name in produce}
    with ThreadPoolExecutor(len(produce)) as pool:
        started = {name: pool.submit(once, name) for name in produce}
    return {name: future.result() for name, future in started.items()}


@dataclasses.dataclass(frozen=True)
class DemoReports:
    """The report folders of two real `cutover demo` runs: one GO, one NO-GO (--drift), and
    what each printed."""

    go: str
    nogo: str
    go_stdout: str
    nogo_stdout: str


DEMO_ROWS = "2000"  # enough rows for every seeded drift; small enough to run in seconds


@pytest.fixture(scope="session")
def demo_reports(request: pytest.FixtureRequest) -> DemoReports:
    """`cutover demo` and `cutover demo --drift`, once per session (once for all workers).

    The two runs are independent, so they run side by side: each spends much of its time
    waiting on its own PostgreSQL and SQLite, and the worker that asked is idle meanwhile.
    """

    def demo(work: Path, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
        out, cwd = work / name, work / f"{name}-cwd"  # a folder each for what the run leaves
        cwd.mkdir(exist_ok=True)
        done = run_cutover("demo", "--rows", DEMO_ROWS, "--report-dir", str(out), *extra, cwd=cwd)
        assert (out / "results.json").is_file(), done.stdout + done.stderr
        assert done.returncode == (1 if extra else 0), done.stdout + done.stderr
        return done

    def produce(work: Path) -> DemoReports:
        with ThreadPoolExecutor(2) as pool:
            go = pool.submit(demo, work, "go")
            nogo = pool.submit(demo, work, "nogo", "--drift")
        return DemoReports(
            go=str(work / "go"),
            nogo=str(work / "nogo"),
            go_stdout=go.result().stdout,
            nogo_stdout=nogo.result().stdout,
        )

    return run_once(request, "demo-reports", produce, DemoReports)
