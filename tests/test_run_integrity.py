"""A GO must be earned: a run that did not finish, a folder holding another run's files, or a
folder two runs share never reads GO.

Every case runs the real `cutover verify` in a subprocess, on a plan whose two empty SQLite
files make the stock scenarios quick, plus a team's own test file beside it (the plugin
records plain tests as checks). One team test waits until the test touches a file, so a
signal or a second run lands while items still run; the test reads what every file of the
report folder says afterwards.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.results.files import (
    BUNDLE_NAME,
    DERIVED_NAMES,
    HTML_NAME,
    JUNIT_NAME,
    RESULTS_NAME,
    SIGNOFF_HTML_NAME,
)
from tests.conftest import CLI_TIMEOUT_S

TEAM_TESTS = '''\
import time
from pathlib import Path

HERE = Path(__file__).parent


def test_before():
    pass


def test_waits():
    """Says it started, then waits until the test lets it go on (or interrupts the run)."""
    (HERE / "started").touch()
    deadline = time.monotonic() + 60
    while not (HERE / "go-on").exists():
        assert time.monotonic() < deadline, "nobody let this test go on"
        time.sleep(0.05)


def test_after():
    pass
'''

# `python -m harness.cli`, with SIGINT raising KeyboardInterrupt as at a terminal even when
# this test process inherited SIGINT ignored (a background job): what a user's Ctrl-C does.
CUTOVER = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'cutover'; runpy.run_module('harness.cli', run_name='__main__')"
)
VERDICT_IN_HTML = re.compile(r'class="verdict-label">Verdict:</span>\s*([A-Z][A-Z -]*[A-Z])')


def clean_env() -> dict[str, str]:
    """The environment without what would change the inner run (see tests/conftest.py)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PG", "CUTOVER_"))}


def cutover_args(work: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        CUTOVER,
        "verify",
        "--plan",
        str(work / "plan.yaml"),
        "--report-dir",
        str(out),
        *extra,
        str(work / "team"),
    ]


