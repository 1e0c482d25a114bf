"""Specification of ``health``: the application's health URL probed ``runs`` times, each
probe a success only with the expected status and JSON within the timeout; the report draws
the strip as it does for the database's ``SELECT 1``.

Every probe goes to a real HTTP server on 127.0.0.1 (a thread here, or an application
process cutover starts from ``health.command``).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.app.health import application, check_health, probe, probes, shown_url
from harness.app.settings import AppHealth
from harness.endpoints.resolve import Connector
from harness.errors import CheckError, PlanError
from harness.plan.load import load_plan
from harness.report.charts import chart_for
from harness.results.check import Status
from tests.conftest import run_cutover


@dataclass
class Behaviour:
    """What the test server answers: ``failing`` request numbers get a 503."""

    body: Any = field(default_factory=lambda: {"status": "healthy", "db": {"ok": True}})
    failing: set[int] = field(default_factory=set)
    raw: bytes | None = None
    count: int = 0


@pytest.fixture
def server() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            behaviour.count += 1
            failed = behaviour.count in behaviour.failing
            body = behaviour.raw or json.dumps(behaviour.body).encode()
            self.send_response(503 if failed else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/health", behaviour
    httpd.shutdown()
    httpd.server_close()


def _settings(url: str, **more: Any) -> AppHealth:
    return AppHealth.model_validate({"url": url, **more})


class TestProbes:
    def test_99_of_100_is_enough_and_the_strip_shows_the_miss(
        self, server: tuple[str, Behaviour]
    ) -> None:
        url, behaviour = server
        behaviour.failing = {50}
        settings = _settings(url, json={"status": "healthy"})
        result = check_health(probes(settings), settings)
        assert result.status is Status.PASS, result.summary
        assert result.evidence["strip"] == "1" * 49 + "0" + "1" * 50
        assert result.evidence["errors"] == ["status 503 (expected 200)"]
        assert result.id == f"app_health[{url}]"

    def test_below_99_of_100_fails(self, server: tuple[str, Behaviour]) -> None:
        url, behaviour = server
        behaviour.failing = {3, 70}
        settings = _settings(url)
        result = check_health(probes(settings), settings)
        assert result.status is Status.FAIL
        assert "98 of 100 health probes" in result.summary
        assert "need 99" in result.summary

    @pytest.mark.parametrize(
        ("expected", "error"),
        [
            ({"status": "ok"}, 'status: "ok"'),
            ({"db": {"ok": 1}}, "db.ok: 1"),  # true is not 1
            ({"version": "1"}, 'version: "1"'),
        ],
        ids=["value", "bool-is-not-int", "missing-key"],
    )
    def test_the_json_must_hold_what_the_plan_says(
        self, server: tuple[str, Behaviour], expected: dict[str, Any], error: str
    ) -> None:
        url, _ = server
        found = probe(_settings(url, json=expected))
        assert not found.ok
        assert found.error == f"the JSON body does not hold {error}"

    def test_a_nested_subset_matches(self, server: tuple[str, Behaviour]) -> None:
        url, _ = server
        assert probe(_settings(url, json={"db": {"ok": True}})).ok

    def test_a_body_that_is_not_json_fails_a_json_check(
        self, server: tuple[str, Behaviour]
    ) -> None:
        url, behaviour = server
        behaviour.raw = b"<html>fine</html>"
        assert probe(_settings(url, json={"status": "healthy"})).error == "the body is not JSON"
        assert probe(_settings(url)).ok  # without json, the status decides

    def test_a_url_nothing_listens_on_fails_every_probe(self) -> None:
        settings = _settings("http://127.0.0.1:9/health", runs=3, min_successes=1)
        result = check_health(probes(settings), settings)
        assert result.status is Status.FAIL
        assert result.evidence["strip"] == "000"
        assert "no answer" in result.summary


class TestShowing:
    def test_the_shown_url_has_no_credentials_query_or_fragment(self) -> None:
        assert (
            shown_url("https://user:s3cret@app.example.com:8443/health?token=abc#x")
            == "https://app.example.com:8443/health"
        )

    def test_the_report_draws_the_strip(self) -> None:
        check = {"id": "app_health[u]", "evidence": {"strip": "1101"}}
        svg = chart_for("app_health", check)
        assert "health-strip" in svg
        assert "3 of 4 probes succeeded" in svg


class TestPlan:
    @pytest.mark.parametrize(
        ("section", "match"),
        [
            ({"url": "ftp://x/health"}, "not an http:// or https:// URL"),
            ({"url": "http://x/h", "runs": 10, "min_successes": 11}, "exceeds runs"),
            ({"url": "http://x/h", "env": {"DATABASE_URL": "x"}}, "set by cutover"),
            ({"url": "http://x/h", "jsn": {}}, "jsn"),
        ],
        ids=["scheme", "unreachable", "reserved-env", "typo"],
    )
    def test_a_bad_health_section_is_one_line_naming_it(
        self, tmp_path: Path, section: dict[str, Any], match: str
    ) -> None:
        plan = tmp_path / "plan.yaml"
        plan.write_text(
            yaml.safe_dump(
                {
                    "name": "x",
                    "source": {"kind": "sqlite", "path": "a.db"},
                    "target": {"kind": "sqlite", "path": "a.db"},
                    "health": section,
                }
            ),
            encoding="utf-8",
        )
        with pytest.raises(PlanError, match=match) as caught:
            load_plan(plan)
        assert "health" in str(caught.value)


APP = """
import json, os, sqlite3, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

