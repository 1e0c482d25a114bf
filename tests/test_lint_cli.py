"""Specification of ``cutover lint``: exit codes, output formats, --fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.lint.command import lint
from harness.lint.pack import RULES

DATA = Path(__file__).parent / "data" / "lint"
CLEAN = DATA / "migrations" / "V001__create_accounts.sql"
DIRTY = DATA / "migrations" / "V002__add_status.sql"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(lint, [*args, "-j", "1"], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


class TestExitCodes:
    def test_clean_input_exits_0(self) -> None:
        code, out, _ = run(str(CLEAN))
        assert code == 0
        assert out.startswith("ok: 1 file(s)")

    def test_findings_exit_1_in_file_line_col_rule_message_arrow_fix_form(self) -> None:
        code, out, _ = run(str(DIRTY))
        assert code == 1
        first = out.splitlines()[0]
        assert first.startswith(f"{DIRTY}:2:22 DSQL080 error: ADD COLUMN status")
        assert " → ADD COLUMN c type" in first

    def test_fail_on_warning_counts_warnings(self, tmp_path: Path) -> None:
        sql = tmp_path / "w.sql"
        sql.write_text("CREATE TABLE t (id BIGINT PRIMARY KEY, amount NUMERIC);\n")
        assert run(str(sql))[0] == 0
        assert run(str(sql), "--fail-on", "warning")[0] == 1

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ((), "give at least one"),
            (("missing.sql",), "missing.sql: no such file or folder"),
            ((str(CLEAN), "--format", "xml"), "Invalid value for '--format'"),
            ((str(CLEAN), "--target", "aurora"), "Invalid value for '--target'"),
            ((str(DATA / "README.md"),), "no such file"),
        ],
    )
    def test_usage_errors_exit_2_with_one_line(self, args: tuple[str, ...], message: str) -> None:
        code, out, err = run(*args)
        assert code == 2
        assert out == ""
        assert err.startswith("cutover: error: ")
        assert message in err
        assert err.count("\n") == 1
        assert "Traceback" not in err


class TestFormats:
    def test_json_has_a_schema_version_and_every_finding(self) -> None:
        code, out, _ = run(str(DATA / "migrations"), "--format", "json")
        doc = json.loads(out)
        assert code == 1
        assert doc["schema_version"] == 1
        assert doc["rule_pack"].startswith("dsql-")
        rules = [f["rule"] for file in doc["files"] for f in file["findings"]]
        assert rules == ["DSQL080", "DSQL050", "DSQL091", "DSQL120", "DSQL105"]
        suppressed = [f for file in doc["files"] for f in file["findings"] if f["suppressed_by"]]
        assert suppressed[0]["suppressed_by"]["kind"] == "inline"
        assert doc["summary"]["suppressed"] == 1

    def test_sarif_is_2_1_0_with_rules_fingerprints_and_suppressions(self) -> None:
        _, out, _ = run(str(DATA / "migrations"), "--format", "sarif")
        log = json.loads(out)
        assert log["version"] == "2.1.0"
        (sarif_run,) = log["runs"]
        rules = sarif_run["tool"]["driver"]["rules"]
        assert [r["id"] for r in rules] == sorted(r.id for r in RULES)
        for result in sarif_run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["partialFingerprints"]["cutoverFinding/v2"]
        (suppressed,) = [r for r in sarif_run["results"] if "suppressions" in r]
        assert suppressed["suppressions"][0]["kind"] == "inSource"
        assert sarif_run["invocations"][0]["toolExecutionNotifications"] == []

    def test_sarif_lists_unanalysed_statements_as_notifications(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.sql"
        bad.write_text("SELECT 1;\nCREATE FROBNICATOR x;\n")
        log = json.loads(run(str(bad), "--format", "sarif")[1])
        (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert note["locations"][0]["physicalLocation"]["region"]["startLine"] == 2

    def test_github_annotations_escape_and_mark_suppressed_as_notice(self) -> None:
        _, out, _ = run(str(DATA / "migrations"), "--format", "github")
        lines = out.splitlines()
        assert lines[0].startswith(f"::error file={DIRTY},line=2,col=22,title=DSQL080 add-column")
        assert any(line.startswith("::warning ") for line in lines)
        assert any(line.startswith("::notice ") and "DSQL105" in line for line in lines)

    def test_output_goes_to_a_file_when_asked(self, tmp_path: Path) -> None:
        target = tmp_path / "lint.sarif"
        code, out, _ = run(str(CLEAN), "--format", "sarif", "-o", str(target))
        assert code == 0
        assert out == ""
        assert json.loads(target.read_text())["version"] == "2.1.0"


class TestFix:
    def test_fix_writes_a_copy_marks_behaviour_changes_and_leaves_the_rest(
        self, tmp_path: Path
    ) -> None:
        source = tmp_path / "V9__fixme.sql"
        source.write_text(
            'CREATE TABLE t (id SERIAL PRIMARY KEY, name TEXT COLLATE "C");\n'
            "CREATE INDEX t_name ON t (name);\n"
            "CREATE SEQUENCE s AS BIGINT;\n"
            "TRUNCATE t;\n"
        )
        code, _, err = run(str(source), "--fix")
        fixed = (tmp_path / "V9__fixme.dsql.sql").read_text()
        assert code == 1  # TRUNCATE has no rewrite
        assert (
            "id BIGINT GENERATED BY DEFAULT AS IDENTITY (CACHE 1) PRIMARY KEY, name TEXT)" in fixed
        )
        assert "CREATE INDEX ASYNC t_name ON t (name)" in fixed
        assert "CREATE SEQUENCE s AS BIGINT CACHE 1" in fixed
        assert "-- cutover --fix: DSQL050 index-async changes behaviour" in fixed
        assert "-- cutover --fix: DSQL020" in fixed
        assert "DSQL024" not in fixed.split("CREATE SEQ")[0][-80:]
        assert "TRUNCATE t;" in fixed
        assert "review DSQL020, DSQL050" in err
        assert source.read_text().startswith("CREATE TABLE t (id SERIAL")  # input untouched

    def test_a_fully_fixable_file_exits_0(self, tmp_path: Path) -> None:
        source = tmp_path / "idx.sql"
        shutil.copy(DIRTY, source)
        source.write_text(
            "CREATE INDEX i ON t (a);\nCREATE UNLOGGED TABLE u (id BIGINT PRIMARY KEY);\n"
        )
        assert run(str(source), "--fix")[0] == 0
        assert "CREATE TABLE u" in (tmp_path / "idx.dsql.sql").read_text()
        assert run(str(tmp_path / "idx.dsql.sql"))[0] == 0


class TestPipes:
    """SQL piped in, as ``pg_dump --schema-only | cutover lint -`` or ``cutover lint <(…)``:
    a pipe reads once, so the lint reads it once, and it is never mistaken for a folder."""

    SQL = "CREATE TABLE t (id serial PRIMARY KEY);\n"

    def run(self, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "harness.cli", "lint", "-j", "1", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    @pytest.mark.parametrize("name", ["-", "/dev/stdin"])
    def test_standard_input_is_linted_as_sql(self, name: str) -> None:
        run = self.run(name, stdin=self.SQL)
        assert run.returncode == 1, run.stderr
        assert run.stdout.startswith(f"{name}:1:17 DSQL020 error"), run.stdout
        assert "Traceback" not in run.stderr

    def test_a_named_pipe_is_read_once(self, tmp_path: Path) -> None:
        fifo = tmp_path / "schema.pipe"
        os.mkfifo(fifo)
        writer = threading.Thread(target=fifo.write_text, args=(self.SQL,))
        writer.start()
        run = self.run(str(fifo), stdin="")
        writer.join(timeout=30)
        assert run.returncode == 1, run.stderr
        assert "DSQL020" in run.stdout

    def test_binary_on_standard_input_is_one_line(self) -> None:
        run = self.run("-", stdin="SELECT 1;\x00\x01")
        assert run.returncode == 2
        assert run.stderr.strip().splitlines() == [
            "cutover: error: -: not a text file (a NUL byte at offset 9); give SQL files,"
            " migration folders or application code"
        ]

    def test_fix_refuses_a_pipe(self) -> None:
        run = self.run("--fix", "-", stdin=self.SQL)
        assert run.returncode == 2
        assert "a pipe has no folder" in run.stderr
