"""examples/node-app end to end, as a team runs it: ``./run.sh`` serves the Aurora target
locally (``cutover aurora-iam serve``: a real PostgreSQL behind the stand-in that checks each
RDS IAM token, with made-up keys), then ``cutover verify`` reads the application's queries from
``src/db.js``, runs its node:test suite (JUnit from Node's own reporter) on both sides, starts
its server against the target (a fresh IAM token as its password) and probes it. GO as
committed; ``./run.sh --drift`` NO-GO with each of the application's failure classes.

Skipped cleanly where Node or the example's one dependency (``npm ci`` in the example, which
``.ci/run`` does where npm is installed) is missing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CLI_TIMEOUT_S, run_each_once

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "node-app"


def _node_writes_junit() -> bool:
    """Node is installed and its test runner has the JUnit reporter (Node 20.13 or newer;
    Debian 12's nodejs 18 has not)."""
    if shutil.which("node") is None:
        return False
    done = subprocess.run(
        ["node", "--test-reporter=junit", "-e", "require('node:test')('x', () => {})"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "<testsuites" in done.stdout


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not _node_writes_junit(), reason="no Node.js with the node:test JUnit reporter"
    ),
    pytest.mark.skipif(
        not (EXAMPLE / "node_modules" / "pg").is_dir(),
        reason="the example's dependencies are not installed (npm ci in examples/node-app)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _copy(tmp_path: Path) -> Path:
    """The example in the test's own folder (its reports, CA file and ports its own), the
    installed node_modules linked, never written."""
    app = tmp_path / "node-app"
    for part in ("src", "test", "db", "drift"):
        shutil.copytree(EXAMPLE / part, app / part)
    for name in ("package.json", "plan.yaml", "plan-drift.yaml", "run.sh"):
        shutil.copy(EXAMPLE / name, app / name)
    (app / "node_modules").symlink_to(EXAMPLE / "node_modules")
    target_port, health_port = _free_port(), _free_port()
    for name in ("plan.yaml", "plan-drift.yaml"):
        plan: dict[str, Any] = yaml.safe_load((app / name).read_text(encoding="utf-8"))
        plan["target"]["port"] = target_port
        plan["health"]["url"] = f"http://127.0.0.1:{health_port}/health"
        plan["health"]["env"]["PORT"] = str(health_port)
        (app / name).write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return app


@dataclasses.dataclass(frozen=True)
class ExampleRun:
    """What one ``run.sh`` left: its exit code, its output and the checks of results.json."""

    code: int
    output: str
    checks: dict[str, Any]


def _run(app: Path, *args: str) -> ExampleRun:
    """``sh run.sh ARGS`` with this interpreter's ``cutover`` first on PATH."""
    shim = app.parent / "bin"
    shim.mkdir()
    (shim / "cutover").write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m harness.cli "$@"\n', encoding="utf-8"
    )
    (shim / "cutover").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PG", "CUTOVER_"))}
    env["PATH"] = f"{shim}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["sh", "run.sh", *args],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    output = done.stdout + done.stderr
    results_file = app / "reports" / "out" / "results.json"
    assert results_file.is_file(), output
    results = json.loads(results_file.read_text(encoding="utf-8"))
    assert "X-Amz-Signature" not in results_file.read_text(encoding="utf-8")  # no token kept
    assert not (app / ".aurora-iam" / "ca.crt").exists()  # the stand-in stopped with the run
    return ExampleRun(done.returncode, output, {c["id"]: c for c in results["checks"]})


@pytest.fixture(scope="session")
def runs(request: pytest.FixtureRequest) -> dict[str, ExampleRun]:
    """``./run.sh`` and ``./run.sh --drift``, each once for all workers, side by side (each
    in its own copy with its own ports): they spend most of their time waiting on servers."""
    return run_each_once(
        request,
        {
            "node-app-go": lambda work: _run(_copy(work)),
            "node-app-drift": lambda work: _run(_copy(work), "--drift"),
        },
        ExampleRun,
    )


@pytest.fixture(scope="session")
def go(runs: dict[str, ExampleRun]) -> ExampleRun:
    """``./run.sh``."""
    return runs["node-app-go"]


@pytest.fixture(scope="session")
def drift(runs: dict[str, ExampleRun]) -> ExampleRun:
    """``./run.sh --drift``."""
    return runs["node-app-drift"]


def _nogo(run: ExampleRun) -> dict[str, Any]:
    assert run.code == 1, run.output
    return run.checks


def _errors(check: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in check["findings"] if f["severity"] == "error"]


class TestTheExample:
    """``./run.sh``: GO, on an Aurora target reached with IAM authentication."""

    def test_the_target_is_aurora_with_a_fresh_iam_token_per_connection(
        self, go: ExampleRun
    ) -> None:
        output, checks = go.output, go.checks
        assert go.code == 0, output
        assert "target served at postgresql://skillin_app@skillin.cluster-" in output
        reached = checks["connectivity[target]"]
        assert reached["status"] == "pass"
        assert reached["evidence"]["tls"] is True
        assert reached["evidence"]["endpoint"]["kind"] == "aurora"
        assert reached["evidence"]["endpoint"]["auth"] == "iam"
        connect = checks["latency[connect]"]
        assert connect["status"] == "pass"
        assert connect["evidence"]["strip"] == "1" * 50

    def test_the_queries_are_read_from_db_js_with_their_dollar_placeholders(
        self, go: ExampleRun
    ) -> None:
        assert go.code == 0, go.output
        checks = go.checks
        taken = {name for name in checks if name.startswith("queries[src/db.js:")}
        assert taken == {
            f"queries[src/db.js:{function}]"
            for function in (
                "listSkills",
                "findSkill",
                "usersWithSkill",
                "addSkill",
                "renameSkill",
                "schemaVersion",
            )
        }
        find = checks["queries[src/db.js:findSkill]"]
        assert find["status"] == "pass"
        assert find["evidence"]["parameter_style"] == "$n"
        drawn = {run["params"]["p1"] for run in find["evidence"]["runs"]}
        assert drawn <= {"TypeScript", "PostgreSQL", "Go"}  # from skills.name, s.name = $1
        rename = checks["queries[src/db.js:renameSkill]"]
        assert rename["status"] == "pass"
        assert rename["evidence"]["runs"][0]["target_affected"] == 1
        assert checks["queries[src/db.js:addSkill]"]["status"] == "skip"

    def test_the_suite_and_the_health_route_pass_on_the_target(self, go: ExampleRun) -> None:
        assert go.code == 0, go.output
        checks = go.checks
        suite = checks["app_tests[npm test]"]
        assert suite["status"] == "pass"
        assert suite["evidence"]["source"]["tests"]["passed"] == 6
        assert suite["evidence"]["target"]["tests"] == {
            "passed": 6,
            "failed": 0,
            "error": 0,
            "skipped": 0,
        }
        (health,) = [c for c in checks.values() if c["area"] == "app_health"]
        assert health["evidence"]["strip"] == "1" * 100
        # the suite's write rolled back, the queries' writes too: both sides still agree
        assert checks["row_count[skills]"]["status"] == "pass"
        assert checks["rows[skills]"]["status"] == "pass"


class TestTheDriftVariant:
    """``./run.sh --drift``: NO-GO, with each class of the application's failures."""

    def test_a_query_the_target_answers_differently(self, drift: ExampleRun) -> None:
        listed = _nogo(drift)["queries[src/db.js:listSkills]"]
        assert listed["status"] == "fail"
        (finding,) = _errors(listed)
        assert finding["kind"] == "query_answer"
        assert "answers differ" in finding["message"]
        assert ["3", "Go"] in [
            [str(v) for v in d["source"]] for d in listed["evidence"]["first_differences"]
        ]

    def test_a_write_the_target_refuses(self, drift: ExampleRun) -> None:
        rename = _nogo(drift)["queries[src/db.js:renameSkill]"]
        assert rename["status"] == "fail"
        (finding,) = _errors(rename)
        assert finding["kind"] == "query_failed"
        assert "fails on the target" in finding["message"]
        assert "[22001]" in finding["message"]  # value too long for varchar(16)
        assert "fails on the source" not in finding["message"]
        assert rename["evidence"]["runs"][0]["source_affected"] == 1

    def test_tests_that_fail_only_on_the_target(self, drift: ExampleRun) -> None:
        suite = _nogo(drift)["app_tests[npm test]"]
        assert suite["status"] == "fail"
        assert {f["object"] for f in _errors(suite)} == {
            "lists the seeded skills in order",
            "GET /health says healthy",
            "GET /skills/:name/users",
        }
        assert any("'go'" in f["message"] for f in suite["findings"])

    def test_a_health_route_below_99_of_100(self, drift: ExampleRun) -> None:
        (health,) = [c for c in _nogo(drift).values() if c["area"] == "app_health"]
        assert health["status"] == "fail"
        assert "0 of 100 health probes" in health["summary"]
        assert "status 503" in health["summary"]
