"""The latency benchmark runs end to end on a small table and ends with its JSON line.

Overheads are machine-dependent, so nothing here asserts one; what must hold anywhere is that
the script runs, times every query both ways the same number of times and reports the ratio.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "latency.py"


@pytest.mark.slow
def test_latency_benchmark_reports_the_overhead_as_json() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCHMARK), "--rows", "2000", "--runs", "2", "--rounds", "4"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["benchmark"] == "latency"
    assert set(report["queries"]) == {
        "point_lookup",
        "recent_for_account",
        "kind_like",
        "daily_totals",
    }
    for figures in report["queries"].values():
        assert figures["harness_ms"]["n"] == figures["bare_ms"]["n"] == 8
    assert isinstance(report["overhead_p50"], float)
    assert report["within_budget"] == (report["overhead_p50"] < report["budget"])
