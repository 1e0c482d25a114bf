"""Specification of ``app_tests``: the application's own suite run once per side, on a
database cutover made for the purpose, its JUnit reports compared test by test.

Real components throughout: suites are real processes (pytest writing JUnit, a shell
script), sides are real SQLite files and real PostgreSQL databases, copies are made with
SQLite's backup API and pg_dump/pg_restore, and the end-to-end tests run ``cutover verify``.
"""

from __future__ import annotations

import sqlite3
import sys
import textwrap
import uuid
from pathlib import Path

import psycopg
import pytest

from harness.app.junit import Outcome, TestOutcome, read_junit
from harness.app.settings import AppTests
from harness.app.sides import check_writable, pointed_at
from harness.app.suite import SuiteRun, compare, run_suite
from harness.embedded.provision import PostgresCluster
from harness.endpoints.resolve import Connector
from harness.errors import CheckError, PlanError
from harness.results.check import Severity, Status
from tests.conftest import run_cutover, run_sql

NODE_SHAPE = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testcase name="lists users" time="0.01" classname="test"/>
  <testcase name="finds a skill" time="0.01" classname="test" failure="expected 2">
    <failure type="testCodeFailure" message="expected 2">stack</failure>
  </testcase>
  <testsuite name="orders" tests="3" failures="0" errors="1" skipped="1">
    <testcase name="lists users" classname="test"/>
    <testcase name="totals" classname="test"><error message="boom">trace</error></testcase>
    <testcase name="later" classname="test"><skipped message="todo"/></testcase>
  </testsuite>
