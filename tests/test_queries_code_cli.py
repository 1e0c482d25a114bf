"""`cutover verify` on an Express backend's own db.ts, as a team would point it there.

The backend folder (tests/data/queries_node_backend) is copied beside the plan; the plan says
``queries.from`` and nothing else about the queries — no query retyped.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cutover, run_sql

BACKEND = Path(__file__).parent / "data" / "queries_node_backend"
SCHEMA = (BACKEND / "schema.sql").read_text(encoding="utf-8")


def verify(tmp_path: Path, queries: dict[str, Any], target_dsn: str, **extra: Any) -> Any:
    shutil.copytree(BACKEND, tmp_path, dirs_exist_ok=True)
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.executescript(SCHEMA)
    conn.close()
    plan = {
        "name": "node-backend",
        "source": {"kind": "sqlite", "path": "app.db"},
        "target": {"kind": "postgres", "dsn": target_dsn},
        "tables": {"include": [], "allow_empty": True},
        "queries": queries,
        **extra,
    }
    (tmp_path / "plan.yaml").write_text(json.dumps(plan), encoding="utf-8")  # JSON is YAML
    return run_cutover(
        "verify", "--plan", "plan.yaml", "--report-dir", str(tmp_path / "out"), cwd=tmp_path
    )


def checks(tmp_path: Path, area: str = "queries[") -> dict[str, Any]:
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    return {c["id"]: c for c in results["checks"] if c["id"].startswith(area)}


@pytest.mark.slow
def test_the_backends_db_ts_is_verified_without_retyping_a_query(
    tmp_path: Path, pg_database: str
) -> None:
    run_sql(pg_database, SCHEMA)
    queries = {
        "dialect": "postgres",
        "from": ["backend/src/db.ts", "app/**/*.py"],
        "writes": "rollback",
        "sites": {"backend/src/db.ts:countFor": {"skip": "admin tool; table name from a list"}},
    }
    run = verify(tmp_path, queries, pg_database)
    assert run.returncode == 0, run.stdout + run.stderr
    found = checks(tmp_path)
    assert len(found) == 10
    statuses = {name: c["status"] for name, c in found.items()}
    assert statuses.pop("queries[backend/src/db.ts:countFor]") == "skip"
    assert set(statuses.values()) == {"pass"}, {n: found[n]["summary"] for n in statuses}
    created = found["queries[backend/src/db.ts:createRepository]"]["evidence"]
    assert created["source_sql"].startswith("INSERT INTO repositories")
    with sqlite3.connect(tmp_path / "app.db") as conn:
        assert conn.execute("SELECT count(*) FROM repositories").fetchone() == (6,)
    conn.close()


@pytest.mark.slow
def test_without_the_opt_in_the_backends_writes_are_errors_and_the_verdict_is_not_go(
    tmp_path: Path, pg_database: str
) -> None:
    run_sql(pg_database, SCHEMA)
    latency = {"runs": 3, "warmup": 1, "default": {"p95_ms": 60000}}
    queries = {"dialect": "postgres", "from": ["backend/src/db.ts"]}
    run = verify(tmp_path, queries, pg_database, latency=latency)
    assert run.returncode != 0, run.stdout + run.stderr
    found = checks(tmp_path)
    refused = found["queries[backend/src/db.ts:starRepository]"]
    assert refused["status"] == "error"
    assert "set queries.writes: rollback" in refused["summary"]
    assert found["queries[backend/src/db.ts:getLanguageByName]"]["status"] == "pass"
    timed = checks(tmp_path, "latency[")
    assert timed["latency[backend/src/db.ts:getLanguageByName-p95]"]["status"] == "pass"
    # a write gets no default latency budget: only its queries[…] item speaks for it
    assert "latency[backend/src/db.ts:starRepository-p95]" not in timed


@pytest.mark.slow
def test_with_the_opt_in_writes_are_go_and_a_default_budget_times_only_the_reads(
    tmp_path: Path, pg_database: str
) -> None:
    run_sql(pg_database, SCHEMA)
    latency = {"runs": 3, "warmup": 1, "default": {"p95_ms": 60000}}
    queries = {
        "dialect": "postgres",
        "from": ["backend/src/db.ts"],
        "writes": "rollback",
        "sites": {"backend/src/db.ts:countFor": {"skip": "dynamic table name, read by hand"}},
    }
    run = verify(tmp_path, queries, pg_database, latency=latency)
    assert run.returncode == 0, run.stdout + run.stderr
    timed = checks(tmp_path, "latency[")
    assert "latency[backend/src/db.ts:getLanguageByName-p95]" in timed
    assert "latency[backend/src/db.ts:starRepository-p95]" not in timed
    assert "latency[backend/src/db.ts:countFor-p95]" not in timed  # skipped: not timed either


@pytest.mark.slow
def test_a_from_glob_matching_nothing_stops_the_run_in_one_line(
    tmp_path: Path, pg_database: str
) -> None:
    run = verify(tmp_path, {"from": ["backend/src/dbs.ts"]}, pg_database)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "queries.from: 'backend/src/dbs.ts' matches no file" in run.stdout + run.stderr