path = urllib.parse.urlsplit(os.environ["DATABASE_URL"]).path

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with sqlite3.connect(path) as conn:
            n = conn.execute("SELECT count(*) FROM skills").fetchone()[0]
        status = "healthy" if n else "empty"
        body = json.dumps({"status": status, "side": os.environ["CUTOVER_SIDE"]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

if os.environ.get("CRASH"):
    sys.exit("cannot open the pool")
HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _app(tmp_path: Path, rows: int = 1) -> tuple[Path, Connector]:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    db = tmp_path / "target.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE skills (id INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO skills VALUES (?)", [(i,) for i in range(rows)])
    return db, Connector("target", "sqlite", "sqlite", str(db), f"sqlite:{db}")


class TestStartingTheApplication:
    def test_cutover_starts_it_against_the_target_and_stops_it(self, tmp_path: Path) -> None:
        _, target = _app(tmp_path)
        port = _free_port()
        settings = _settings(
            f"http://127.0.0.1:{port}/health",
            command=f"{sys.executable} app.py {port}",
            cwd=str(tmp_path),
            json={"status": "healthy", "side": "target"},
            runs=20,
            min_successes=20,
        )
        with application(settings, target) as about:
            found = probes(settings)
        result = check_health(found, settings, about)
        assert result.status is Status.PASS, result.summary
        assert result.evidence["started_by"] == "cutover"
        assert "a copy made for the run" in result.evidence["database"]
        assert not probe(settings).ok  # stopped afterwards

    def test_an_application_that_exits_is_an_error_with_its_output(self, tmp_path: Path) -> None:
        _, target = _app(tmp_path)
        settings = _settings(
            "http://127.0.0.1:9/health",
            command=f"{sys.executable} app.py 9",
            cwd=str(tmp_path),
            env={"CRASH": "1"},
        )
        with (
            pytest.raises(CheckError, match=r"exited 1 before .*cannot open the pool"),
            application(settings, target),
        ):
            pass

    def test_an_application_that_never_answers_is_an_error(self, tmp_path: Path) -> None:
        _, target = _app(tmp_path)
        settings = _settings(
            "http://127.0.0.1:9/health",
            command=f"{sys.executable} -c 'import time; time.sleep(60)'",
            cwd=str(tmp_path),
            start_timeout_s=1,
        )
        with (
            pytest.raises(CheckError, match=r"did not answer within 1 s"),
            application(settings, target),
        ):
            pass


@pytest.mark.slow
def test_verify_probes_the_application_and_draws_the_strip(tmp_path: Path) -> None:
    db, _ = _app(tmp_path)
    port = _free_port()
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "health",
                "source": {"kind": "sqlite", "path": str(db)},
                "target": {"kind": "sqlite", "path": str(db)},
                "tables": {"include": [], "allow_empty": True},
                "health": {
                    "url": f"http://127.0.0.1:{port}/health",
                    "command": f"{sys.executable} app.py {port}",
                    "json": {"status": "healthy"},
                    "runs": 30,
                    "min_successes": 29,
                },
            }
        ),
        encoding="utf-8",
    )
    done = run_cutover("verify", "--plan", str(plan), "--report-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    (check,) = [c for c in results["checks"] if c["area"] == "app_health"]
    assert check["evidence"]["strip"] == "1" * 30
    assert 'class="chart health-strip"' in (tmp_path / "out" / "report.html").read_text()