</testsuites>
"""

JEST_SHAPE = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="2" failures="1" errors="0">
  <testsuite name="db.test.js" tests="2" failures="1" errors="0">
    <testcase classname="db works" name="db works" time="0.1"/>
    <testcase classname="db fails" name="db fails" time="0.1">
      <failure>Error: relation "skills" does not exist
    at Object.query</failure>
    </testcase>
  </testsuite>
</testsuites>
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


class TestReadingJunit:
    def test_node_reports_put_tests_at_the_top_and_nest_describe_blocks(
        self, tmp_path: Path
    ) -> None:
        tests = read_junit(_write(tmp_path / "j.xml", NODE_SHAPE))
        assert tests == [
            TestOutcome("lists users", Outcome.PASSED),
            TestOutcome("finds a skill", Outcome.FAILED, "expected 2"),
            TestOutcome("orders > lists users", Outcome.PASSED),
            TestOutcome("orders > totals", Outcome.ERROR, "boom"),
            TestOutcome("orders > later", Outcome.SKIPPED),
        ]

    def test_a_failure_without_a_message_is_named_by_its_first_line(self, tmp_path: Path) -> None:
        tests = read_junit(_write(tmp_path / "j.xml", JEST_SHAPE))
        assert tests[1] == TestOutcome(
            "db.test.js > db fails > db fails",
            Outcome.FAILED,
            'Error: relation "skills" does not exist',
        )

    def test_a_repeated_name_stays_two_tests(self, tmp_path: Path) -> None:
        text = '<testsuites><testcase name="a"/><testcase name="a"><failure message="x"/>'
        tests = read_junit(_write(tmp_path / "j.xml", text + "</testcase></testsuites>"))
        assert [t.name for t in tests] == ["a", "a #2"]

    @pytest.mark.parametrize(
        ("text", "match"),
        [
            (None, "no JUnit report was written"),
            ("not xml at all", "not a JUnit XML report"),
            ("<html><body/></html>", "not a JUnit XML report"),
            ("<testsuites><testsuite name='empty'/></testsuites>", "holds no test"),
        ],
        ids=["missing", "not-xml", "not-junit", "empty"],
    )
    def test_a_report_that_proves_nothing_is_an_error(
        self, tmp_path: Path, text: str | None, match: str
    ) -> None:
        path = tmp_path / "j.xml"
        if text is not None:
            path.write_text(text, encoding="utf-8")
        with pytest.raises(CheckError, match=match):
            read_junit(path)


def _run(side: str, *tests: TestOutcome, exit_code: int | None = None) -> SuiteRun:
    failing = any(t.outcome in (Outcome.FAILED, Outcome.ERROR) for t in tests)
    code = exit_code if exit_code is not None else int(failing)
    return SuiteRun(side, f"{side} db", code, 0.1, tests, "")


PASS, FAIL, ERR, SKIP = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.SKIPPED


class TestComparing:
    def test_a_test_that_passed_on_the_source_and_fails_on_the_target_fails_the_check(
        self,
    ) -> None:
        result = compare(
            "npm test",
            _run("source", TestOutcome("a", PASS), TestOutcome("b", PASS)),
            _run("target", TestOutcome("a", PASS), TestOutcome("b", FAIL, "got 0 rows")),
        )
        assert result.status is Status.FAIL
        assert result.id == "app_tests[npm test]"
        (finding,) = result.findings
        assert finding.table == "b"
        assert "passed on the source, fails on the target: got 0 rows" in finding.message
        assert result.evidence["differences"][0]["target_message"] == "got 0 rows"

    def test_an_error_on_the_target_is_a_failure_too(self) -> None:
        result = compare(
            "t", _run("source", TestOutcome("a", PASS)), _run("target", TestOutcome("a", ERR, "x"))
        )
        assert result.status is Status.FAIL
        assert "errors on the target" in result.findings[0].message

    def test_a_test_failing_on_both_sides_is_reported_not_blamed(self) -> None:
        result = compare(
            "t",
            _run("source", TestOutcome("a", PASS), TestOutcome("flaky", FAIL, "timeout")),
            _run("target", TestOutcome("a", PASS), TestOutcome("flaky", FAIL, "timeout")),
        )
        assert result.status is Status.PASS
        (finding,) = result.findings
        assert finding.severity is Severity.WARNING
        assert "fails on both sides" in finding.message
        assert "1 warning" in result.summary

    @pytest.mark.parametrize(
        ("target", "words"),
        [
            ((TestOutcome("a", PASS), TestOutcome("b", SKIP)), "skipped on the target"),
            ((TestOutcome("a", PASS),), "not run on the target"),
        ],
        ids=["skipped", "absent"],
    )
    def test_a_test_the_target_never_ran_is_not_a_pass(
        self, target: tuple[TestOutcome, ...], words: str
    ) -> None:
        source = _run("source", TestOutcome("a", PASS), TestOutcome("b", PASS))
        result = compare("t", source, _run("target", *target))
        assert result.status is Status.FAIL
        assert words in result.findings[0].message

    def test_a_suite_with_no_passing_test_on_the_target_proves_nothing(self) -> None:
        result = compare(
            "t", _run("source", TestOutcome("a", FAIL, "x")), _run("target", TestOutcome("a", SKIP))
        )
        assert result.status is Status.FAIL
        assert "no test passed on the target" in result.summary

    def test_a_target_run_that_exits_non_zero_with_a_clean_report_fails(self) -> None:
        result = compare(
            "t",
            _run("source", TestOutcome("a", PASS)),
            _run("target", TestOutcome("a", PASS), exit_code=3),
        )
        assert result.status is Status.FAIL
        assert "exited 3 on the target" in result.summary

    def test_the_same_results_on_both_sides_pass(self) -> None:
        same = (TestOutcome("a", PASS), TestOutcome("b", SKIP))
        result = compare("t", _run("source", *same), _run("target", *same))
        assert result.status is Status.PASS
        assert result.findings == ()
        assert result.evidence["target"]["tests"] == {
            "passed": 1,
            "failed": 0,
            "error": 0,
            "skipped": 1,
        }


def _sqlite(path: Path, name: str) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE skills (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO skills VALUES (1, ?)", (name,))
    return path


def _sqlite_side(path: Path, role: str = "target") -> Connector:
    return Connector(role, "sqlite", "sqlite", str(path), f"sqlite:{path}")


def _pg_side(dsn: str, kind: str, role: str = "target") -> Connector:
    return Connector(role, kind, "postgres", dsn, f"{kind}: test")


class TestSides:
    def test_a_sqlite_side_is_a_copy_the_application_may_write(self, tmp_path: Path) -> None:
        original = _sqlite(tmp_path / "app.db", "TypeScript")
        with pointed_at(_sqlite_side(original), allow_writes=False, workdir=tmp_path) as pointed:
            url = pointed.env["DATABASE_URL"]
            assert url.startswith("sqlite:///")
            copy = Path(url.removeprefix("sqlite://"))
            assert copy != original
            with sqlite3.connect(copy) as conn:
                conn.execute("INSERT INTO skills VALUES (2, 'Go')")
            assert pointed.env["CUTOVER_SIDE"] == "target"
        assert not copy.exists()
        with sqlite3.connect(original) as conn:
            assert conn.execute("SELECT count(*) FROM skills").fetchone() == (1,)

    def test_an_embedded_side_is_a_copy_database_dropped_afterwards(
        self, pg_password_cluster: tuple[PostgresCluster, str], tmp_path: Path
    ) -> None:
        cluster, password = pg_password_cluster
        name = f"t_{uuid.uuid4().hex[:12]}"
        dsn = cluster.create_database(name)
        run_sql(
            dsn,
            "CREATE TABLE skills (id int PRIMARY KEY, name text);"
            "INSERT INTO skills VALUES (1, 'TypeScript')",
        )
        side = _pg_side(cluster.conninfo(name, tcp=True), "embedded")
        with pointed_at(side, allow_writes=False, workdir=tmp_path) as pointed:
            env = pointed.env
            assert env["PGHOST"] == "127.0.0.1"
            assert env["PGDATABASE"].startswith("cutover_app_target_")
            assert env["PGPASSWORD"] == password
            assert pointed.secrets == (password,)
            assert password not in pointed.shown
            with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
                assert conn.execute("SELECT name FROM skills").fetchall() == [("TypeScript",)]
                conn.execute("INSERT INTO skills VALUES (2, 'Go')")
            copy = env["PGDATABASE"]
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM skills").fetchone() == (1,)
            gone = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (copy,))
            assert gone.fetchone() is None
        cluster.drop_database(name)

    def test_a_database_cutover_did_not_create_is_refused_without_allow_writes(self) -> None:
        side = _pg_side("host=db.example.com dbname=app user=app", "postgres")
        with pytest.raises(PlanError, match=r"app_tests\.allow_writes: \[target\]"):
            check_writable(side, allow_writes=False, section="app_tests")
        check_writable(side, allow_writes=True, section="app_tests")

    def test_an_allowed_side_is_used_in_place(self, pg_database: str, tmp_path: Path) -> None:
        side = _pg_side(pg_database, "postgres")
        dbname = psycopg.conninfo.conninfo_to_dict(pg_database)["dbname"]
        with (
            pointed_at(side, allow_writes=True, workdir=tmp_path) as pointed,
            psycopg.connect(pointed.env["DATABASE_URL"]) as conn,
        ):
            assert conn.execute("SELECT current_database()").fetchone() == (dbname,)


SUITE = """
import os, sqlite3, urllib.parse