def start(work: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    """`cutover verify` in the background (its own session: signals reach only it)."""
    return subprocess.Popen(
        cutover_args(work, out, *extra),
        cwd=work,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run(
    work: Path, out: Path, *extra: str, timeout: float = CLI_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cutover_args(work, out, *extra),
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    try:
        stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"cutover verify did not end:\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            done = finish(proc)
            pytest.fail(f"the run ended before {path.name} appeared:\n{done.stdout}{done.stderr}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def project(work: Path, *, conftest: str | None = None, team: str = TEAM_TESTS) -> Path:
    """Empty SQLite source and target, a plan that expects no table, the team's tests."""
    for role in ("source", "target"):
        sqlite3.connect(work / f"{role}.db").close()
    plan = {
        "name": "run integrity",
        "source": {"kind": "sqlite", "path": "source.db"},
        "target": {"kind": "sqlite", "path": "target.db"},
        "tables": {"allow_empty": True},  # no table to compare: the team's tests decide
    }
    (work / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    (work / "team").mkdir()
    (work / "team" / "test_team.py").write_text(team, encoding="utf-8")
    if conftest is not None:
        (work / "team" / "conftest.py").write_text(conftest, encoding="utf-8")
    (work / "team" / "go-on").touch()  # a run that nobody interrupts goes straight through
    return work


def hold(work: Path) -> None:
    """Make test_waits wait until :func:`release`."""
    (work / "team" / "go-on").unlink()


def release(work: Path) -> None:
    (work / "team" / "go-on").touch()


def results(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / RESULTS_NAME).read_text(encoding="utf-8"))
    return data


def verdicts(out: Path) -> dict[str, set[str]]:
    """What each file of the folder says the verdict is (a file that is absent says nothing)."""
    said: dict[str, set[str]] = {}
    if (out / RESULTS_NAME).exists():
        said[RESULTS_NAME] = {results(out)["verdict"]}
    for name in (HTML_NAME, SIGNOFF_HTML_NAME):
        if (out / name).exists():
            said[name] = set(VERDICT_IN_HTML.findall((out / name).read_text(encoding="utf-8")))
    if (out / JUNIT_NAME).exists():
        root = ET.parse(out / JUNIT_NAME).getroot()
        said[JUNIT_NAME] = {
            p.get("value", "") for p in root.iter("property") if p.get("name") == "verdict"
        }
        if root.get("failures") == "0" and root.get("errors") == "0":
            said[JUNIT_NAME].add("GO")  # a green CI tab
    return said


def assert_never_go(out: Path, done: subprocess.CompletedProcess[str]) -> None:
    output = done.stdout + done.stderr
    assert done.returncode in (1, 2), output
    assert "cutover verdict: GO" not in output
    for name, said in verdicts(out).items():
        assert not said & {"GO", "GO WITH WAIVERS"}, f"{name} says {said}"


def check_of(out: Path, test: str) -> dict[str, Any]:
    found = [c for c in results(out)["checks"] if c["nodeid"].endswith(f"::{test}")]
    assert len(found) == 1, [c["nodeid"] for c in results(out)["checks"]]
    check: dict[str, Any] = found[0]
    return check


def files_in(folder: Path) -> dict[str, bytes]:
    """The folder's files and their bytes (its lock file aside)."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    err = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(err) == 1, f"stderr is not one line:\n{done.stderr}"
    assert err[0].startswith("cutover: error: "), err[0]
    return err[0]


# --- 3. an interrupted or crashed run is never GO -----------------------------------------


class TestAnInterruptedRunIsNeverGo:
    @pytest.mark.parametrize("workers", ["0", "2"])
    @pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
    def test_a_signal_while_items_run_is_no_go_naming_what_never_ran(
        self, tmp_path: Path, signum: signal.Signals, workers: str
    ) -> None:
        work = project(tmp_path)
        hold(work)
        out = work / "out"
        proc = start(work, out, "-n", workers)
        wait_for(work / "team" / "started", proc)
        os.kill(proc.pid, signum)
        done = finish(proc)

        assert_never_go(out, done)
        recorded = results(out)
        assert recorded["verdict"] == "NO-GO"
        reason = recorded["verdict_reason"]
        assert reason.startswith("run incomplete"), reason
        assert signum.name in reason, reason
        assert "test_waits" in reason, reason
        assert check_of(out, "test_waits")["status"] == "error"
        if workers == "0":  # one process runs the file in order: test_after never started
            assert check_of(out, "test_after")["status"] == "error"
            assert check_of(out, "test_before")["status"] == "pass"
        assert "cutover verdict: NO-GO" in done.stdout

    def test_a_run_the_controller_stops_early_is_no_go(self, tmp_path: Path) -> None:
        stops = TEAM_TESTS.replace(
            "def test_waits():", "def test_waits():\n    __import__('pytest').exit('bail out')\n"
        )
        work = project(tmp_path, team=stops)
        out = work / "out"
        done = run(work, out)

        assert_never_go(out, done)
        reason = results(out)["verdict_reason"]
        assert reason.startswith("run incomplete"), reason
        assert "bail out" in reason
        assert check_of(out, "test_after")["status"] == "error"

    def test_items_selected_but_never_reported_make_it_no_go(self, tmp_path: Path) -> None:
        swallow = (
            "import pytest\n\n\n"
            "@pytest.hookimpl(tryfirst=True)\n"
            "def pytest_runtest_protocol(item):\n"
            "    return True if item.name == 'test_after' else None\n"
        )
        work = project(tmp_path, conftest=swallow)
        out = work / "out"
        done = run(work, out)

        assert_never_go(out, done)
        assert done.returncode == 1, done.stdout + done.stderr
        reason = results(out)["verdict_reason"]
        assert reason.startswith("run incomplete"), reason
        assert "test_after" in reason
        assert check_of(out, "test_after")["status"] == "error"

    def test_an_xdist_worker_that_dies_is_no_go(self, tmp_path: Path) -> None:
        dies = TEAM_TESTS.replace(
            "def test_waits():", "def test_waits():\n    __import__('os')._exit(3)\n"
        )
        work = project(tmp_path, team=dies)
        out = work / "out"
        done = run(work, out, "-n", "2")

        assert_never_go(out, done)
        assert check_of(out, "test_waits")["status"] == "error"
        assert "crashed" in check_of(out, "test_waits")["summary"]


# --- 4. every file of the folder belongs to one run ------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class TestAFolderHoldsOneRun:
    def test_a_run_that_stops_with_a_usage_error_leaves_no_earlier_verdict(
        self, tmp_path: Path
    ) -> None:
        work = project(tmp_path)
        out = work / "out"
        first = run(work, out)
        assert first.returncode == 0, first.stdout + first.stderr
        assert verdicts(out)[HTML_NAME] == {"GO"}
        (out / SIGNOFF_HTML_NAME).write_bytes((out / HTML_NAME).read_bytes())  # an older page
        (out / f"{HTML_NAME}.partial").write_text("half a page")

        plan = yaml.safe_load((work / "plan.yaml").read_text(encoding="utf-8"))
        plan["target"] = {
            "kind": "postgres",
            "dsn": f"host=127.0.0.1 port={free_port()} dbname=postgres user=postgres",
        }
        (work / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
        second = run(work, out)

        assert "cannot connect" in one_error_line(second)
        # Only the stopped run's own folder is left (tests/test_report_on_abort.py): every
        # file says NO-GO, the earlier GO and its signed-off page are gone.
        assert set(files_in(out)) == {RESULTS_NAME, *DERIVED_NAMES}
        assert all(said == {"NO-GO"} for said in verdicts(out).values())
        assert "cannot connect" in results(out)["verdict_reason"]

    def test_a_folder_holding_a_signed_bundle_is_refused_and_left_as_it_is(
        self, tmp_path: Path
    ) -> None:
        work = project(tmp_path)
        out = work / "out"
        assert run(work, out).returncode == 0
        (out / BUNDLE_NAME).write_text('{"payloadType": "application/vnd.in-toto+json"}\n')
        before = files_in(out)

        line = one_error_line(run(work, out))

        assert BUNDLE_NAME in line
        assert "--report-dir" in line
        assert "move" in line
        assert files_in(out) == before


# --- 5. one run per folder ----------------------------------------------------------------------


class TestOneRunPerFolder:
    def test_a_second_run_into_a_busy_folder_is_refused_at_once(self, tmp_path: Path) -> None:
        work = project(tmp_path)
        hold(work)
        out = work / "out"
        first = start(work, out)
        try:
            wait_for(work / "team" / "started", first)
            began = time.monotonic()
            second = run(work, out, timeout=60)
            took = time.monotonic() - began
        finally:
            release(work)
        done = finish(first)

        line = one_error_line(second)
        assert "another cutover run" in line, line
        assert str(out) in line
        assert took < 30
        assert done.returncode == 0, done.stdout + done.stderr
        assert results(out)["verdict"] == "GO"
        assert "cutover verdict: GO" in done.stdout

    def test_the_exit_code_is_the_runs_own_verdict_not_the_file_on_disk(
        self, tmp_path: Path
    ) -> None:
        # Another process writing results.json as this run ends: a GO document over a NO-GO run.
        overwrite = (
            "import json\n"
            "from pathlib import Path\n\n\n"
            "def pytest_unconfigure(config):\n"
            "    out = Path(config.getoption('--report-dir'))\n"
            "    if (out / 'results.json').exists():\n"
            "        data = json.loads((out / 'results.json').read_text())\n"
            "        data['verdict'] = 'GO'\n"
            "        (out / 'results.json').write_text(json.dumps(data))\n"
        )
        failing = TEAM_TESTS.replace("def test_after():\n    pass", "def test_after():\n    1 / 0")
        work = project(tmp_path, conftest=overwrite, team=failing)
        out = work / "out"
        done = run(work, out)

        assert results(out)["verdict"] == "GO"  # what the other process wrote
        assert done.returncode == 1, done.stdout + done.stderr
        assert "cutover verdict: NO-GO" in done.stdout
