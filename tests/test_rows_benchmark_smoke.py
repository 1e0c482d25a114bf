"""The row benchmark runs end to end on a small table and ends with its JSON line.

Timings are machine-dependent, so nothing here asserts one; what must hold anywhere is that
the script runs, finds exactly the planted differences and reports every figure.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "rows.py"
SCENARIOS = {
    "PG→PG identical",
    "SQLite→PG identical",
    "PG→PG 13 diff lines",
    "SQLite→PG 13 diff lines",
}


@pytest.mark.slow
def test_row_benchmark_reports_every_scenario_as_json() -> None:
    if importlib.util.find_spec("harness.rows.compare") is None:
        pytest.skip("the cutover row engine (harness.rows.compare) is not there yet")
    run = subprocess.run(
        [sys.executable, str(BENCHMARK), "--rows", "5000", "--no-reladiff", "--repeat", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["engine"] is True
    assert report["reladiff"] is None
    results = {r["scenario"]: r for r in report["results"]}
    assert set(results) == SCENARIOS
    for name, result in results.items():
        assert result["rows"] == 5000
        assert result["floor_s"] > 0
        assert result["cutover_s"] > 0
        assert result["cutover_over_floor"] > 0
        assert result["cutover_error"] is None
        assert len(result["cutover_runs_s"]) == len(result["floor_runs_s"]) == 2
        assert result["cutover_s"] in result["cutover_runs_s"]
        planted = name.endswith("13 diff lines")
        assert result["cutover_diff_lines"] == (13 if planted else 0), name
        assert (result["cutover_changed"], result["cutover_missing"], result["cutover_extra"]) == (
            (5, 2, 1) if planted else (0, 0, 0)
        )


@pytest.mark.slow
def test_row_benchmark_runs_shards_over_worker_processes() -> None:
    """``--workers 2``: PG→PG in shards over two processes finds the same 13 lines."""
    run = subprocess.run(
        [
            sys.executable,
            str(BENCHMARK),
            *("--rows", "5000", "--no-reladiff", "--repeat", "1"),
            *("--workers", "2", "--shard-rows", "1000"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["shard_rows"] == 1000
    results = {r["scenario"]: r for r in report["results"]}
    for state, lines in (("identical", 0), ("13 diff lines", 13)):
        sharded = results[f"PG→PG {state} -n 2"]
        assert (sharded["workers"], sharded["cutover_error"]) == (2, None)
        assert sharded["shards"] >= 5
        assert sharded["cutover_diff_lines"] == lines
        assert sharded["round_trips"]["source"] > 0


@pytest.mark.slow
def test_row_benchmark_runs_the_bounded_path_through_the_local_dsql() -> None:
    """``rows_dsql.py``: the same 13 lines found through the TLS front, bounded on it, and
    through the local DSQL's guard; the bounded ways send more statements to the target."""
    run = subprocess.run(
        [
            sys.executable,
            str(BENCHMARK.with_name("rows_dsql.py")),
            *("--rows", "20000", "--repeat", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    results = {r["scenario"]: r for r in report["results"]}
    assert set(results) == {"PG→DSQL identical", "PG→DSQL 13 diff lines"}
    for name, result in results.items():
        lines = 13 if name.endswith("13 diff lines") else 0
        for way in ("tls", "tls_bounded", "dsql_local"):
            assert result[f"{way}_error"] is None, (name, way)
            assert result[f"{way}_diff_lines"] == lines, (name, way)
            assert result[f"{way}_s"] > 0
        plain, bounded = result["tls_round_trips"], result["dsql_local_round_trips"]
        assert bounded["target"] > plain["target"]  # the key's bounds read before the blocks
        assert result["dsql_local_over_tls"] > 0