def db():
    return sqlite3.connect(urllib.parse.urlsplit(os.environ["DATABASE_URL"]).path)

def test_counts():
    assert db().execute("SELECT count(*) FROM skills").fetchone()[0] == 1

def test_name():
    name = db().execute("SELECT name FROM skills").fetchone()[0]
    assert name == "TypeScript", f"found {name}"

def test_writes():
    conn = db()
    conn.execute("INSERT INTO skills VALUES (99, 'Rust')")
    conn.commit()
"""


def _pytest_suite(folder: Path, body: str = SUITE, **extra: object) -> AppTests:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_app.py").write_text(body, encoding="utf-8")
    command = (
        f"{sys.executable} -m pytest -q -p no:cacheprovider -p no:cutover "
        "-p no:xdist --junitxml=out/junit.xml test_app.py"
    )
    return AppTests.model_validate(
        {"command": command, "junit": "out/junit.xml", "cwd": folder, **extra}
    )


class TestRunningASuite:
    def test_each_run_reads_its_own_side(self, tmp_path: Path) -> None:
        settings = _pytest_suite(tmp_path / "suite")
        source = _sqlite(tmp_path / "source.db", "TypeScript")
        target = _sqlite(tmp_path / "target.db", "typescript")
        runs = {}
        for role, path in (("source", source), ("target", target)):
            with pointed_at(_sqlite_side(path, role), allow_writes=False, workdir=tmp_path) as p:
                runs[role] = run_suite(settings, p)
        result = compare(settings.command, runs["source"], runs["target"])
        assert result.status is Status.FAIL
        (finding,) = result.findings
        assert finding.table.endswith("test_name")
        assert "found typescript" in finding.message
        for path in (source, target):  # the suite wrote to copies only
            with sqlite3.connect(path) as conn:
                assert conn.execute("SELECT count(*) FROM skills").fetchone() == (1,)

    def test_a_stale_report_never_passes_for_a_run_that_wrote_none(self, tmp_path: Path) -> None:
        folder = tmp_path / "suite"
        (folder / "out").mkdir(parents=True)
        _write(folder / "out" / "junit.xml", '<testsuites><testcase name="old"/></testsuites>')
        settings = AppTests(command="true", junit=Path("out/junit.xml"), cwd=folder)
        with (
            pointed_at(
                _sqlite_side(_sqlite(tmp_path / "a.db", "x")), allow_writes=False, workdir=tmp_path
            ) as pointed,
            pytest.raises(CheckError, match=r"exited 0: .*no JUnit report was written"),
        ):
            run_suite(settings, pointed)

    def test_a_command_that_cannot_start_is_an_error(self, tmp_path: Path) -> None:
        settings = AppTests(command="no-such-command-xyz test", junit=Path("j.xml"), cwd=tmp_path)
        with (
            pointed_at(
                _sqlite_side(_sqlite(tmp_path / "a.db", "x")), allow_writes=False, workdir=tmp_path
            ) as pointed,
            pytest.raises(CheckError, match="cannot start 'no-such-command-xyz test'"),
        ):
            run_suite(settings, pointed)

    def test_a_suite_over_its_time_is_stopped_with_its_children(self, tmp_path: Path) -> None:
        marker = tmp_path / "child-survived"
        script = tmp_path / "slow.sh"
        # The child outlives its parent's kill only if the group is not killed as a whole.
        # It would touch the marker 1 s in; it is looked for 1.5 s after the kill (itself at
        # least 0.5 s in), so a survivor has a full second to show itself.
        _write(script, f"(sleep 1; touch {marker}) &\nsleep 30\n")
        settings = AppTests(
            command=f"sh {script}", junit=Path("j.xml"), cwd=tmp_path, timeout_s=0.5
        )
        with (
            pointed_at(
                _sqlite_side(_sqlite(tmp_path / "a.db", "x")), allow_writes=False, workdir=tmp_path
            ) as pointed,
            pytest.raises(CheckError, match=r"did not finish within 0\.5 s"),
        ):
            run_suite(settings, pointed)
        import time

        time.sleep(1.5)
        assert not marker.exists()

    def test_the_password_never_reaches_the_evidence(
        self, pg_password_cluster: tuple[PostgresCluster, str], tmp_path: Path
    ) -> None:
        cluster, password = pg_password_cluster
        name = f"t_{uuid.uuid4().hex[:12]}"
        cluster.create_database(name)
        body = (
            "import os\n"
            "def test_shows_url():\n"
            "    print(os.environ['DATABASE_URL'], os.environ['PGPASSWORD'])\n"
            "    assert False, os.environ['DATABASE_URL']\n"
        )
        settings = _pytest_suite(tmp_path / "suite", body)
        side = _pg_side(cluster.conninfo(name, tcp=True), "embedded")
        with pointed_at(side, allow_writes=False, workdir=tmp_path) as pointed:
            run = run_suite(settings, pointed)
        text = repr(run)
        assert password not in text
        assert "***" in run.tests[0].message
        cluster.drop_database(name)


def _sql(path: Path, name: str) -> Path:
    return _write(
        path,
        "CREATE TABLE skills (id int PRIMARY KEY, name text NOT NULL);\n"
        f"INSERT INTO skills VALUES (1, '{name}');\n",
    )


PG_SUITE = """
import os, psycopg

