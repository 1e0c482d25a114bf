"""The conventions a team's tools expect of cutover: editors, pre-commit, pytest, CI.

- `cutover init` points the YAML language server at the plan's JSON Schema, written beside it;
- `.pre-commit-hooks.yaml` offers `cutover-lint` and `cutover-residue`, naming real commands
  and options;
- `cutover verify` takes pytest's options after `--` and says so;
- a bare `cutover` prints its help;
- a plan that does not load still leaves a report folder for CI to upload.
"""

from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.plan.schema import plan_schema_text
from harness.plan.template import PLAN_TEMPLATE, SCHEMA_NAME
from harness.results.files import JUNIT_NAME, RESULTS_NAME, SUMMARY_NAME, load_results
from tests.conftest import run_cutover

REPO = Path(__file__).resolve().parents[1]
HOOKS = REPO / ".pre-commit-hooks.yaml"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(?P<schema>\S+)$")


def cli(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


class TestInitForEditors:
    def test_the_first_line_is_the_yaml_language_server_modeline(self) -> None:
        match = MODELINE.match(PLAN_TEMPLATE.splitlines()[0])
        assert match is not None
        assert match["schema"] == SCHEMA_NAME

    def test_the_schema_it_names_is_written_beside_the_plan(self, tmp_path: Path) -> None:
        plan = tmp_path / "db" / "cutover.yaml"
        plan.parent.mkdir()
        result = cli("init", plan)
        assert result.exit_code == 0, result.output
        schema = plan.parent / SCHEMA_NAME
        assert f"wrote {schema}" in result.stdout
        assert schema.read_text(encoding="utf-8") == plan_schema_text()
        named = MODELINE.match(plan.read_text(encoding="utf-8").splitlines()[0])
        assert named is not None
        assert (plan.parent / named["schema"]).resolve() == schema.resolve()

    def test_the_plan_it_writes_is_valid_against_that_schema(self, tmp_path: Path) -> None:
        import jsonschema

        assert cli("init", tmp_path / "cutover.yaml").exit_code == 0
        schema = json.loads((tmp_path / SCHEMA_NAME).read_text(encoding="utf-8"))
        plan = yaml.safe_load((tmp_path / "cutover.yaml").read_text(encoding="utf-8"))
        jsonschema.validate(plan, schema)


def _hooks() -> list[dict[str, Any]]:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    return hooks


class TestPreCommitHooks:
    def test_the_file_offers_lint_and_residue(self) -> None:
        assert [h["id"] for h in _hooks()] == ["cutover-lint", "cutover-residue"]

    @pytest.mark.parametrize("hook", _hooks(), ids=lambda h: h["id"])
    def test_each_hook_has_what_pre_commit_requires(self, hook: dict[str, Any]) -> None:
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python"  # pre-commit installs this repository's package
        re.compile(hook["files"])

    @pytest.mark.parametrize("hook", _hooks(), ids=lambda h: h["id"])
    def test_each_hook_names_a_real_command_and_real_options(self, hook: dict[str, Any]) -> None:
        program, subcommand, *rest = hook["entry"].split()
        assert program == "cutover"
        assert hook["id"] == f"cutover-{subcommand}"
        with click.Context(main) as ctx:
            command = main.get_command(ctx, subcommand)
        assert command is not None, f"{hook['entry']}: no such command"
        options = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        used = [a for a in [*rest, *hook.get("args", [])] if a.startswith("-")]
        assert used, "each hook passes at least one option"
        assert set(used) <= options, f"{hook['id']}: unknown {set(used) - options}"

    def test_the_lint_hook_runs_on_a_migration_as_pre_commit_would(self, tmp_path: Path) -> None:
        (hook,) = [h for h in _hooks() if h["id"] == "cutover-lint"]
        good = tmp_path / "V1__ok.sql"
        good.write_text("CREATE TABLE t (id uuid PRIMARY KEY);\n", encoding="utf-8")
        bad = tmp_path / "V2__serial.sql"
        bad.write_text("CREATE TABLE u (id SERIAL PRIMARY KEY);\n", encoding="utf-8")
        assert re.search(hook["files"], good.name)
        assert re.search(hook["files"], bad.name)
        args = [*hook["entry"].split()[1:], *hook["args"]]
        assert cli(*args, good).exit_code == 0
        assert cli(*args, good, bad).exit_code == 1  # pre-commit fails the commit


class TestPytestOptions:
    def test_help_says_pytest_options_go_after_the_double_dash(self) -> None:
        text = " ".join(cli("verify", "--help").stdout.split())
        assert "pytest options go after --" in text
        assert "cutover verify --plan cutover.yaml -- -v -k schema" in text

    def test_a_pytest_option_before_the_double_dash_says_where_it_goes(self) -> None:
        done = run_cutover("verify", "--plan", "p.yaml", "-v", cwd=REPO)
        assert done.returncode == 2
        (line,) = done.stderr.strip().splitlines()
        assert line == (
            "cutover: error: No such option '-v'; pytest options go after --: "
            "cutover verify --plan PLAN -- -v"
        )

    @pytest.mark.slow
    def test_options_after_the_double_dash_reach_pytest(self, tmp_path: Path) -> None:
        with sqlite3.connect(tmp_path / "app.db") as conn:
            conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        conn.close()
        plan = {
            "name": "dashes",
            "source": {"kind": "sqlite", "path": "app.db"},
            "target": {"kind": "sqlite", "path": "app.db"},
            "tables": {"include": [], "allow_empty": True},
            "queries": {"corpus": {"users": {"sql": "SELECT count(*) FROM users"}}},
        }
        (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
        done = run_cutover(
            "verify", "--plan", "plan.yaml", "--report-dir", "out", "--", "-v", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        # -v makes pytest print one line per item, with its outcome.
        assert re.search(r"::test_\w+\[users\] PASSED", done.stdout), done.stdout


def test_a_bare_cutover_prints_its_help_and_exits_2() -> None:
    done = run_cutover(cwd=REPO)
    assert done.returncode == 2
    assert done.stderr.startswith("Usage: ")
    assert "Commands:" in done.stderr
    assert "verify" in done.stderr


class TestAPlanThatDoesNotLoad:
    @pytest.mark.parametrize(
        ("text", "said"),
        [
            pytest.param(
                "name: x\nsource: {kind: sqlite, path: app.db}\n"
                "target: {kind: sqlite, path: app.db}\ntabels: {}\n",
                "tabels",
                id="unknown-key",
            ),
            pytest.param(
                "name: x\nsource: {kind: sqlite, path: nosuch.db}\n"
                "target: {kind: embedded, database: 7}\n",
                "database",
                id="bad-field",
            ),
        ],
    )
    def test_exit_2_one_line_and_a_folder_saying_why(
        self, tmp_path: Path, text: str, said: str
    ) -> None:
        (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")
        done = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=tmp_path)
        assert done.returncode == 2
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("cutover: error: ")
        assert said in line
        out = tmp_path / "out"
        results = load_results(out / RESULTS_NAME)  # valid, its verdict follows from its checks
        assert results["verdict"] == "NO-GO"
        (check,) = results["checks"]
        assert (check["id"], check["status"]) == ("run[start]", "error")
        assert said in check["summary"]
        (case,) = ET.parse(out / JUNIT_NAME).getroot().iter("testcase")
        assert case.find("error") is not None
        assert (out / SUMMARY_NAME).read_text(encoding="utf-8").startswith("## cutover: NO-GO\n")

    def test_an_earlier_runs_files_do_not_survive_beside_it(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        out.mkdir()
        (out / "report.html").write_text("<h1>GO</h1>", encoding="utf-8")
        (tmp_path / "plan.yaml").write_text(
            "name: x\nsource: {kind: sqlite, path: a.db}\ntarget: {kind: sqlite, path: a.db}\n"
            "nonsense: 1\n",
            encoding="utf-8",
        )
        done = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=tmp_path)
        assert done.returncode == 2
        assert "<h1>GO</h1>" not in (out / "report.html").read_text(encoding="utf-8")
        assert load_results(out / RESULTS_NAME)["verdict"] == "NO-GO"

    @pytest.mark.parametrize(
        ("text", "sides"),
        [
            pytest.param("name: [unclosed\n", ("unknown", "unknown"), id="not-yaml"),
            pytest.param(
                "name: x\nsource: {kind: oracle}\ntarget: {kind: sqlite}\n",
                ("unknown", "sqlite"),
                id="no-known-kind",
            ),
            pytest.param(
                "name: x\ntarget: {kind: postgress}\n", ("none", "unknown"), id="no-source"
            ),
        ],
    )
    def test_a_plan_whose_kinds_are_unreadable_records_them_as_unknown_never_made_up(
        self, tmp_path: Path, text: str, sides: tuple[str, str]
    ) -> None:
        (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")
        done = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=tmp_path)
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1
        results = load_results(tmp_path / "out" / RESULTS_NAME)
        assert results["verdict"] == "NO-GO"
        env = results["environment"]
        assert (env["source"]["kind"], env["target"]["kind"]) == sides
