"""`cutover verify` with a lint: section: the dsql_compat scenario end to end.

One item per linted file (SQL and application code) and, the source being PostgreSQL, one
per table or view of its live schema (catalog → DDL → lint, findings named by object); the
``lint`` section of results.json sums them up and ``inputs`` lists every linted file with its
sha256, so a sign-off covers exactly the bytes that were linted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.verify_runs import Verified, plan_for, verify

REPO = Path(__file__).resolve().parents[1]

SOURCE_SQL = """\
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE people (id uuid PRIMARY KEY, m mood, tags text[], ip inet);
CREATE TABLE fine (id uuid PRIMARY KEY, note text);
CREATE VIEW fine_notes AS SELECT id, note FROM fine;
"""
MIGRATION = """\
CREATE TABLE orders (id serial PRIMARY KEY, customer_id integer);
CREATE INDEX orders_idx ON orders (customer_id); -- cutover: ignore[DSQL050] the tool adds ASYNC
"""
APP_CODE = """\
import { pool } from './pool';

export async function reset(): Promise<void> {
  await pool.query('TRUNCATE TABLE orders');
}
"""


@pytest.fixture(scope="module")
def linted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Verified, Path]:
    folder = tmp_path_factory.mktemp("lint")
    (folder / "source.sql").write_text(SOURCE_SQL, encoding="utf-8")
    sql = folder / "sql"
    (sql / "app").mkdir(parents=True)
    (sql / "001.sql").write_text(MIGRATION, encoding="utf-8")
    (sql / "app" / "db.ts").write_text(APP_CODE, encoding="utf-8")
    endpoint = {"kind": "embedded", "load": [{"sql": str(folder / "source.sql")}]}
    lint = {
        "paths": [str(sql)],
        "waivers": [
            {
                "rule": "DSQL105",
                "path": "*db.ts",
                "reason": "reset() runs only against the test database",
                "reviewer": "Sam Okafor",
            }
        ],
    }
    plan = plan_for("after", folder, source=endpoint, target=endpoint, lint=lint)
    return verify(plan, folder), sql


class TestItems:
    def test_one_item_per_linted_file_named_inside_its_lint_path(
        self, linted: tuple[Verified, Path]
    ) -> None:
        run, _ = linted
        files = {n for n in run.checks("dsql_compat") if not n.startswith("schema:")}
        assert files == {"sql/001.sql", "sql/app/db.ts"}

    def test_a_file_with_an_unsuppressed_error_fails_and_names_rule_and_line(
        self, linted: tuple[Verified, Path]
    ) -> None:
        item = linted[0].checks("dsql_compat")["sql/001.sql"]
        assert item["status"] == "fail"
        assert "DSQL020" in item["summary"]
        assert item["summary"].endswith("(sql/001.sql:1:22)")

    def test_the_inline_suppression_stays_visible_as_waived(
        self, linted: tuple[Verified, Path]
    ) -> None:
        item = linted[0].checks("dsql_compat")["sql/001.sql"]
        (waived,) = [f for f in item["findings"] if f["waived_by"]]
        assert waived["message"].startswith("DSQL050")
        assert waived["waived_by"]["reason"] == "the tool adds ASYNC"

    def test_a_plan_waiver_makes_the_app_code_item_waived_not_passed(
        self, linted: tuple[Verified, Path]
    ) -> None:
        item = linted[0].checks("dsql_compat")["sql/app/db.ts"]
        assert item["status"] == "waived"
        assert item["findings"][0]["waived_by"]["reviewer"] == "Sam Okafor"
        assert item["findings"][0]["source"] == "sql/app/db.ts:4:21"


class TestLiveSchema:
    def test_one_item_per_table_and_view_of_the_source(self, linted: tuple[Verified, Path]) -> None:
        objects = {n for n in linted[0].checks("dsql_compat") if n.startswith("schema:")}
        assert objects == {"schema:public.fine", "schema:public.fine_notes", "schema:public.people"}

    def test_findings_are_mapped_to_the_object_and_column(
        self, linted: tuple[Verified, Path]
    ) -> None:
        item = linted[0].checks("dsql_compat")["schema:public.people"]
        assert item["status"] == "fail"
        rules = {f["message"].split()[0]: f for f in item["findings"]}
        assert set(rules) == {"DSQL040", "DSQL041", "DSQL042"}
        assert {f["table"] for f in item["findings"]} == {"people"}
        assert "column m: mood" in rules["DSQL040"]["message"]

    def test_objects_dsql_accepts_pass(self, linted: tuple[Verified, Path]) -> None:
        checks = linted[0].checks("dsql_compat")
        assert checks["schema:public.fine"]["status"] == "pass"
        assert checks["schema:public.fine_notes"]["status"] == "pass"


class TestResultsDocument:
    def test_the_lint_section_counts_files_statements_rules_and_suppressions(
        self, linted: tuple[Verified, Path]
    ) -> None:
        section = linted[0].results["lint"]
        assert section["files"] == 2
        assert section["schema_objects"] == 3
        assert section["findings_by_rule"] == {
            "DSQL020": 1,
            "DSQL040": 1,
            "DSQL041": 1,
            "DSQL042": 1,
        }
        assert section["suppressed"] == 2
        assert section["statements"] == sum(section["statements_by_verdict"].values())
        assert section["statements_by_verdict"]["unanalysed"] == 0
        assert section["rule_pack"].startswith("dsql-")

    def test_every_linted_file_is_an_input_with_its_sha256(
        self, linted: tuple[Verified, Path]
    ) -> None:
        run, sql = linted
        sql_inputs = {i["path"]: i["sha256"] for i in run.results["inputs"] if i["kind"] == "sql"}
        assert sql_inputs == {
            str(p.resolve()): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (sql / "001.sql", sql / "app" / "db.ts")
        }

    def test_the_run_is_no_go_and_results_json_matches_its_schema(
        self, linted: tuple[Verified, Path]
    ) -> None:
        run, _ = linted
        assert run.results["verdict"] == "NO-GO"
        assert run.code == 1
        schema = yaml.safe_load((REPO / "schemas" / "results.schema.json").read_text())
        jsonschema.validate(run.results, schema)
