"""Specification of "a GO must be earned": a run that compared nothing, or a plan naming
something that is not there, is never a silent pass.

- A selection that leaves no table to compare, or a source with no tables at all, is a
  usage error naming ``tables`` (exit 2), unless the plan says so with
  ``tables: {allow_empty: true}``.
- A capability section that finds no subject (a ``posture:`` section whose templates hold
  nothing it checks) is an error check naming the section, so the verdict is NO-GO.
- A column the plan names (``rows.columns``, an expected difference's ``column``) must exist,
  and a rename must name a target table that exists, so check ids stay unique.

The end-to-end cases run `cutover verify` in a subprocess on SQLite files, as a user does.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.db.catalog import Catalog, Column, Table
from harness.errors import PlanError
from harness.plan.model import Plan
from harness.plan.scope import build_scope
from tests.conftest import run_cutover

pytest_plugins = ["pytester"]

APP = """
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO t VALUES (1, 'ana'), (2, 'bo');
"""

ONLY_A_BUCKET = {"Resources": {"Logs": {"Type": "AWS::S3::Bucket"}}}
"""A template holding nothing posture checks (a standalone RDS instance is a subject now)."""


def app_db(folder: Path, name: str = "a.db") -> Path:
    path = folder / name
    with sqlite3.connect(path) as conn:
        conn.executescript(APP)
    conn.close()
    return path


def plan(folder: Path, **sections: Any) -> dict[str, Any]:
    """A plan comparing ``a.db`` with itself, plus ``sections``."""
    if not (folder / "a.db").exists():
        app_db(folder)
    return {
        "name": "earned",
        "source": {"kind": "sqlite", "path": "a.db"},
        "target": {"kind": "sqlite", "path": "a.db"},
        **sections,
    }


def verify(folder: Path, content: dict[str, Any], *extra: str) -> subprocess.CompletedProcess[str]:
    (folder / "plan.yaml").write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return run_cutover(
        "verify", "--plan", "plan.yaml", "--report-dir", str(folder / "out"), *extra, cwd=folder
    )


def usage_line(done: subprocess.CompletedProcess[str]) -> str:
    """The run is a usage error (exit 2) with exactly one line of reason; return it."""
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("cutover: error: "), lines[0]
    return lines[0]


def results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "out" / "results.json").read_text("utf-8"))
    return data


# --- nothing compared ---------------------------------------------------------------------


class TestNoTableToCompare:
    def test_an_include_that_matches_no_table_is_a_usage_error_naming_tables(
        self, tmp_path: Path
    ) -> None:
        line = usage_line(verify(tmp_path, plan(tmp_path, tables={"include": ["nosuch*"]})))
        assert "plan.yaml: tables: no table matches include [nosuch*]" in line
        assert "t" in line.rsplit("[nosuch*]", 1)[1]  # the tables there are, to choose from

    def test_an_exclude_of_every_table_is_a_usage_error_naming_tables(self, tmp_path: Path) -> None:
        line = usage_line(verify(tmp_path, plan(tmp_path, tables={"exclude": ["*"]})))
        assert "plan.yaml: tables: " in line
        assert "exclude [*]" in line

    def test_an_empty_source_database_is_a_usage_error_saying_how_to_expect_one(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "empty.db").write_bytes(b"")  # a 0-byte SQLite file: no tables at all
        content = plan(tmp_path)
        content["source"] = {"kind": "sqlite", "path": "empty.db"}
        line = usage_line(verify(tmp_path, content))
        assert "plan.yaml: tables: " in line
        assert "the source has no tables" in line
        assert "tables.allow_empty: true" in line

    def test_a_plan_that_expects_empty_databases_says_so_and_runs(self, tmp_path: Path) -> None:
        for side in ("source", "target"):
            sqlite3.connect(tmp_path / f"{side}.db").close()
        content = {
            "name": "empty on purpose",
            "source": {"kind": "sqlite", "path": "source.db"},
            "target": {"kind": "sqlite", "path": "target.db"},
            "tables": {"allow_empty": True},
        }
        done = verify(tmp_path, content)
        assert done.returncode == 0, done.stdout + done.stderr
        ids = {c["id"]: c["status"] for c in results(tmp_path)["checks"]}
        assert ids == {
            "connectivity[source]": "pass",
            "connectivity[target]": "pass",
            "schema[views]": "pass",
        }

    def test_allow_empty_is_in_the_plan_schema(self) -> None:
        schema = json.loads(
            (Path(__file__).resolve().parents[1] / "schemas" / "plan.schema.json").read_text(
                encoding="utf-8"
            )
        )
        assert "allow_empty" in schema["$defs"]["TableSelection"]["properties"]


class TestASectionThatFindsNothing:
    def test_posture_templates_without_a_subject_are_an_error_check_and_no_go(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "cdk.out").mkdir()
        (tmp_path / "cdk.out" / "App.template.json").write_text(json.dumps(ONLY_A_BUCKET))
        content = plan(
            tmp_path,
            tables={"include": [], "allow_empty": True},
            posture={"mode": "templates", "templates": ["cdk.out"]},
        )
        done = verify(tmp_path, content)
        assert done.returncode == 1, done.stdout + done.stderr
        found = results(tmp_path)
        (check,) = [c for c in found["checks"] if c["area"] == "posture"]
        assert (check["id"], check["status"]) == ("posture[posture]", "error")
        assert check["summary"] == "the plan's posture: section found nothing to check"
        assert found["verdict"] == "NO-GO"
        assert "posture[posture]" in found["verdict_reason"]
        assert "empty parameter set" not in done.stdout

    def test_under_xdist_too(self, tmp_path: Path) -> None:
        (tmp_path / "cdk.out").mkdir()
        (tmp_path / "cdk.out" / "App.template.json").write_text(json.dumps(ONLY_A_BUCKET))
        content = plan(
            tmp_path,
            tables={"include": [], "allow_empty": True},
            posture={"mode": "templates", "templates": ["cdk.out"]},
        )
        done = verify(tmp_path, content, "-n", "2")
        assert done.returncode == 1, done.stdout + done.stderr
        check = next(c for c in results(tmp_path)["checks"] if c["area"] == "posture")
        assert (check["id"], check["status"]) == ("posture[posture]", "error")


TEAM_CONFTEST = """\
from harness.capabilities import Capability, Items


