"""Specification of how `cutover verify` refuses bad input: exit code 2 and one line that says
what to fix — never a traceback, never a secret.

Plan-file mistakes are caught by the CLI before pytest starts; those cases run through click's
CliRunner (the same code path, in-process, with pytest's entry point disabled so a regression
cannot start a nested session). Endpoint and table mistakes are caught by the plugin's
controller-side preflight inside pytest.main; those cases run the real command in a
subprocess, so the exit code and stderr are exactly what a user sees.
"""

from __future__ import annotations

import secrets
import socket
import sqlite3
import subprocess
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import harness.verify
from harness.cli import main
from harness.embedded.provision import PostgresCluster
from tests.conftest import run_cutover

WritePlan = Callable[..., Path]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in-process; an uncaught exception shows up as a traceback in stderr."""
    result = CliRunner().invoke(main, list(args))
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, stderr)


def usage_error(result: subprocess.CompletedProcess[str]) -> str:
    """Assert the run is a clean usage error and return its one line of reason."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    err = [line for line in result.stderr.splitlines() if line.strip()]
    out = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(err) == 1, f"stderr is not one line:\n{result.stderr}"
    assert len(err) + len(out) <= 2, output
    assert err[0].startswith("cutover: error: "), err[0]  # one style, whichever stage found it
    return err[0]


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    """A small, valid SQLite application database in tmp_path."""
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);
            INSERT INTO users (name, email) VALUES ('ana', 'ana@example.com'), ('bo', NULL);
            CREATE TABLE orders (id INTEGER PRIMARY KEY,
                                 user_id INTEGER NOT NULL REFERENCES users (id), total REAL);
            INSERT INTO orders (user_id, total) VALUES (1, 9.5);
        """)
    conn.close()
    return path


@pytest.fixture
def verify(
    tmp_path: Path, write_plan: WritePlan, app_db: Path
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Write a plan (dict or YAML text) and run `cutover verify` on it."""

    def _verify(plan: dict[str, Any] | str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        path = write_plan(plan)
        return run_cutover(
            "verify",
            "--plan",
            str(path),
            "--report-dir",
            str(tmp_path / "out"),
            cwd=tmp_path,
            **kwargs,
        )

    return _verify


def sqlite_plan(**extra: Any) -> dict[str, Any]:
    """A plan comparing app.db with itself, plus ``extra`` top-level keys. Its SQLite target
    would be refused once both sides answer (test_usage_errors.py); every mistake tested here
    is found before that."""
    return {
        "name": "bad input",
        "source": {"kind": "sqlite", "path": "app.db"},
        "target": {"kind": "sqlite", "path": "app.db"},
        **extra,
    }


def postgres_source(**endpoint: Any) -> dict[str, Any]:
    return {
        "name": "bad input",
        "source": {"kind": "postgres", **endpoint},
        "target": {"kind": "sqlite", "path": "app.db"},
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def check_plan(
    write_plan: WritePlan, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Write a plan and run `cutover verify` on it in-process; pytest must never start."""

    def never_run(*args: object, **kwargs: object) -> int:
        raise AssertionError("the CLI accepted a bad plan and started the scenarios")

    monkeypatch.setattr(harness.verify, "run_scenarios", never_run)

    def _check(plan: dict[str, Any] | str) -> subprocess.CompletedProcess[str]:
        return cli("verify", "--plan", str(write_plan(plan)))

    return _check


SQLITE_SIDES = "source: {kind: sqlite, path: app.db}\ntarget: {kind: sqlite, path: app.db}\n"


class TestBadPlanFile:
    @pytest.mark.usefixtures("check_plan")
    def test_a_missing_plan_file_is_named_with_how_to_create_one(self, tmp_path: Path) -> None:
        line = usage_error(cli("verify", "--plan", str(tmp_path / "absent.yaml")))
        assert f"{tmp_path / 'absent.yaml'}: plan file not found" in line
        assert "cutover init" in line

    def test_malformed_yaml_names_the_file_and_line(
        self, check_plan: Callable[..., Any], tmp_path: Path
    ) -> None:
        line = usage_error(check_plan("name: x\nsource: {kind: sqlite, path: app.db\ntarget: 3\n"))
        assert f"{tmp_path / 'plan.yaml'}:3: not valid YAML" in line

    def test_an_unknown_top_level_key_suggests_the_right_one(
        self, check_plan: Callable[..., Any], tmp_path: Path
    ) -> None:
        line = usage_error(check_plan(f"name: x\n{SQLITE_SIDES}tabels: {{include: ['*']}}\n"))
        assert f"{tmp_path / 'plan.yaml'}:4: tabels: unknown key 'tabels'" in line
        assert 'Did you mean "tables"?' in line
        assert "Allowed keys: " in line
        assert "rows, source, tables, target." in line

    def test_an_unknown_key_inside_source_names_its_path_and_the_allowed_keys(
        self, check_plan: Callable[..., Any]
    ) -> None:
        line = usage_error(
            check_plan(
                "name: x\nsource:\n  kind: sqlite\n  paht: app.db\n"
                "target: {kind: sqlite, path: app.db}\n"
            )
        )
        assert "plan.yaml:4: source.paht: unknown key 'paht'" in line
        assert 'Did you mean "path"?' in line
        assert "Allowed keys: kind, path" in line

    def test_an_unknown_endpoint_kind_suggests_sqlite(self, check_plan: Callable[..., Any]) -> None:
        line = usage_error(
            check_plan(
                "name: x\nsource: {kind: sqlte, path: app.db}\n"
                "target: {kind: sqlite, path: app.db}\n"
            )
        )
        assert "plan.yaml:2: source.kind: unknown endpoint kind 'sqlte'" in line
        assert 'Did you mean "sqlite"?' in line
        assert "Allowed: sqlite, postgres, embedded, container" in line

    def test_a_value_outside_a_literal_names_the_allowed_policies(
        self, check_plan: Callable[..., Any]
    ) -> None:
        line = usage_error(check_plan(f"name: x\n{SQLITE_SIDES}renames: {{policy: snakecase}}\n"))
        assert "plan.yaml:4: renames.policy: 'snakecase' is not allowed" in line
        assert 'Did you mean "snake_case"?' in line
        assert "Allowed: 'none', 'snake_case' or 'lower'" in line

    def test_a_postgres_endpoint_without_dsn_or_dsn_env_asks_for_one(
        self, check_plan: Callable[..., Any]
    ) -> None:
        line = usage_error(check_plan(postgres_source()))
        assert "source: give exactly one of 'dsn' or 'dsn_env'" in line


class TestBadEndpoint:
    @pytest.mark.parametrize(
        "dsn",
        [
            pytest.param("host=localhost port=notaport password=hunter2 dbname", id="bare-key"),
            pytest.param("not a dsn ===", id="not-key-value"),
        ],
    )
    def test_a_dsn_that_does_not_parse_shows_the_expected_forms_and_no_password(
        self, verify: Callable[..., Any], dsn: str
    ) -> None:
        result = verify(postgres_source(dsn=dsn))
        line = usage_error(result)
        assert "source.dsn is not a valid PostgreSQL DSN" in line
        assert "expected postgresql://USER@HOST:PORT/DBNAME or 'host=… dbname=… user=…'" in line
        assert "hunter2" not in result.stdout + result.stderr

    def test_an_unescaped_at_sign_in_the_password_says_to_percent_encode_it(
        self, verify: Callable[..., Any]
    ) -> None:
        result = verify(postgres_source(dsn="postgresql://app:hunter@2@127.0.0.1:1/shop"))
        line = usage_error(result)
        assert "source.dsn: the password in postgresql://app:***@127.0.0.1:1/shop" in line
        assert "percent-encode it as %40" in line
        assert "hunter" not in result.stdout + result.stderr

    def test_dsn_env_naming_an_unset_variable_names_the_variable(
        self, verify: Callable[..., Any]
    ) -> None:
        result = verify(
            postgres_source(dsn_env="CUTOVER_TEST_NO_SUCH_DSN"), unset=("CUTOVER_TEST_NO_SUCH_DSN",)
        )
        line = usage_error(result)
        assert "environment variable CUTOVER_TEST_NO_SUCH_DSN" in line
        assert "source.dsn_env" in line
        assert "is not set" in line

    def test_an_unreachable_server_says_nothing_listens_at_that_address(
        self, verify: Callable[..., Any]
    ) -> None:
        port = free_port()
        line = usage_error(
            verify(postgres_source(dsn=f"host=127.0.0.1 port={port} dbname=postgres user=postgres"))
        )
        assert "source: cannot connect" in line
        assert "nothing listens there" in line
        assert f"127.0.0.1:{port}" in line

    def test_a_wrong_password_says_so_and_shows_no_password(
        self, verify: Callable[..., Any], pg_password_cluster: tuple[PostgresCluster, str]
    ) -> None:
        cluster, password = pg_password_cluster
        wrong = secrets.token_urlsafe(12)
        result = verify(postgres_source(dsn=cluster.conninfo("postgres", password=wrong)))
        line = usage_error(result)
        assert "wrong user name or password" in line
        assert f"127.0.0.1:{cluster.port}" in line
        for secret in (password, wrong):
            assert secret not in result.stdout + result.stderr

    def test_a_missing_sqlite_file_names_the_path_and_the_plan_key(
        self, verify: Callable[..., Any], tmp_path: Path
    ) -> None:
        plan = sqlite_plan()
        plan["source"] = {"kind": "sqlite", "path": "nothere.db"}
        line = usage_error(verify(plan))
        assert f"SQLite file {tmp_path / 'nothere.db'} not found" in line
        assert "source.path" in line

    def test_a_file_that_is_not_a_sqlite_database_says_so(
        self, verify: Callable[..., Any], tmp_path: Path
    ) -> None:
        (tmp_path / "notes.db").write_text("these are meeting notes, not a database\n" * 20)
        plan = sqlite_plan()
        plan["target"] = {"kind": "sqlite", "path": "notes.db"}
        line = usage_error(verify(plan))
        assert f"target: cannot open {tmp_path / 'notes.db'} as a SQLite database" in line
        assert "file is not a database" in line


class TestTablesThePlanNames:
    @pytest.mark.parametrize(
        ("section", "key"),
        [
            pytest.param(
                {"tables": {"keys": {"user": ["id"]}}}, "tables.keys.user", id="tables.keys"
            ),
            pytest.param(
                {"renames": {"tables": {"user": "members"}}},
                "renames.tables.user",
                id="renames.tables",
            ),
            pytest.param(
                {
                    "expected_differences": [
                        {"table": "user", "reason": "legacy", "reviewer": "Ana"}
                    ]
                },
                "expected_differences.0.table",
                id="expected_differences",
            ),
        ],
    )
    def test_a_table_on_neither_side_is_named_with_a_suggestion(
        self, verify: Callable[..., Any], section: dict[str, Any], key: str
    ) -> None:
        line = usage_error(verify(sqlite_plan(**section)))
        assert f".yaml: {key}: " in line  # the plan file, then the key path
        assert "table 'user' is in neither the source nor the target" in line
        assert 'Did you mean "users"?' in line

    def test_a_key_column_that_does_not_exist_is_named_with_a_suggestion(
        self, verify: Callable[..., Any]
    ) -> None:
        line = usage_error(verify(sqlite_plan(tables={"keys": {"users": ["nmae"]}})))
        assert "tables.keys.users" in line
        assert "table 'users' has no column 'nmae'" in line
        assert 'Did you mean "name"?' in line

    def test_a_key_that_lists_no_column_is_refused(self, verify: Callable[..., Any]) -> None:
        # It silently meant "the primary key" before.
        line = usage_error(verify(sqlite_plan(tables={"keys": {"users": []}})))
        assert "tables.keys: 'users' lists no key column; name at least one" in line


class TestEmbeddedLoad:
    def test_a_load_script_syntax_error_names_the_file_and_line(
        self, verify: Callable[..., Any], tmp_path: Path
    ) -> None:
        script = tmp_path / "schema.sql"
        script.write_text(
            "CREATE TABLE t (i int);\nINSERT INTO t VALUES (1);\nCREAT TABLE u (i int);\n"
        )
        plan = sqlite_plan()
        plan["target"] = {"kind": "embedded", "load": [{"sql": "schema.sql"}]}
        # Unset, as in CI containers: importing the pgserver wheel must not warn on stderr.
        line = usage_error(verify(plan, unset=("XDG_RUNTIME_DIR",)))
        assert "target: loading the target failed" in line
        assert f"{script}:3:" in line
        assert 'syntax error at or near "CREAT"' in line


class TestBadOptions:
    def test_a_report_dir_below_a_file_is_a_usage_error(
        self, app_db: Path, tmp_path: Path, write_plan: WritePlan
    ) -> None:
        (tmp_path / "taken").write_text("a file, not a folder\n")
        result = run_cutover(
            "verify",
            "--plan",
            str(write_plan(sqlite_plan())),
            "--report-dir",
            str(tmp_path / "taken" / "out"),
            cwd=tmp_path,
        )
        assert "taken" in usage_error(result)

    def test_a_worker_count_that_is_not_a_number_is_one_line(
        self, app_db: Path, tmp_path: Path, write_plan: WritePlan
    ) -> None:
        result = run_cutover(
            "verify",
            "--plan",
            str(write_plan(sqlite_plan())),
            "-n",
            "many",
            "--report-dir",
            str(tmp_path / "out"),
            cwd=tmp_path,
        )
        assert "many" in usage_error(result)
