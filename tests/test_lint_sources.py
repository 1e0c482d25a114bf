"""Specification of where lint input comes from and where its results go: application code,
live catalogs, plan settings and waivers, harness check results, parallel runs."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.db.catalog import Catalog, Column, Index, Table, View
from harness.db.introspect.sqlite import read_catalog
from harness.lint import (
    FailOn,
    LintSettings,
    LintWaiver,
    lint_catalog,
    lint_paths,
    lint_sql,
    to_check_result,
)
from harness.lint.sources import LintSourceError, fragments_of
from harness.results.check import Status

DATA = Path(__file__).parent / "data" / "lint"


def located(report_path: Path) -> list[tuple[int, str]]:
    (file,) = lint_paths([report_path], jobs=1).files
    return [(f.line, f.rule_id) for f in file.findings if f.suppressed_by is None]


class TestApplicationCode:
    def test_typescript_query_strings_are_linted_at_their_lines(self) -> None:
        assert located(DATA / "app" / "db.ts") == [
            (8, "DSQL092"),  # BEGIN ISOLATION LEVEL SERIALIZABLE
            (14, "DSQL095"),  # read balance, then update it without FOR UPDATE
            (33, "DSQL098"),  # FOR UPDATE SKIP LOCKED inside a template literal
            (38, "DSQL048"),
            (38, "DSQL048"),
        ]

    def test_python_strings_and_fstrings_are_linted_and_host_comments_suppress(self) -> None:
        assert located(DATA / "app" / "repo.py") == [
            (21, "DSQL097"),  # FOR SHARE in a triple-quoted string, reported on its own line
            (8, "DSQL096"),
            (10, "DSQL096"),
        ]
        (file,) = lint_paths([DATA / "app" / "repo.py"], jobs=1).files
        suppressed = [f for f in file.findings if f.suppressed_by is not None]
        assert [f.rule_id for f in suppressed] == ["DSQL100"]

    @pytest.mark.parametrize(
        "text",
        [
            'label = "Select an account"',
            'HELP = "Delete from the list by pressing the button"',
            '"""Update the cache when set."""',
            "msg = 'Begin here'",
        ],
    )
    def test_prose_is_not_mistaken_for_sql(self, text: str) -> None:
        assert fragments_of(text, "python") == []

    def test_template_interpolations_keep_line_numbers(self) -> None:
        ts = "q(`SELECT a\n  FROM ${\n  table\n}\n  WHERE b = 1 FOR SHARE`);\n"
        (fragment,) = fragments_of(ts, "javascript")
        assert fragment.line == 1
        assert fragment.text.count("\n") == ts.split("`")[1].count("\n")


class TestFolders:
    def test_a_migration_folder_is_read_in_order_and_sql_only_when_asked(self) -> None:
        report = lint_paths([DATA], LintSettings(app_code=False), jobs=1)
        names = [Path(f.path).name for f in report.files]
        assert names == sorted(names, key=lambda n: str(next(DATA.rglob(n))))
        assert not any(n.endswith((".py", ".ts")) for n in names)

    def test_a_missing_path_is_a_harness_error(self) -> None:
        with pytest.raises(LintSourceError, match="no such file"):
            lint_paths([DATA / "nope.sql"])

    def test_parallel_and_serial_runs_agree(self, tmp_path: Path) -> None:
        big = (DATA / "pg_dump" / "shop.sql").read_text() * 40  # over the parallel threshold
        (tmp_path / "big.sql").write_text(big)
        for source in (DATA / "migrations").iterdir():
            (tmp_path / source.name).write_text(source.read_text())
        serial = lint_paths([tmp_path], jobs=1)
        parallel = lint_paths([tmp_path], jobs=2)
        assert serial.to_dict()["files"] == parallel.to_dict()["files"]


class TestCatalog:
    def test_a_live_sqlite_schema_is_linted_per_object(self) -> None:
        conn = sqlite3.connect(":memory:")
        conn.executescript(
            "CREATE TABLE artists (id INTEGER PRIMARY KEY AUTOINCREMENT, name NVARCHAR(120));"
            "CREATE TABLE tracks (id INTEGER PRIMARY KEY, artist_id INTEGER REFERENCES "
            "artists (id), price NUMERIC(10,2), played_at DATETIME);"
            "CREATE INDEX tracks_artist ON tracks (artist_id);"
            "CREATE VIEW v AS SELECT name FROM artists;"
        )
        report = lint_catalog(read_catalog(conn))
        by_object = {f.object: sorted({x.rule_id for x in f.findings}) for f in report.files}
        assert by_object == {"artists": ["DSQL040"], "tracks": ["DSQL040"], "v": []}
        assert all(f.object == "tracks" for f in report.files[1].findings)

    def test_postgres_types_dsql_rejects_are_found_in_a_catalog(self) -> None:
        table = Table(
            "hosts",
            (
                Column("id", "integer", "integer", False, "nextval('hosts_id_seq'::regclass)", 1),
                Column("addr", "inet", "inet", True, None, 2),
                Column("tags", "text[]", "text[]", True, None, 3),
                Column("meta", "jsonb", "jsonb", True, None, 4),
            ),
            primary_key=("id",),
            indexes=(Index("hosts_addr", ("addr",), unique=False),),
        )
        catalog = Catalog(
            "postgres", "public", (table,), (View("v", ("id",), "SELECT id FROM hosts"),)
        )
        report = lint_catalog(catalog)
        assert [f.path for f in report.files] == ["catalog:public.hosts", "catalog:public.v"]
        assert sorted({f.rule_id for f in report.files[0].findings}) == ["DSQL041", "DSQL042"]


class TestChecksAndWaivers:
    def test_a_file_becomes_one_check_result(self) -> None:
        (file,) = lint_paths([DATA / "migrations" / "V002__add_status.sql"], jobs=1).files
        result = to_check_result(file)
        assert result.area == "dsql_compat"
        assert result.status is Status.FAIL
        assert result.evidence["statements"] == {"clean": 2, "finding": 2, "unanalysed": 0}
        clean = lint_paths([DATA / "migrations" / "V001__create_accounts.sql"], jobs=1).files[0]
        assert to_check_result(clean).status is Status.PASS

    def test_a_warning_fails_the_item_only_when_the_plan_fails_on_warnings(self) -> None:
        file = lint_sql("CREATE TABLE t (id bigint PRIMARY KEY, a numeric);", path="t.sql")
        assert [f.rule_id for f in file.findings] == ["DSQL046"]
        assert to_check_result(file).status is Status.PASS
        strict = to_check_result(file, fail_on=FailOn.WARNING)
        assert strict.status is Status.FAIL
        assert strict.summary.startswith("lint.fail_on is warning: DSQL046")
        assert strict.findings[0].severity.value == "warning"

    def test_a_plan_waiver_suppresses_by_rule_path_and_object_until_it_expires(self) -> None:
        path = DATA / "migrations" / "V002__add_status.sql"
        waiver = {"rule": "DSQL050", "path": "*/V002__*.sql", "object": "accounts",
                  "reason": "index built by the DBA", "reviewer": "ana"}  # fmt: skip
        report = lint_paths([path], LintSettings(waivers=(LintWaiver(**waiver),)), jobs=1)
        (waived,) = [f for f in report.findings if f.suppressed_by is not None]
        assert waived.rule_id == "DSQL050"
        assert waived.suppressed_by.reviewer == "ana"
        assert to_check_result(report.files[0]).status is Status.FAIL  # DSQL080 remains
        expired = LintWaiver(**waiver, expires=date(2020, 1, 1))
        report = lint_paths([path], LintSettings(waivers=(expired,)), jobs=1)
        assert all(f.suppressed_by is None for f in report.findings)

    def test_settings_reject_unknown_rules_and_keys(self) -> None:
        with pytest.raises(ValidationError, match='Did you mean "index-async"'):
            LintWaiver(rule="index-asynch", reason="x", reviewer="y")
        assert LintWaiver(rule="index-async", reason="x", reviewer="y").rule == "DSQL050"
        with pytest.raises(ValidationError, match="extra"):
            LintSettings.model_validate({"paths": [], "falil_on": "error"})

    def test_settings_paths_are_relative_to_the_plan(self, tmp_path: Path) -> None:
        (tmp_path / "sql").mkdir()
        settings = LintSettings.model_validate(
            {"paths": ["sql/"]}, context={"base_dir": str(tmp_path)}
        )
        assert settings.paths == ((tmp_path / "sql").resolve(),)

    def test_settings_paths_must_exist(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match=r"sqll: no such file or folder"):
            LintSettings.model_validate({"paths": ["sqll/"]}, context={"base_dir": str(tmp_path)})
