"""Specification of the `cutover` command, end to end: real plans, real databases, real exit codes.

`verify` and `demo` run in a subprocess (they call pytest.main); `init`, `schema` and `report`
run through click's CliRunner. Each verify run costs seconds, so every run is produced once per
test session — under pytest-xdist, once for all workers, behind a FileLock — and several
tests read what it left behind.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import psycopg
import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.db.database import PostgresDatabase, SqliteDatabase
from harness.embedded.provision import PostgresCluster
from harness.embedded.servers import docker_available
from harness.endpoints.resolve import open_database, resolve
from harness.plan.load import load_plan
from harness.plan.template import PLAN_TEMPLATE
from tests.conftest import DemoReports, run_cutover, run_once

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
PLAN_SCHEMA = SCHEMAS / "plan.schema.json"
RESULTS_SCHEMA = SCHEMAS / "results.schema.json"


# --- running the command --------------------------------------------------------------------


def cli(*args: str) -> Any:
    """Run a command that never starts pytest (init, schema, report) in-process."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@dataclass(frozen=True)
class Run:
    """One `cutover verify` and what it left behind."""

    code: int
    stdout: str
    stderr: str
    report_dir: str
    facts: dict[str, Any] = field(default_factory=dict)
    """Whatever the producer observed around the run (snapshots, secrets to look for)."""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def results_path(self) -> Path:
        return Path(self.report_dir) / "results.json"

    @property
    def report_path(self) -> Path:
        return Path(self.report_dir) / "report.html"

    def results(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.results_path.read_text(encoding="utf-8"))
        return data

    def check(self, check_id: str) -> dict[str, Any]:
        found = [c for c in self.results()["checks"] if c["id"] == check_id]
        assert len(found) == 1, f"{check_id} not exactly once in {self.results_path}"
        return found[0]


def verify(plan: dict[str, Any], work: Path, *extra: str) -> Run:
    """Write ``plan`` into ``work`` and run `cutover verify` on it there."""
    (work / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    out = work / "out"
    result = run_cutover(
        "verify", "--plan", "plan.yaml", "--report-dir", str(out), *extra, cwd=work
    )
    return Run(result.returncode, result.stdout, result.stderr, str(out))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the databases under test -----------------------------------------------------------------


def build_app_db(path: Path) -> Path:
    """The source application: users (3 rows) and orders (2 rows) in SQLite."""
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);
            INSERT INTO users (name, email)
                VALUES ('ana', 'ana@example.com'), ('bo', NULL), ('cy', 'cy@example.com');
            CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id),
                                 total REAL);
            INSERT INTO orders (user_id, total) VALUES (1, 1.5), (2, 2.5);
        """)
    conn.close()
    return path


# The hurried migration: users.email dropped and the user 'cy' lost; orders intact.
DRIFTED_TARGET = """
    CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);
    INSERT INTO users VALUES (1, 'ana'), (2, 'bo');
    CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id),
                         total double precision);
    INSERT INTO orders VALUES (1, 1, 1.5), (2, 2, 2.5);
