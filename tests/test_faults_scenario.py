"""The fault scenario as a user runs it: pytest on scenarios/test_faults.py with a plan, the
matrix in results.json and report.html, and a reset during the row comparison that must not
turn a mismatch into a match."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.embedded.migrate import copy_sqlite
from harness.embedded.provision import PostgresCluster

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "test_faults.py"
SCENARIOS = SCENARIO.parent


def make_app_db(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)")
        conn.executemany(
            "INSERT INTO items VALUES (?, ?, ?)", [(i, f"item {i}", i * 3) for i in range(1, 801)]
        )
    return path


@pytest.fixture
def copied(pg_cluster: PostgresCluster, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The SQLite app database and a PostgreSQL copy of it in a database made here."""
    app_db = make_app_db(tmp_path / "app.db")
    name = f"t_{uuid.uuid4().hex[:10]}"
    dsn = pg_cluster.create_database(name)
    copy_sqlite(app_db, dsn)
    yield app_db, dsn
    pg_cluster.drop_database(name)


def run_scenario(plan: Path, report_dir: Path) -> tuple[int, dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PG", "CUTOVER_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(SCENARIO), "--plan", str(plan),
         "--report-dir", str(report_dir), "-c", str(SCENARIOS / "pytest.ini"),
         "--rootdir", str(SCENARIOS), "-p", "no:cacheprovider", "-p", "no:randomly", "-q"],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    return done.returncode, results, done.stdout + done.stderr


def faults_plan(app_db: Path, dsn: str, faults: list[str]) -> dict[str, Any]:
    return {
        "name": "faults",
        "source": {"kind": "sqlite", "path": str(app_db)},
        "target": {"kind": "postgres", "dsn": dsn},
        "faults": {"faults": faults, "paths": ["harness"], "writes": 50, "samples": 5},
    }


@pytest.mark.slow
def test_the_matrix_lands_in_results_json_and_a_reset_never_turns_a_mismatch_into_a_match(
    copied: tuple[Path, str], write_plan: Callable[..., Path], tmp_path: Path
) -> None:
    app_db, dsn = copied
    with psycopg.connect(dsn, autocommit=True) as conn:  # drift: the comparison must fail
        conn.execute("UPDATE items SET qty = qty + 1 WHERE id = 400")
    plan = write_plan(faults_plan(app_db, dsn, ["refused", "reset_during_rows", "conflict"]))
    code, results, output = run_scenario(plan, tmp_path / "out")
    assert code == 0, output
    checks = {c["id"]: c for c in results["checks"]}
    assert set(checks) == {
        "faults[harness:refused]",
        "faults[harness:reset_during_rows]",
        "faults[harness:conflict]",
    }
    row = checks["faults[harness:refused]"]["evidence"]
    assert (row["path"], row["fault"], row["expect"], row["outcome"]) == (
        "harness", "refused", "recover", "success",
    )  # fmt: skip
    assert row["attempts"] == 3
    assert len(row["delays_s"]) == 2
    rows = checks["faults[harness:reset_during_rows]"]
    assert rows["status"] == "pass"  # the verdict held through the reset: fail stayed fail
    assert rows["evidence"]["detail"] == {"baseline": "fail", "faulted": "fail", "resets": 1}
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Fault matrix" in html
    assert 'href="#check-faults-harness-conflict"' in html
