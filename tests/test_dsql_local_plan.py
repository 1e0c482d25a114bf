"""``kind: dsql-local`` in a plan: ``cutover verify`` against a local DSQL it starts itself.

No AWS account and no AWS credentials: the run makes its own signing keys, the guard checks
every token signed with them, and the load script goes through the guard, so one DSQL would
refuse stops the run with DSQL's error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.aws_support import without_aws

DATA = Path(__file__).parent / "data" / "dsql_local_plan"

pytestmark = pytest.mark.slow


def _verify(folder: Path, target_script: str, **extra: Any) -> subprocess.CompletedProcess[str]:
    for name in ("source.sql", target_script):
        shutil.copy(DATA / name, folder / name)
    plan = {
        "name": "aurora-to-dsql rehearsal",
        "source": {"kind": "embedded", "load": [{"sql": "source.sql"}]},
        "target": {"kind": "dsql-local", "load": [{"sql": target_script}]},
        "queries": {
            "corpus": {
                "rich": {
                    "sql": "SELECT email, balance FROM accounts WHERE balance > :floor"
                    " ORDER BY email",
                    "params": [{"floor": 1}],
                }
            }
        },
        "latency": {"runs": 3, "warmup": 1, "health": {"runs": 5, "min_successes": 5}},
        **extra,
    }
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    env = without_aws(folder)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "verify",
            "--plan",
            "plan.yaml",
            "--report-dir",
            "out",
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_dsql_ready_target_verifies_go_without_an_aws_account(tmp_path: Path) -> None:
    run = _verify(tmp_path, "target.sql")
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    statuses: dict[str, set[str]] = {}
    for check in results["checks"]:
        statuses.setdefault(check["area"], set()).add(check["status"])
    for area in ("connectivity", "schema", "rows", "row_count", "queries", "latency"):
        assert statuses.get(area) == {"pass"}, (area, statuses)
    assert results["environment"]["target"]["kind"] == "dsql-local"
    (reached,) = [
        c for c in results["checks"] if c["area"] == "connectivity" and c["name"] == "target"
    ]
    assert reached["evidence"]["endpoint"]["hostname"].endswith(".dsql.us-east-1.on.aws")
    assert reached["evidence"]["user"] == "admin"
    everything = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    )
    assert "X-Amz-Signature" not in everything + run.stdout + run.stderr


def test_a_script_dsql_refuses_stops_the_load_naming_file_line_and_sqlstate(
    tmp_path: Path,
) -> None:
    run = _verify(tmp_path, "not_ready.sql")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("cutover: error:")]
    assert len(errors) == 1, run.stderr
    assert "loading the target failed: " in errors[0]
    # DSQL's answer as recorded on a real cluster: no serial types
    assert 'not_ready.sql:1: [42704] type "bigserial" does not exist' in errors[0]
    assert "cutover lint" in errors[0]


def test_a_sqlite_copy_into_dsql_local_is_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "app.db").write_bytes(b"")
    plan = {
        "name": "x",
        "source": {"kind": "sqlite", "path": "app.db"},
        "target": {"kind": "dsql-local", "load": [{"sqlite": "app.db"}]},
    }
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "verify",
            "--plan",
            "plan.yaml",
            "--report-dir",
            "out",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "a dsql-local endpoint loads SQL scripts only" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_load_script_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    plan = {
        "name": "x",
        "source": {"kind": "embedded"},
        "target": {"kind": "dsql-local", "load": [{"sql": "nosuch.sql"}]},
    }
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "verify",
            "--plan",
            "plan.yaml",
            "--report-dir",
            "out",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.strip().splitlines() == [
        "cutover: error: target: loading the target failed: cannot read "
        f"{tmp_path / 'nosuch.sql'}: No such file or directory"
    ]