def pytest_cutover_capabilities():
    return [Capability("contracts", items=(Items("contract", lambda run: []),))]
"""

TEAM_TESTS = """\
from harness.results.check import CheckResult, Status


def test_contract(contract, cutover, record):
    record(
        cutover.run_check(
            "contracts", contract, lambda: CheckResult("contracts", contract, Status.PASS, "ok")
        )
    )
"""


def test_a_team_capability_whose_builder_finds_nothing_records_an_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    app_db(pytester.path)
    content = plan(pytester.path, tables={"include": [], "allow_empty": True})
    (pytester.path / "plan.yaml").write_text(yaml.safe_dump(content), encoding="utf-8")
    (pytester.path / "conftest.py").write_text(TEAM_CONFTEST, encoding="utf-8")
    (pytester.path / "test_contracts.py").write_text(TEAM_TESTS, encoding="utf-8")
    done = pytester.runpytest_subprocess(
        "--plan", "plan.yaml", "--report-dir", "out", "-p", "no:cacheprovider"
    )
    found = json.loads((pytester.path / "out" / "results.json").read_text(encoding="utf-8"))
    (check,) = found["checks"]
    assert (check["id"], check["area"], check["status"]) == (
        "contracts[contracts]",
        "contracts",
        "error",
    )
    assert check["summary"] == "the contracts checks found nothing to check"
    assert found["verdict"] == "NO-GO"
    assert done.ret == pytest.ExitCode.TESTS_FAILED


# --- unknown names ------------------------------------------------------------------------


class TestUnknownNames:
    def test_a_rows_column_option_on_a_missing_column_is_named_with_a_suggestion(
        self, tmp_path: Path
    ) -> None:
        content = plan(tmp_path, rows={"columns": {"t.nmae": {"rtrim": True}}})
        line = usage_line(verify(tmp_path, content))
        assert "plan.yaml: rows.columns: t.nmae: table 't' has no column 'nmae'." in line
        assert 'Did you mean "name"?' in line

    def test_a_rows_column_option_on_a_missing_table_is_named(self, tmp_path: Path) -> None:
        content = plan(tmp_path, rows={"columns": {"tt.name": {"rtrim": True}}})
        line = usage_line(verify(tmp_path, content))
        assert "plan.yaml: rows.columns: tt.name: " in line
        assert "'tt'" in line

    def test_a_rows_column_option_must_be_table_dot_column(self, tmp_path: Path) -> None:
        content = plan(tmp_path, rows={"columns": {"name": {"rtrim": True}}})
        line = usage_line(verify(tmp_path, content))
        assert "rows.columns" in line
        assert "TABLE.COLUMN" in line

    def test_an_expected_difference_on_a_missing_column_is_named(self, tmp_path: Path) -> None:
        waiver = {"table": "t", "column": "nmae", "reason": "legacy", "reviewer": "Ana"}
        line = usage_line(verify(tmp_path, plan(tmp_path, expected_differences=[waiver])))
        assert "plan.yaml: expected_differences.0.column: " in line
        assert "'nmae'" in line
        assert 'Did you mean "name"?' in line

    def test_a_rename_to_a_table_the_target_lacks_is_named(self, tmp_path: Path) -> None:
        line = usage_line(verify(tmp_path, plan(tmp_path, renames={"tables": {"t": "ghost_t"}})))
        assert "plan.yaml: renames.tables.t: " in line
        assert "'ghost_t'" in line
        assert "not on the target" in line


def catalog(dialect: str, *tables: tuple[str, tuple[str, ...]]) -> Catalog:
    return Catalog(
        dialect,
        None,
        tuple(
            Table(
                name, tuple(Column(c, "text", "text", True, None, i + 1) for i, c in enumerate(cs))
            )
            for name, cs in tables
        ),
    )


def a_plan(**sections: Any) -> Plan:
    return Plan.model_validate(
        {
            "name": "unit",
            "source": {"kind": "sqlite", "path": "a.db"},
            "target": {"kind": "postgres", "dsn_env": "T"},
            **sections,
        }
    )


class TestPairIdsStayUnique:
    def test_a_rename_to_a_missing_target_table_is_a_plan_error(self) -> None:
        source = catalog("sqlite", ("t", ("id",)))
        target = catalog("postgres", ("t", ("id",)))
        with pytest.raises(PlanError) as caught:
            build_scope(a_plan(renames={"tables": {"t": "ghost_t"}}), source, target)
        assert caught.value.key == "renames.tables.t"
        assert "'ghost_t'" in caught.value.message

    def test_a_policy_name_the_target_lacks_beside_the_unrenamed_table_is_a_plan_error(
        self,
    ) -> None:
        source = catalog("sqlite", ("Invoice", ("id",)))
        target = catalog("postgres", ("Invoice", ("id",)))
        with pytest.raises(PlanError) as caught:
            build_scope(a_plan(renames={"policy": "lower"}), source, target)
        assert caught.value.key == "renames.policy"
        assert "'invoice'" in caught.value.message

    def test_two_source_tables_renamed_to_one_target_table_is_a_plan_error(self) -> None:
        source = catalog("sqlite", ("a", ("id",)), ("b", ("id",)))
        target = catalog("postgres", ("t", ("id",)))
        with pytest.raises(PlanError) as caught:
            build_scope(a_plan(renames={"tables": {"a": "t", "b": "t"}}), source, target)
        assert (caught.value.key or "").startswith("renames.tables")
