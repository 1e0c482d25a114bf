"""``cutover demo --to dsql``: Aurora PostgreSQL → a local Aurora DSQL, as a new user runs it
(no AWS account, no credentials): GO with the one reviewed change of shape, and with
``--drift`` NO-GO naming each drift."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.demo.dsql import DRIFT
from harness.faults.demo import DEMO_FAULTS
from tests.aws_support import without_aws

pytestmark = pytest.mark.slow


def _demo(folder: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = without_aws(folder)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "demo",
            "--to",
            "dsql",
            "--rows",
            "3000",
            "--report-dir",
            "out",
            *extra,
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    results = json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))
    return run, results


def test_the_dsql_journey_ends_go(tmp_path: Path) -> None:
    run, results = _demo(tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert results["verdict"] == "GO"
    members = next(c for c in results["checks"] if c["id"] == "schema[group_members]")
    # the enum's rewrite is read from the target's CHECK, not waived
    assert any("same 4 labels" in f["message"] for f in members["findings"]), members
    areas = {c["area"] for c in results["checks"]}
    assert {"schema", "rows", "row_count", "queries", "latency", "dsql_compat"} <= areas
    assert results["environment"]["target"]["kind"] == "dsql"
    # the console showed what DSQL refuses in the Aurora schema, then built the target anyway
    for rule in ("DSQL044", "DSQL050", "DSQL063", "DSQL066"):
        assert rule in run.stderr
    assert "in transactions of at most 3,000" in run.stderr
    # every demo fault ran through a local DSQL's guard, and each ended as it must
    faults = {c["id"]: c for c in results["checks"] if c["area"] == "faults"}
    assert set(faults) == {f"faults[harness:{name}]" for name in DEMO_FAULTS}
    assert {c["status"] for c in faults.values()} == {"pass"}, faults
    assert faults["faults[harness:conflict]"]["evidence"]["detail"]["failed_at"] == "commit"
    assert faults["faults[harness:wrong_password]"]["evidence"]["error_class"] == "auth"


def test_its_drift_variant_names_each_drift(tmp_path: Path) -> None:
    run, results = _demo(tmp_path, "--drift")
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    failed = {c["id"] for c in results["checks"] if c["status"] == "fail"}
    assert {d.expect for d in DRIFT} <= failed
    assert "queries[monthly_event_totals]" in failed  # the lost events change its answer
