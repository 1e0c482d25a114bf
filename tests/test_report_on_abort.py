"""A run that stops before its first check still leaves a report folder CI can upload.

A usage error found while the run starts (a table the plan names that does not exist, a
server that does not answer) and an interruption while the endpoints load (Ctrl-C during an
embedded server's load) both exit 2 — and leave results.json with one ``error`` check saying
why (so NO-GO: never GO), junit.xml with that errored testcase, and summary.md. The folder
was cleared when the run claimed it, so nothing of an earlier run survives beside them.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from harness.results.files import (
    DERIVED_NAMES,
    JUNIT_NAME,
    RESULTS_NAME,
    SUMMARY_NAME,
    load_results,
)
from tests.conftest import CLI_TIMEOUT_S, run_cutover

REPO = Path(__file__).resolve().parents[1]
QUERIES_ONLY = {
    "tables": {"include": [], "allow_empty": True},
    "queries": {"corpus": {"users": {"sql": "SELECT count(*) FROM users"}}},
}
"""A plan SQLite can run to GO on both sides: one query's answer, no row comparison."""


def project(folder: Path, **plan_extra: object) -> Path:
    """A SQLite app database compared with itself, and its plan."""
    with sqlite3.connect(folder / "app.db") as conn:
        conn.executescript(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
            "INSERT INTO users VALUES (1, 'a');"
        )
    conn.close()
    plan = {
        "name": "abort",
        "source": {"kind": "sqlite", "path": "app.db"},
        "target": {"kind": "sqlite", "path": "app.db"},
        **plan_extra,
    }
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return folder / "plan.yaml"


def assert_failed_start(out: Path, reason_part: str) -> None:
    results = load_results(out / RESULTS_NAME)  # valid, and its verdict follows from its checks
    assert results["verdict"] == "NO-GO"
    assert reason_part in results["verdict_reason"]
    (check,) = results["checks"]
    assert (check["id"], check["status"]) == ("run[start]", "error")
    assert all((out / name).is_file() for name in DERIVED_NAMES)
    (case,) = ET.parse(out / JUNIT_NAME).getroot().iter("testcase")
    assert case.find("error") is not None
    assert (out / SUMMARY_NAME).read_text(encoding="utf-8").startswith("## cutover: NO-GO\n")


class TestAUsageErrorAtTheStart:
    def test_exit_2_with_one_line_and_a_folder_saying_why(self, tmp_path: Path) -> None:
        project(tmp_path, tables={"keys": {"nosuch": ["id"]}})
        done = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        (line,) = [line for line in done.stderr.splitlines() if line.strip()]
        assert line.startswith("cutover: error: ")
        assert "Traceback" not in done.stdout + done.stderr
        assert_failed_start(tmp_path / "out", "'nosuch'")

    def test_an_earlier_runs_go_is_gone_not_left_beside_it(self, tmp_path: Path) -> None:
        project(tmp_path, **QUERIES_ONLY)
        first = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert json.loads((tmp_path / "out" / RESULTS_NAME).read_bytes())["verdict"] == "GO"

        project_plan = tmp_path / "plan.yaml"
        plan = yaml.safe_load(project_plan.read_text(encoding="utf-8"))
        plan["tables"] = {"include": [], "allow_empty": True, "keys": {"nosuch": ["id"]}}
        project_plan.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
        second = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=tmp_path)
        assert second.returncode == 2, second.stderr
        assert_failed_start(tmp_path / "out", "'nosuch'")


INTERRUPTING_CONFTEST = """\
from harness.capabilities import Capability


def _interrupted(run):
    raise KeyboardInterrupt  # as Ctrl-C lands while an endpoint is still loading


def pytest_cutover_capabilities():
    return [Capability("late", items=(), prepare=_interrupted)]
"""


class TestAnInterruptionAtTheStart:
    def test_ctrl_c_while_the_endpoints_load_leaves_an_incomplete_no_go(
        self, tmp_path: Path
    ) -> None:
        project(tmp_path, **QUERIES_ONLY)
        (tmp_path / "conftest.py").write_text(INTERRUPTING_CONFTEST, encoding="utf-8")
        scenario = REPO / "scenarios" / "test_queries.py"
        (tmp_path / "test_queries.py").write_text(scenario.read_text(encoding="utf-8"))
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--plan", "plan.yaml", "--report-dir", "out",
             "-p", "no:cacheprovider", "-p", "no:randomly", "-q"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr  # pytest's INTERRUPTED
        assert_failed_start(tmp_path / "out", "interrupted")


SWALLOWING_TESTS = """\
import os
import signal
import sqlite3


def test_a_signal_lands_inside_sqlite():
    conn = sqlite3.connect(":memory:")
    conn.create_function("term", 0, lambda: os.kill(os.getpid(), signal.SIGTERM))
    try:
        conn.execute("SELECT term()").fetchone()
    except sqlite3.OperationalError:
        pass  # "user-defined function raised exception": the KeyboardInterrupt is gone


def test_never_runs():
    pass
"""


class TestASignalSwallowedOnItsWay:
    def test_still_stops_the_run_as_interrupted(self, tmp_path: Path) -> None:
        """SQLite swallows a KeyboardInterrupt raised inside a Python function; the run
        stops after that item all the same, and reads interrupted, not failed."""
        project(tmp_path, **QUERIES_ONLY)
        (tmp_path / "test_swallow.py").write_text(SWALLOWING_TESTS, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--plan", "plan.yaml", "--report-dir", "out",
             "-p", "no:cacheprovider", "-p", "no:randomly", "-q", "test_swallow.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr  # pytest's INTERRUPTED
        assert "test_never_runs PASSED" not in done.stdout
        results = json.loads((tmp_path / "out" / RESULTS_NAME).read_bytes())
        assert results["verdict"] == "NO-GO"
        assert "interrupted (SIGTERM)" in results["verdict_reason"], results["verdict_reason"]
