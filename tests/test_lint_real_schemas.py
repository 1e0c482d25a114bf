"""Issue 21's done-when on real schema files: every statement of a PostgreSQL 16 ``pg_dump`` of
a schema that uses what real applications use (temporal ranges, NO INHERIT checks, views with
options and CHECK OPTION, recursive views, storage settings, typed composite columns,
policies, publications …) and of the Chinook sample database's PostgreSQL script ends
analysed — none with only "could not parse" — and a table sqlglot cannot read whole keeps
the findings of its columns.

The dump is made by the embedded server's own pg_dump from a database built here; Chinook is
read from ``../shared/fixtures`` and its test skips when that folder is absent.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from harness.embedded.provision import postgres_bin
from harness.lint import lint_paths
from harness.lint.report import FileReport, Verdict
from tests.conftest import run_sql

CHINOOK = (
    Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "chinook"
    / "Chinook_PostgreSql.sql"
)  # fmt: skip

SCHEMA = Path(__file__).parent / "data" / "lint" / "rich_app" / "schema.sql"
"""What the application database holds (written for PostgreSQL 16, dumped by its pg_dump)."""


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    cluster = request.getfixturevalue("pg_cluster")
    dsn = cluster.create_database("rich_app")
    run_sql(dsn, SCHEMA.read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("dump") / "rich_app.sql"
    done = subprocess.run(
        [str(postgres_bin("pg_dump")), "--dbname", dsn, "--file", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def report(dump: Path) -> FileReport:
    (file,) = lint_paths([dump]).files
    return file


def unanalysed(report: FileReport) -> list[str]:
    lines = {s.line for s in report.statements if s.verdict is Verdict.UNANALYSED}
    return [f"{f.line}: {f.message}" for f in report.findings if f.line in lines]


def test_every_statement_of_the_dump_is_analysed(report: FileReport) -> None:
    assert unanalysed(report) == []
    assert len(report.statements) > 150


def test_a_table_with_a_no_inherit_check_keeps_its_columns_findings(
    report: FileReport, dump: Path
) -> None:
    text = dump.read_text(encoding="utf-8")
    assert "NO INHERIT" in text  # what used to make the whole CREATE TABLE unreadable
    (users,) = [s for s in report.statements if s.kind == "CREATE TABLE" and "users (" in
                text.splitlines()[s.line - 1]]  # fmt: skip
    messages = " ".join(f.message for f in report.findings if f.line > users.line
                        and f.line < users.line + 25)  # fmt: skip
    for column in ("tags", "mood", "p", "during", "loc", "ip", "doc"):
        assert f"column {column}:" in messages


@pytest.mark.parametrize(
    ("rule", "what"),
    [
        ("DSQL041", "the text[] column"),
        ("DSQL042", "inet, point, tstzrange and tsvector columns"),
        ("DSQL044", "the enum, composite and range types"),
        ("DSQL063", "the PL/pgSQL trigger function (and its ALTER … OWNER, COMMENT ON)"),
        ("DSQL075", "the aggregate, operator, cast and collation"),
        ("DSQL006", "the inheriting table"),
        ("DSQL062", "the materialized view"),
        ("DSQL069", "row-level security and its policy"),
        ("DSQL114", "the dump's session header"),
    ],
)
def test_what_dsql_rejects_is_flagged(report: FileReport, rule: str, what: str) -> None:
    fired = Counter(f.rule_id for f in report.findings)
    assert fired[rule] >= 1, f"{rule} ({what}) did not fire; fired: {sorted(fired)}"


def test_a_rejected_functions_consequences_are_reported_with_it(report: FileReport) -> None:
    consequences = [f for f in report.findings if "will not exist on DSQL" in f.message]
    assert {f.rule_id for f in consequences} == {"DSQL063"}
    assert any("trg" in f.message for f in consequences)


@pytest.mark.skipif(not CHINOOK.is_file(), reason="../shared/fixtures/chinook is not here")
def test_the_chinook_postgresql_script_is_analysed_whole() -> None:
    (file,) = lint_paths([CHINOOK]).files
    assert unanalysed(file) == []
    fired = Counter(f.rule_id for f in file.findings)
    assert fired["DSQL050"] == 11  # its indexes, created without ASYNC
    assert fired["DSQL029"] == 11  # its foreign keys, added without NOT VALID