"""

WAIVERS = [
    {
        "table": "users",
        "column": "email",
        "kind": "missing_column",
        "reason": "email moved to the identity service (MIG-101)",
        "reviewer": "Ana Lima",
        "expires": "2999-12-31",
    },
    {
        "table": "users",
        "kind": "row_count",
        "reason": "test user 'cy' purged before cutover (MIG-102)",
        "reviewer": "Ana Lima",
    },
    {
        "table": "users",
        "kind": "row_missing",
        "reason": "test user 'cy' purged before cutover (MIG-102)",
        "reviewer": "Ana Lima",
    },
]


def drifted_run(
    request: pytest.FixtureRequest,
    name: str,
    *extra: str,
    expected_differences: list[dict[str, Any]] | None = None,
) -> Run:
    """Verify the SQLite app against a drifted PostgreSQL target (a fresh database per run)."""

    def produce(work: Path) -> Run:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        database = f"drifted_{name.replace('-', '_')}"
        dsn = cluster.create_database(database)
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(DRIFTED_TARGET)
            plan: dict[str, Any] = {
                "name": f"drifted ({name})",
                "source": {"kind": "sqlite", "path": str(build_app_db(work / "app.db"))},
                "target": {"kind": "postgres", "dsn": dsn},
            }
            if expected_differences is not None:
                plan["expected_differences"] = expected_differences
            return verify(plan, work, *extra)
        finally:
            cluster.drop_database(database)

    return run_once(request, name, produce, Run)


@pytest.fixture(scope="module")
def go_run(request: pytest.FixtureRequest) -> Run:
    """The SQLite app against an embedded PostgreSQL that loaded the same file: GO."""

    def produce(work: Path) -> Run:
        app_db = build_app_db(work / "app.db")
        before = sha256(app_db)
        run = verify(
            {
                "name": "small GO",
                "source": {"kind": "sqlite", "path": "app.db"},
                "target": {"kind": "embedded", "load": [{"sqlite": "app.db"}]},
            },
            work,
        )
        return Run(
            run.code,
            run.stdout,
            run.stderr,
            run.report_dir,
            {"sha_before": before, "sha_after": sha256(app_db)},
        )

    return run_once(request, "go", produce, Run)


@pytest.fixture(scope="module")
def nogo_run(request: pytest.FixtureRequest) -> Run:
    return drifted_run(request, "nogo")


@pytest.fixture(scope="module")
def parallel_run(request: pytest.FixtureRequest) -> Run:
    return drifted_run(request, "nogo-n2", "-n", "2")


@pytest.fixture(scope="module")
def waived_run(request: pytest.FixtureRequest) -> Run:
    return drifted_run(request, "waived", expected_differences=WAIVERS)


@pytest.fixture(scope="module")
def expired_run(request: pytest.FixtureRequest) -> Run:
    expired = [{**WAIVERS[0], "expires": "2020-01-31"}, *WAIVERS[1:]]
    return drifted_run(request, "expired", expected_differences=expired)


PG_SCHEMA = """
    CREATE TABLE items (id integer PRIMARY KEY, label varchar(40) NOT NULL UNIQUE,
                        price numeric(8, 2) NOT NULL DEFAULT 0);
    CREATE INDEX items_price ON items (price);
    INSERT INTO items VALUES (1, 'pen', 1.20), (2, 'ink', 7.00), (3, 'pad', 3.50);
    CREATE VIEW cheap_items AS SELECT id, label FROM items WHERE price < 5;
"""

SNAPSHOT_QUERIES = {
    "databases": "SELECT datname FROM pg_database ORDER BY 1",
    "relations": """SELECT n.nspname, c.relname, c.relkind, c.relfilenode::text
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                      AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2""",
    "columns": """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                         a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
                  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0
                    AND NOT a.attisdropped ORDER BY 1, 2""",
    "constraints": """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
                      FROM pg_constraint WHERE connamespace = 'public'::regnamespace
                      ORDER BY 1, 2""",
    "rows": "SELECT xmin::text, id, label, price::text FROM items ORDER BY id",
}


def snapshot(dsn: str) -> dict[str, list[list[str]]]:
    """Catalog and contents of a database, as text (xmin changes if a row is rewritten)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {
            name: [[str(v) for v in row] for row in conn.execute(query).fetchall()]
            for name, query in SNAPSHOT_QUERIES.items()
        }


@pytest.fixture(scope="module")
def postgres_run(request: pytest.FixtureRequest) -> Run:
    """Two user databases behind a password, DSNs with the password inline; GO."""

    def produce(work: Path) -> Run:
        cluster, password = request.getfixturevalue("pg_password_cluster")
        names = ("app_source", "app_target")
        dsns = [cluster.create_database(name) for name in names]
        try:
            for dsn in dsns:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(PG_SCHEMA)
            before = [snapshot(dsn) for dsn in dsns]
            uri = f"postgresql://postgres:{password}@127.0.0.1:{cluster.port}/{names[1]}"
            run = verify(
                {
                    "name": "postgres to postgres",
                    "source": {"kind": "postgres", "dsn": dsns[0]},
                    "target": {"kind": "postgres", "dsn": uri},
                },
                work,
            )
            after = [snapshot(dsn) for dsn in dsns]
        finally:
            for name in names:
                cluster.drop_database(name)
        return Run(
            run.code,
            run.stdout,
            run.stderr,
            run.report_dir,
            {"password": password, "before": before, "after": after},
        )

    return run_once(request, "postgres", produce, Run)


