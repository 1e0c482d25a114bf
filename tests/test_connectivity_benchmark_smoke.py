"""benchmarks/connect.py runs end to end and reports every way it times (figures not judged)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "connect.py"


@pytest.mark.slow
def test_a_short_run_reports_every_way(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PG", "AWS_"))}
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    ways = {"plain", "tls", "aurora", "dsql", "token"}
    assert figures["rounds"] == 3
    assert set(figures["median_ms"]) == set(figures["ratio_to_plain"]) == ways
    assert figures["ratio_to_plain"]["plain"] == 1.0
