"""examples/local-to-aurora: the plan validates, and the README's local run works as written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.endpoints.settings import AuroraEndpoint, PostgresEndpoint
from harness.plan.load import load_plan

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "local-to-aurora"
SECRET_ID = "rds!cluster-d1aab255-8b30-49d0-a107-f2cc5e0c5cc6"


def run_local(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PG"))}
    return subprocess.run(
        [sys.executable, str(EXAMPLE / "run_local.py"), "--report-dir", str(tmp_path), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_plan_names_the_local_database_and_the_aurora_secret() -> None:
    plan = load_plan(EXAMPLE / "plan.yaml").plan
    assert isinstance(plan.source, PostgresEndpoint)
    assert plan.source.dsn_env == "SKILLIN_LOCAL_DSN"
    assert isinstance(plan.target, AuroraEndpoint)
    assert (plan.target.secret, plan.target.region, plan.target.sslmode) == (
        SECRET_ID,
        "us-east-2",
        "require",
    )
    assert plan.connect.connect_timeout_s == 5


def test_the_app_reads_the_same_secret_the_plan_names() -> None:
    assert SECRET_ID in (EXAMPLE / "src" / "db.ts").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_local_run_goes_with_both_sides_connected(tmp_path: Path) -> None:
    run = run_local(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "cutover verdict: GO" in run.stdout
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    connectivity = {c["name"]: c for c in results["checks"] if c["area"] == "connectivity"}
    assert {name: c["status"] for name, c in connectivity.items()} == {
        "source": "pass",
        "target": "pass",
    }
    target = connectivity["target"]["evidence"]
    assert target["tls"] is True
    assert target["endpoint"]["secret_id"] == SECRET_ID
    rows = {c["name"]: c["status"] for c in results["checks"] if c["area"] == "rows"}
    assert rows == {"skills": "pass", "user_skills": "pass", "users": "pass"}


@pytest.mark.slow
def test_a_stale_secret_stops_the_run_with_one_line(tmp_path: Path) -> None:
    run = run_local(tmp_path, "--stale-secret")
    assert run.returncode == 2, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, run.stderr
    assert errors[0].startswith(
        "cutover: error: target: cannot connect: wrong user name or password"
    )
    assert f"secret '{SECRET_ID}' in us-east-2 (plan target.secret)" in errors[0]
    assert "rotated-away" not in run.stdout + run.stderr