def test_name():
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        name = conn.execute("SELECT name FROM skills WHERE id = %s", (1,)).fetchone()[0]
    assert name == "TypeScript", f"found {name}"

def test_insert():
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("INSERT INTO skills VALUES (2, 'Go')")
"""


@pytest.mark.slow
class TestVerify:
    def _plan(self, tmp_path: Path, target_name: str, **app: object) -> Path:
        settings = _pytest_suite(tmp_path / "suite", PG_SUITE)
        plan = {
            "name": "app",
            "source": {
                "kind": "embedded",
                "load": [{"sql": str(_sql(tmp_path / "s.sql", "TypeScript"))}],
            },
            "target": {
                "kind": "embedded",
                "load": [{"sql": str(_sql(tmp_path / "t.sql", target_name))}],
            },
            "app_tests": {
                "command": settings.command,
                "junit": "out/junit.xml",
                "cwd": str(settings.cwd),
                **app,
            },
        }
        import yaml

        path = tmp_path / "plan.yaml"
        path.write_text(yaml.safe_dump(plan), encoding="utf-8")
        return path

    def test_a_suite_that_passes_on_both_sides_is_go_and_the_rows_stay_equal(
        self, tmp_path: Path
    ) -> None:
        plan = self._plan(tmp_path, "TypeScript")
        done = run_cutover("verify", "--plan", str(plan), "--report-dir", "out", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        import json

        results = json.loads((tmp_path / "out" / "results.json").read_text())
        checks = {c["id"]: c for c in results["checks"]}
        suite = next(c for c in checks.values() if c["area"] == "app_tests")
        assert suite["status"] == "pass"
        assert suite["evidence"]["target"]["tests"]["passed"] == 2
        # the suite's INSERT went to copies: the row comparison saw one row a side
        assert checks["row_count[skills]"]["status"] == "pass"

    def test_a_test_only_the_target_fails_is_no_go(self, tmp_path: Path) -> None:
        plan = self._plan(tmp_path, "typescript")
        done = run_cutover("verify", "--plan", str(plan), "--report-dir", "out", cwd=tmp_path)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "test_name: passed on the source, fails on the target" in done.stdout

    def test_a_side_cutover_did_not_create_is_a_usage_error(
        self, tmp_path: Path, pg_database: str
    ) -> None:
        settings = _pytest_suite(tmp_path / "suite", PG_SUITE)
        run_sql(pg_database, "CREATE TABLE skills (id int PRIMARY KEY, name text)")
        import yaml

        plan = tmp_path / "plan.yaml"
        plan.write_text(
            yaml.safe_dump(
                {
                    "name": "app",
                    "source": {"kind": "postgres", "dsn": pg_database},
                    "target": {"kind": "postgres", "dsn": pg_database},
                    "tables": {"include": [], "allow_empty": True},
                    "app_tests": {
                        "command": settings.command,
                        "junit": "j.xml",
                        "cwd": str(tmp_path),
                    },
                }
            ),
            encoding="utf-8",
        )
        done = run_cutover("verify", "--plan", str(plan), "--report-dir", "out", cwd=tmp_path)
        assert done.returncode == 2
        line = done.stderr.strip().splitlines()[-1]
        assert "a database cutover did not create" in line
        assert "app_tests.allow_writes: [source]" in line
        assert "Traceback" not in done.stderr