@pytest.fixture(scope="module")
def container_run(request: pytest.FixtureRequest) -> Run:
    """A container target where no Docker engine answers (skips where one does)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # docker's client leaks its socket
        available = docker_available()
        gc.collect()
    if available:
        pytest.skip("a Docker engine answers here; this specifies the error without one")

    def produce(work: Path) -> Run:
        build_app_db(work / "app.db")
        return verify(
            {
                "name": "container",
                "source": {"kind": "sqlite", "path": "app.db"},
                "target": {"kind": "container"},
            },
            work,
        )

    return run_once(request, "container", produce, Run)


@pytest.fixture
def resources() -> Iterator[ExitStack]:
    """Servers and sessions a test opens, closed when it ends."""
    with ExitStack() as stack:
        yield stack


def comparable(run: Run) -> list[dict[str, Any]]:
    """The checks of a run without what legitimately varies (timings; a connectivity check is
    a measurement of this run's connect, against this run's files, so only its outcome)."""
    checks = []
    for check in run.results()["checks"]:
        kept = {k: v for k, v in check.items() if k != "duration_s"}
        if kept["area"] == "connectivity":
            kept = {k: kept[k] for k in ("id", "area", "status")}
        checks.append(kept)
    return sorted(checks, key=lambda c: c["id"])


# --- init, schema, report -----------------------------------------------------------------------


class TestInit:
    def test_every_optional_section_it_shows_is_valid_when_uncommented(
        self, tmp_path: Path
    ) -> None:
        commented = PLAN_TEMPLATE.split("# Optional capabilities")[1].splitlines()[1:]
        sections = yaml.safe_load("\n".join(line[2:] for line in commented))
        assert {"rows", "queries", "latency", "faults", "lint", "retired", "posture"} <= set(
            sections
        )
        for folder in ("migrations", "infra", "src"):
            (tmp_path / folder).mkdir()
        (tmp_path / "src" / "db.ts").write_text("", encoding="utf-8")
        plan = {**yaml.safe_load(PLAN_TEMPLATE), **sections}
        (tmp_path / "cutover.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
        assert load_plan(tmp_path / "cutover.yaml").plan.queries is not None

    def test_writes_a_commented_template_that_validates(self, tmp_path: Path) -> None:
        path = tmp_path / "cutover.yaml"
        result = cli("init", str(path))
        assert result.exit_code == 0
        assert f"wrote {path}" in result.stdout
        assert path.read_text(encoding="utf-8") == PLAN_TEMPLATE
        loaded = load_plan(path)
        assert loaded.plan.source.kind == "sqlite"
        assert loaded.plan.target.kind == "embedded"

    def test_writes_cutover_yaml_in_the_current_folder_by_default(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        assert cli("init").exit_code == 0
        assert (tmp_path / "cutover.yaml").read_text(encoding="utf-8") == PLAN_TEMPLATE

    def test_refuses_to_overwrite_an_existing_file_without_force(self, tmp_path: Path) -> None:
        path = tmp_path / "cutover.yaml"
        path.write_text("name: mine\n", encoding="utf-8")
        result = cli("init", str(path))
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"cutover: error: {path} already exists; use --force to overwrite it"
        )
        assert path.read_text(encoding="utf-8") == "name: mine\n"

    def test_overwrites_an_existing_file_with_force(self, tmp_path: Path) -> None:
        path = tmp_path / "cutover.yaml"
        path.write_text("name: mine\n", encoding="utf-8")
        assert cli("init", "--force", str(path)).exit_code == 0
        assert path.read_text(encoding="utf-8") == PLAN_TEMPLATE


class TestSchema:
    def test_prints_the_committed_plan_schema(self) -> None:
        result = cli("schema")
        assert result.exit_code == 0
        assert json.loads(result.stdout) == json.loads(PLAN_SCHEMA.read_text(encoding="utf-8"))


class TestReport:
    def test_re_renders_the_html_verify_wrote_byte_for_byte(
        self, go_run: Run, tmp_path: Path
    ) -> None:
        other = tmp_path / "other.html"
        result = cli("report", str(go_run.results_path), "-o", str(other))
        assert result.exit_code == 0
        assert f"report: {other}" in result.stdout
        assert other.read_bytes() == go_run.report_path.read_bytes()

    def test_re_renders_the_same_bytes_from_the_same_results_json(
        self, go_run: Run, tmp_path: Path
    ) -> None:
        copied = tmp_path / "results.json"
        copied.write_bytes(go_run.results_path.read_bytes())
        assert cli("report", str(copied)).exit_code == 0  # default: report.html beside it
        assert cli("report", str(copied), "-o", str(tmp_path / "other.html")).exit_code == 0
        assert (tmp_path / "report.html").read_bytes() == (tmp_path / "other.html").read_bytes()

    def test_a_json_file_that_is_not_a_results_object_is_one_line_and_exit_2(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "results.json").write_text("[1, 2]\n", encoding="utf-8")
        result = CliRunner().invoke(main, ["report", str(tmp_path / "results.json")])
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert "not a results.json" in result.stderr

    def test_a_missing_results_file_is_one_line_and_exit_2(self, tmp_path: Path) -> None:
        result = cli("report", str(tmp_path / "results.json"))
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"cutover: error: {tmp_path / 'results.json'}: no such results file"
        )


# --- verify ---------------------------------------------------------------------------------


class TestVerifyGo:
    def test_exits_0_and_prints_the_verdict(self, go_run: Run) -> None:
        assert go_run.code == 0, go_run.output
        assert "cutover verdict: GO" in go_run.stdout
        assert "Traceback" not in go_run.output

    def test_writes_results_json_with_verdict_go_and_every_check_passing(self, go_run: Run) -> None:
        results = go_run.results()
        assert results["format"] == "cutover.results/1"
        assert results["verdict"] == "GO"
        assert results["verdict_reason"] == "all 9 checks pass"
        assert results["summary"] == {"pass": 9, "fail": 0, "error": 0, "waived": 0, "skip": 0}
        assert {c["id"]: c["status"] for c in results["checks"]} == {
            "connectivity[source]": "pass",
            "connectivity[target]": "pass",
            "schema[orders]": "pass",
            "schema[users]": "pass",
            "schema[views]": "pass",
            "row_count[orders]": "pass",
            "row_count[users]": "pass",
            "rows[orders]": "pass",
            "rows[users]": "pass",
        }
        assert go_run.check("row_count[users]")["evidence"] == {
            "source": 3,
            "target": 3,
            "difference": 0,
        }
        assert results["environment"]["source"]["kind"] == "sqlite"
        assert results["environment"]["target"]["kind"] == "embedded"

    def test_writes_an_html_report_beside_results_json(self, go_run: Run) -> None:
        html = go_run.report_path.read_text(encoding="utf-8")
        assert html.lstrip().lower().startswith("<!doctype html>")
        assert "GO" in html
        assert f"report:  {go_run.report_path}" in go_run.stdout

    def test_never_changes_the_sqlite_source_file(self, go_run: Run) -> None:
        assert go_run.facts["sha_after"] == go_run.facts["sha_before"]


class TestResultsJson:
    @pytest.mark.parametrize(
        "run", ["go_run", "nogo_run", "parallel_run", "waived_run", "expired_run", "postgres_run"]
    )
    def test_every_run_writes_results_json_that_matches_its_schema(
        self, request: pytest.FixtureRequest, run: str
    ) -> None:
        schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(request.getfixturevalue(run).results())


class TestVerifyNoGo:
    def test_exits_1_with_verdict_no_go(self, nogo_run: Run) -> None:
        assert nogo_run.code == 1, nogo_run.output
        assert "cutover verdict: NO-GO" in nogo_run.stdout
        results = nogo_run.results()
        assert results["verdict"] == "NO-GO"
        assert {c["id"] for c in results["checks"] if c["status"] != "pass"} == {
            "schema[users]",
            "row_count[users]",
            "rows[users]",
        }

    def test_names_the_missing_column(self, nogo_run: Run) -> None:
        check = nogo_run.check("schema[users]")
        assert check["status"] == "fail"
        [finding] = check["findings"]
        assert finding["kind"] == "missing_column"
        assert finding["severity"] == "error"
        assert finding["object"] == "users.email"
        assert finding["message"] == "column users.email is missing on the target"

    def test_names_the_row_count_on_each_side(self, nogo_run: Run) -> None:
        check = nogo_run.check("row_count[users]")
        assert check["status"] == "fail"
        assert check["evidence"] == {"source": 3, "target": 2, "difference": -1}
        [finding] = check["findings"]
        assert finding["kind"] == "row_count"
        assert finding["message"] == "users: target has 1 fewer rows (3 → 2)"


class TestExpectedDifferences:
    def test_turn_the_no_go_into_go_with_waivers(self, waived_run: Run) -> None:
        assert waived_run.code == 0, waived_run.output
        results = waived_run.results()
        assert results["verdict"] == "GO WITH WAIVERS"
        assert waived_run.check("schema[users]")["status"] == "waived"
        assert waived_run.check("row_count[users]")["status"] == "waived"
        assert waived_run.check("rows[users]")["status"] == "waived"
        [finding] = waived_run.check("schema[users]")["findings"]
        assert finding["waived_by"] == {
            "reason": WAIVERS[0]["reason"],
            "reviewer": "Ana Lima",
            "expires": "2999-12-31",
            "index": 0,
        }
        assert [(d["used"], d["expired"]) for d in results["expected_differences"]] == [
            (True, False),
            (True, False),
            (True, False),
        ]

    def test_an_expired_one_no_longer_waives(self, expired_run: Run) -> None:
        assert expired_run.code == 1, expired_run.output
        results = expired_run.results()
        assert results["verdict"] == "NO-GO"
        assert expired_run.check("schema[users]")["status"] == "fail"
        assert expired_run.check("row_count[users]")["status"] == "waived"
        first, second, _ = results["expected_differences"]
        assert first["expires"] == "2020-01-31"
        assert (first["expired"], first["used"]) == (True, False)
        assert (second["expired"], second["used"]) == (False, True)


class TestParallel:
    def test_two_workers_give_the_same_checks_in_one_results_json(
        self, nogo_run: Run, parallel_run: Run
    ) -> None:
        assert parallel_run.code == nogo_run.code == 1, parallel_run.output
        assert comparable(parallel_run) == comparable(nogo_run)
        assert parallel_run.results()["environment"]["pytest_workers"] == 2
        assert sorted(p.name for p in Path(parallel_run.report_dir).iterdir()) == [
            "junit.xml",
            "report.html",
            "results.json",
            "results.sarif",
            "summary.md",
        ]


class TestSecrets:
    def test_a_dsn_password_never_appears_in_results_report_or_terminal(
        self, postgres_run: Run
    ) -> None:
        assert postgres_run.code == 0, postgres_run.output
        password = postgres_run.facts["password"]
        assert password not in postgres_run.output
        for path in Path(postgres_run.report_dir).iterdir():
            assert password not in path.read_text(encoding="utf-8"), path
        displays = [
            postgres_run.results()["environment"][side]["display"] for side in ("source", "target")
        ]
        assert all(d.startswith("postgresql://postgres@127.0.0.1:") for d in displays)


class TestReadOnly:
    def test_verify_leaves_postgres_catalogs_and_rows_unchanged(self, postgres_run: Run) -> None:
        assert postgres_run.code == 0, postgres_run.output
        assert postgres_run.results()["verdict"] == "GO"
        assert postgres_run.facts["after"] == postgres_run.facts["before"]

    def test_a_postgres_session_opened_by_the_harness_rejects_writes(
        self,
        pg_database: str,
        write_plan: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch,
        resources: ExitStack,
    ) -> None:
        monkeypatch.delenv("CUTOVER_SOURCE_DSN", raising=False)
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (i int); INSERT INTO t VALUES (1)")
        plan = load_plan(
            write_plan(
                {
                    "name": "ro",
                    "source": {"kind": "postgres", "dsn": pg_database},
                    "target": {"kind": "postgres", "dsn": pg_database},
                }
            )
        ).plan
        db = open_database(resolve(plan.source, "source", resources))
        resources.callback(db.close)
        assert isinstance(db, PostgresDatabase)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="read-only transaction"):
            db.conn.execute("CREATE TABLE x (i int)")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="read-only transaction"):
            db.conn.execute("INSERT INTO t VALUES (2)")
        with psycopg.connect(pg_database, autocommit=True) as conn:
            assert conn.execute("SELECT array_agg(i) FROM t").fetchone() == ([1],)

    def test_a_sqlite_source_opened_by_the_harness_rejects_writes(
        self, tmp_path: Path, write_plan: Callable[..., Path], resources: ExitStack
    ) -> None:
        app_db = build_app_db(tmp_path / "app.db")
        before = sha256(app_db)
        plan = load_plan(
            write_plan(
                {
                    "name": "ro",
                    "source": {"kind": "sqlite", "path": "app.db"},
                    "target": {"kind": "sqlite", "path": "app.db"},
                }
            )
        ).plan
        db = open_database(resolve(plan.source, "source", resources))
        resources.callback(db.close)
        assert isinstance(db, SqliteDatabase)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.conn.execute("CREATE TABLE x (i INTEGER)")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.conn.execute("DELETE FROM users")
        assert sha256(app_db) == before


class TestContainer:
    def test_without_a_docker_engine_verify_exits_2_saying_docker_is_needed(
        self, container_run: Run
    ) -> None:
        assert container_run.code == 2, container_run.output
        assert "Traceback" not in container_run.output
        lines = [line for line in container_run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, container_run.stderr
        assert lines[0].endswith(
            "target: container endpoints need a running Docker engine and none answers "
            "(use kind: embedded instead, or start Docker)"
        )
        # The stopped run's folder says so, never GO (tests/test_report_on_abort.py).
        results = json.loads(container_run.results_path.read_bytes())
        assert results["verdict"] == "NO-GO"
        assert "need a running Docker engine" in results["verdict_reason"]


# --- demo -----------------------------------------------------------------------------------


@pytest.mark.slow
class TestDemo:
    """The session's two real demo runs (conftest's ``demo_reports``: the exit codes are
    checked there, 0 and 1), read here for what a new user sees."""

    def test_migrates_a_sqlite_app_and_ends_go(self, demo_reports: DemoReports) -> None:
        assert "cutover verdict: GO" in demo_reports.go_stdout
        out = Path(demo_reports.go)
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
        assert results["verdict"] == "GO"
        assert (out / "report.html").is_file()

    def test_with_drift_ends_no_go_naming_each_drift(self, demo_reports: DemoReports) -> None:
        assert "cutover verdict: NO-GO" in demo_reports.nogo_stdout
        out = Path(demo_reports.nogo)
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
        assert results["verdict"] == "NO-GO"
        failed = [c for c in results["checks"] if c["status"] in ("fail", "error")]
        assert {c["id"] for c in failed} == {
            "schema[people]",
            "schema[accounts]",
            "row_count[events]",
            "rows[accounts]",
            "rows[events]",
            # The application's queries: the lost events change a monthly total, the dropped
            # column breaks the profile query (which therefore cannot be timed either). The
            # dropped index costs too little over the demo's events to break a budget.
            "queries[monthly_event_totals]",
            "queries[person_profile]",
            "latency[person_profile-p95]",
            "latency[person_profile-ratio]",
        }
        assert {f["object"] for c in failed for f in c["findings"] if f["severity"] == "error"} == {
            "people.nickname",
            "accounts.balance",
            "accounts.credit_limit",
            "events",
            "monthly_event_totals",
            "person_profile",
        }


# --- keygen, sign, check-signature ------------------------------------------------------


class TestSignOff:
    """The sign-off commands as a reviewer runs them, on a real run's folder."""

    def test_a_signed_run_verifies_and_any_changed_byte_is_named(
        self, go_run: Run, tmp_path: Path
    ) -> None:
        folder = tmp_path / "run"
        folder.mkdir()
        for name in ("results.json", "report.html"):
            (folder / name).write_bytes((Path(go_run.report_dir) / name).read_bytes())
        keys = tmp_path / "keys"

        assert run_cutover("keygen", "--out", str(keys), cwd=tmp_path).returncode == 0
        private, public = keys / "cutover-signoff.key", keys / "cutover-signoff.pub"
        signed = run_cutover(
            "sign",
            str(folder / "results.json"),
            "--key",
            str(private),
            "--reviewer",
            "Ana Reviewer <ana@example.com>",
            "--decision",
            "approve",
            cwd=tmp_path,
        )
        assert signed.returncode == 0, signed.stderr
        (bundle,) = folder.glob("*.dsse.json")
        check = ("check-signature", str(bundle), "--public-key", str(public))
        assert run_cutover(*check, cwd=tmp_path).returncode == 0

        report = folder / "report.html"
        report.write_bytes(report.read_bytes().replace(b"GO", b"G0", 1))
        tampered = run_cutover(*check, cwd=tmp_path)
        assert tampered.returncode == 1
        assert "report.html changed since it was signed" in tampered.stdout + tampered.stderr
        assert "Traceback" not in tampered.stderr
