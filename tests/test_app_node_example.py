"""examples/node-app end to end with a real Node process: its node:test suite (JUnit from
Node's own reporter) against copies of both sides, its server started against the target and
probed. GO as committed; the drift variant NO-GO on exactly the application's failure classes.

Skipped cleanly where Node or the example's one dependency (``npm ci`` in the example, which
``.ci/run`` does where npm is installed) is missing.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run_cutover

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


def _copy(tmp_path: Path, plan_name: str) -> Path:
    """The example in the test's own folder (its JUnit report and server port its own), the
    installed node_modules linked, never written."""
    app = tmp_path / "node-app"
    for part in ("src", "test", "db", "drift"):
        shutil.copytree(EXAMPLE / part, app / part)
    for name in ("package.json", "plan.yaml", "plan-drift.yaml"):
        shutil.copy(EXAMPLE / name, app / name)
    (app / "node_modules").symlink_to(EXAMPLE / "node_modules")
    plan: dict[str, Any] = yaml.safe_load((app / plan_name).read_text(encoding="utf-8"))
    port = _free_port()
    plan["health"]["url"] = f"http://127.0.0.1:{port}/health"
    plan["health"]["env"] = {"PORT": str(port)}
    path = app / plan_name
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def _verify(plan: Path) -> tuple[int, str, dict[str, dict[str, Any]]]:
    done = run_cutover("verify", "--plan", str(plan), "--report-dir", "out", cwd=plan.parent)
    results = json.loads((plan.parent / "out" / "results.json").read_text(encoding="utf-8"))
    return done.returncode, done.stdout + done.stderr, {c["id"]: c for c in results["checks"]}


def test_the_example_is_go(tmp_path: Path) -> None:
    code, output, checks = _verify(_copy(tmp_path, "plan.yaml"))
    assert code == 0, output
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
    # the suite's INSERT went to the copies: the verified databases still agree
    assert checks["row_count[skills]"]["status"] == "pass"


def test_the_drift_variant_blames_the_target_only_tests_and_the_health_route(
    tmp_path: Path,
) -> None:
    code, output, checks = _verify(_copy(tmp_path, "plan-drift.yaml"))
    assert code == 1, output
    suite = checks["app_tests[npm test]"]
    assert suite["status"] == "fail"
    blamed = {f["object"] for f in suite["findings"] if f["severity"] == "error"}
    assert blamed == {
        "lists the seeded skills in order",
        "GET /health says healthy",
        "GET /skills/:name/users",
    }
    assert any("'go'" in f["message"] for f in suite["findings"])
    (health,) = [c for c in checks.values() if c["area"] == "app_health"]
    assert health["status"] == "fail"
    assert "0 of 100 health probes" in health["summary"]
    assert "status 503" in health["summary"]
