"""Specification of harness.plan: a YAML plan becomes frozen models, or one line saying why not.

Every error names the file and line, the key path as the user wrote it, what is allowed there
and, for a near miss, the closest valid name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from harness.endpoints.settings import (
    EmbeddedEndpoint,
    LoadSql,
    LoadSqlite,
    PostgresEndpoint,
    SqliteEndpoint,
)
from harness.errors import PlanError
from harness.plan.load import load_plan
from harness.plan.model import ExpectedDifference, Plan, is_expired
from harness.plan.schema import plan_schema_text
from harness.plan.template import PLAN_TEMPLATE
from harness.results.check import FindingKind

REPO = Path(__file__).resolve().parents[1]

# Line numbers in the error tests below count from this header (7 lines).
HEADER = """\
name: shop
source:
  kind: sqlite
  path: app.db
target:
  kind: postgres
  dsn_env: TARGET_DSN
"""

FULL = """\
name: shop-to-aurora
source:
  kind: sqlite
  path: data/app.db
target:
  kind: embedded
  database: shop
  schema: sales
  load:
    - sqlite: data/app.db
      naming: snake_case
    - sql: fixtures/extra.sql
      database: postgres
tables:
  include: ["*"]
  exclude: ["tmp_*"]
  keys: {audit_log: [id, at]}
renames:
  policy: snake_case
  tables: {InvoiceLine: invoice_lines}
  columns: {Invoice: {Total: total_amount}}
expected_differences:
  - table: invoice
    column: total_amount
    kind: type_narrowing
    reason: totals above 10^8 were archived (TICKET-1)
    reviewer: Ana Lima
    expires: 2027-03-31
"""


def diff(**fields: object) -> ExpectedDifference:
    return ExpectedDifference.model_validate(
        {"table": "t", "reason": "r", "reviewer": "me", **fields}
    )


class TestValidPlans:
    def test_a_plan_with_every_section_loads_into_typed_models(self, write_plan) -> None:
        plan = load_plan(write_plan(FULL)).plan

        assert plan.name == "shop-to-aurora"
        assert isinstance(plan.source, SqliteEndpoint)
        assert isinstance(plan.target, EmbeddedEndpoint)
        assert plan.target.database == "shop"
        assert plan.target.db_schema == "sales"
        sqlite_step, sql_step = plan.target.load
        assert isinstance(sqlite_step, LoadSqlite)
        assert sqlite_step.naming == "snake_case"
        assert isinstance(sql_step, LoadSql)
        assert sql_step.database == "postgres"
        assert plan.tables.exclude == ("tmp_*",)
        assert plan.tables.keys == {"audit_log": ("id", "at")}
        assert plan.renames.tables == {"InvoiceLine": "invoice_lines"}
        assert plan.renames.columns == {"Invoice": {"Total": "total_amount"}}
        (expected,) = plan.expected_differences
        assert expected.kind is FindingKind.TYPE_NARROWING
        assert expected.expires == date(2027, 3, 31)

    def test_omitted_sections_take_their_documented_defaults(self, write_plan) -> None:
        plan = load_plan(write_plan(HEADER)).plan

        assert plan.tables.include == ("*",)
        assert plan.tables.exclude == ()
        assert plan.tables.keys == {}
        assert plan.renames.policy == "none"
        assert plan.expected_differences == ()
        assert isinstance(plan.target, PostgresEndpoint)
        assert plan.target.db_schema == "public"
        assert plan.target.dsn is None

    def test_an_expected_difference_without_kind_matches_any_kind(self, write_plan) -> None:
        text = HEADER + "expected_differences:\n  - {table: t, reason: r, reviewer: me}\n"
        (expected,) = load_plan(write_plan(text)).plan.expected_differences
        assert expected.kind is None
        assert expected.column is None
        assert expected.expires is None

    def test_an_expected_difference_may_name_a_query_instead_of_a_table(self, write_plan) -> None:
        text = HEADER + "expected_differences:\n  - {query: totals, reason: r, reviewer: me}\n"
        (expected,) = load_plan(write_plan(text)).plan.expected_differences
        assert (expected.query, expected.table) == ("totals", None)

    @pytest.mark.parametrize(
        ("entry", "message"),
        [
            ("{table: t, query: q, reason: r, reviewer: me}", "exactly one of 'table' or 'query'"),
            ("{reason: r, reviewer: me}", "exactly one of 'table' or 'query'"),
            ("{query: q, column: c, reason: r, reviewer: me}", "'column' goes with 'table'"),
        ],
    )
    def test_an_expected_difference_names_one_subject(
        self, write_plan, entry: str, message: str
    ) -> None:
        path = write_plan(HEADER + f"expected_differences:\n  - {entry}\n")
        with pytest.raises(PlanError, match=message) as caught:
            load_plan(path)
        assert caught.value.key == "expected_differences.0"

    def test_plan_models_are_frozen(self, write_plan) -> None:
        plan = load_plan(write_plan(FULL)).plan

        with pytest.raises(ValidationError, match="frozen"):
            plan.name = "other"  # type: ignore[misc]
        with pytest.raises(ValidationError, match="frozen"):
            plan.source.path = Path("/elsewhere.db")  # type: ignore[misc, union-attr]
        with pytest.raises(ValidationError, match="frozen"):
            plan.renames.policy = "none"  # type: ignore[misc]
        with pytest.raises(AttributeError):
            plan.tables.include.append("x")  # type: ignore[attr-defined]

    def test_the_loaded_plan_record_is_frozen_too(self, write_plan) -> None:
        loaded = load_plan(write_plan(HEADER))
        with pytest.raises(dataclasses.FrozenInstanceError):
            loaded.sha256 = "0" * 64  # type: ignore[misc]

    def test_relative_paths_resolve_against_the_plan_folder_not_the_cwd(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        folder = tmp_path / "plans"
        folder.mkdir()
        (folder / "plan.yaml").write_text(FULL, encoding="utf-8")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)

        plan = load_plan(Path("../plans/plan.yaml")).plan

        assert isinstance(plan.source, SqliteEndpoint)
        assert plan.source.path == folder.resolve() / "data" / "app.db"
        assert isinstance(plan.target, EmbeddedEndpoint)
        sqlite_step, sql_step = plan.target.load
        assert isinstance(sqlite_step, LoadSqlite)
        assert isinstance(sql_step, LoadSql)
        assert sqlite_step.sqlite == folder.resolve() / "data" / "app.db"
        assert sql_step.sql == folder.resolve() / "fixtures" / "extra.sql"

    def test_absolute_paths_are_kept(self, write_plan, tmp_path: Path) -> None:
        absolute = tmp_path / "somewhere" / "app.db"
        plan = load_plan(write_plan(HEADER.replace("path: app.db", f"path: {absolute}"))).plan
        assert isinstance(plan.source, SqliteEndpoint)
        assert plan.source.path == absolute

    def test_the_loaded_plan_records_its_absolute_path(
        self, write_plan, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = write_plan(HEADER)
        monkeypatch.chdir(path.parent)
        assert load_plan("plan.yaml").path == path.resolve()

    def test_the_sha256_is_of_the_file_bytes_exactly(self, write_plan) -> None:
        text = "# a comment changes the fingerprint\r\n" + HEADER.replace("\n", "\r\n")
        path = write_plan(text)
        assert load_plan(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert load_plan(write_plan(HEADER, "other.yaml")).sha256 != load_plan(path).sha256

    def test_a_postgres_endpoint_accepts_a_dsn_instead_of_dsn_env(self, write_plan) -> None:
        text = HEADER.replace("dsn_env: TARGET_DSN", "dsn: postgresql://app@db/shop\n  schema: x")
        target = load_plan(write_plan(text)).plan.target
        assert isinstance(target, PostgresEndpoint)
        assert (target.dsn, target.dsn_env, target.db_schema) == (
            "postgresql://app@db/shop",
            None,
            "x",
        )


class TestPlanErrors:
    """Each message is ``file:line: key.path: what is wrong, what is allowed, did you mean``."""

    @pytest.mark.parametrize(
        ("text", "line", "key", "message"),
        [
            pytest.param(
                HEADER + "tabels:\n  include: ['*']\n",
                8,
                "tabels",
                "unknown key 'tabels'. Did you mean \"tables\"? Allowed keys: app_tests, connect,"
                " dynamo, expected_differences, faults, health, latency, lint, name, posture,"
                " queries, renames, retired, rows, source, tables, target.",
                id="top-level",
            ),
            pytest.param(
                HEADER.replace("  path:", "  paht:"),
                4,
                "source.paht",
                "unknown key 'paht'. Did you mean \"path\"? Allowed keys: kind, path.",
                id="in-an-endpoint",
            ),
            pytest.param(
                HEADER + "  shema: sales\n",
                8,
                "target.shema",
                "unknown key 'shema'. Did you mean \"schema\"? Allowed keys: dsn, dsn_env, kind, "
                "schema.",
                id="in-a-postgres-endpoint",
            ),
            pytest.param(
                HEADER + "tables:\n  include: ['*']\n  exclud: [tmp_*]\n",
                10,
                "tables.exclud",
                "unknown key 'exclud'. Did you mean \"exclude\"? Allowed keys: allow_empty, "
                "exclude, include, keys.",
                id="in-a-section",
            ),
            pytest.param(
                HEADER + "expected_differences:\n  - table: t\n    reason: r\n    reviewer: me\n"
                "    expiry: 2027-01-01\n",
                12,
                "expected_differences.0.expiry",
                "unknown key 'expiry'. Did you mean \"expires\"? Allowed keys: column, expires, "
                "kind, query, reason, reviewer, table.",
                id="in-a-list-item",
            ),
            pytest.param(
                HEADER.replace("name: shop", "nmae: shop"),
                1,
                "nmae",
                "unknown key 'nmae'. Did you mean \"name\"?",
                id="misspelt-required-key-reported-as-the-misspelling",
            ),
        ],
    )
    def test_an_unknown_key_is_named_with_the_closest_allowed_one(
        self, write_plan, text: str, line: int, key: str, message: str
    ) -> None:
        path = write_plan(text)
        with pytest.raises(
            PlanError, match=re.escape(f"{path}:{line}: {key}: {message}")
        ) as caught:
            load_plan(path)
        assert (caught.value.path, caught.value.key) == (f"{path}:{line}", key)

    def test_an_unknown_key_in_a_load_step_is_named_with_the_closest_allowed_one(
        self, write_plan
    ) -> None:
        text = HEADER.replace(
            "  kind: postgres\n  dsn_env: TARGET_DSN\n",
            "  kind: embedded\n  load:\n    - sqlite: app.db\n      namig: lower\n",
        )
        with pytest.raises(
            PlanError,
            match=re.escape(
                "target.load.0.namig: unknown key 'namig'. Did you mean \"naming\"? "
                "Allowed keys: naming, sqlite."
            ),
        ):
            load_plan(write_plan(text))

    def test_a_table_named_like_an_endpoint_kind_keeps_its_name_in_the_key_path(
        self, write_plan
    ) -> None:
        with pytest.raises(PlanError, match=re.escape(": renames.columns.postgres: ")):
            load_plan(write_plan(HEADER + "renames:\n  columns:\n    postgres: not-a-mapping\n"))

    def test_an_unknown_endpoint_kind_lists_the_kinds(self, write_plan) -> None:
        path = write_plan(HEADER.replace("kind: postgres", "kind: postgresql"))
        with pytest.raises(
            PlanError,
            match=re.escape(
                f"{path}:6: target.kind: unknown endpoint kind 'postgresql'. Did you mean "
                '"postgres"? Allowed: sqlite, postgres, embedded, container, aurora, dsql, '
                "dsql-local."
            ),
        ):
            load_plan(path)

    def test_an_endpoint_without_kind_lists_the_kinds(self, write_plan) -> None:
        path = write_plan(HEADER.replace("  kind: sqlite\n", ""))
        with pytest.raises(
            PlanError,
            match=re.escape(
                f"{path}:2: source: missing 'kind' "
                "(allowed: sqlite, postgres, embedded, container, aurora, dsql)"
            ),
        ):
            load_plan(path)

    @pytest.mark.parametrize(
        ("section", "line", "key", "message"),
        [
            pytest.param(
                "renames:\n  policy: snakecase\n",
                9,
                "renames.policy",
                "'snakecase' is not allowed. Did you mean \"snake_case\"? "
                "Allowed: 'none', 'snake_case' or 'lower'.",
                id="naming-policy",
            ),
            pytest.param(
                "renames:\n  policy: UPPER\n",
                9,
                "renames.policy",
                "'UPPER' is not allowed. Allowed: 'none', 'snake_case' or 'lower'.",
                id="nothing-close",
            ),
        ],
    )
    def test_a_value_outside_a_literal_lists_the_allowed_values(
        self, write_plan, section: str, line: int, key: str, message: str
    ) -> None:
        path = write_plan(HEADER + section)
        with pytest.raises(PlanError, match=re.escape(f"{path}:{line}: {key}: {message}")):
            load_plan(path)

    def test_a_load_step_naming_policy_is_checked_too(self, write_plan) -> None:
        text = HEADER.replace(
            "  kind: postgres\n  dsn_env: TARGET_DSN\n",
            "  kind: embedded\n  load:\n    - sqlite: app.db\n      naming: camel\n",
        )
        path = write_plan(text)
        with pytest.raises(
            PlanError,
            match=re.escape(
                f"{path}:9: target.load.0.naming: 'camel' is not allowed. "
                "Allowed: 'none', 'snake_case' or 'lower'."
            ),
        ):
            load_plan(path)

    def test_an_unknown_finding_kind_lists_every_finding_kind(self, write_plan) -> None:
        text = HEADER + (
            "expected_differences:\n"
            "  - table: t\n    kind: type_narrow\n    reason: r\n    reviewer: me\n"
        )
        path = write_plan(text)
        with pytest.raises(PlanError) as caught:
            load_plan(path)
        error = caught.value

        assert error.key == "expected_differences.0.kind"
        assert error.path == f"{path}:10"
        assert "'type_narrow' is not allowed. Did you mean \"type_narrowing\"?" in str(error)
        allowed = str(error).split("Allowed: ", 1)[1]
        assert re.findall(r"'(\w+)'", allowed) == [kind.value for kind in FindingKind]

    def test_a_finding_kind_is_read_into_the_enum(self, write_plan) -> None:
        text = (
            HEADER
            + "expected_differences:\n  - {table: t, kind: unique, reason: r, reviewer: me}\n"
        )
        (expected,) = load_plan(write_plan(text)).plan.expected_differences
        assert expected.kind is FindingKind.UNIQUE

    def test_a_missing_required_key_is_named(self, write_plan) -> None:
        path = write_plan(HEADER + "expected_differences:\n  - table: t\n    reason: r\n")
        with pytest.raises(
            PlanError,
            match=re.escape(f"{path}:9: expected_differences.0.reviewer: required key is missing"),
        ):
            load_plan(path)

    def test_a_missing_top_level_key_points_at_the_top_of_the_file(self, write_plan) -> None:
        path = write_plan(HEADER.replace("name: shop\n", ""))
        with pytest.raises(PlanError, match=re.escape(f"{path}:1: name: required key is missing")):
            load_plan(path)

    @pytest.mark.parametrize(
        "dsn_lines",
        [
            pytest.param("  dsn: postgresql://db/shop\n  dsn_env: TARGET_DSN\n", id="both"),
            pytest.param("", id="neither"),
        ],
    )
    def test_a_postgres_endpoint_needs_exactly_one_of_dsn_and_dsn_env(
        self, write_plan, dsn_lines: str
    ) -> None:
        path = write_plan(HEADER.replace("  dsn_env: TARGET_DSN\n", dsn_lines))
        with pytest.raises(
            PlanError, match=re.escape(f"{path}:5: target: give exactly one of 'dsn' or 'dsn_env'")
        ):
            load_plan(path)

    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            pytest.param('"2027-02-30"', "day value is outside expected range", id="no-such-day"),
            pytest.param("2027-02-30", "day value is outside expected range", id="unquoted"),
            pytest.param("next week", "valid date", id="not-a-date"),
        ],
    )
    def test_a_bad_expiry_date_is_reported_at_its_key(
        self, write_plan, value: str, problem: str
    ) -> None:
        text = HEADER + (
            f"expected_differences:\n  - table: t\n    reason: r\n    reviewer: me\n"
            f"    expires: {value}\n"
        )
        path = write_plan(text)
        with pytest.raises(
            PlanError,
            match=re.escape(f"{path}:12: expected_differences.0.expires: ") + ".*" + problem,
        ):
            load_plan(path)

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("- name: shop\n- source: x\n", id="a-list"),
            pytest.param("just words\n", id="a-scalar"),
            pytest.param("", id="empty"),
        ],
    )
    def test_a_document_that_is_not_a_mapping_is_rejected(self, write_plan, text: str) -> None:
        path = write_plan(text)
        with pytest.raises(
            PlanError,
            match=re.escape(
                f"{path}: a plan is a YAML mapping with at least name, source and target"
            ),
        ):
            load_plan(path)

    def test_malformed_yaml_names_the_line_of_the_problem(self, write_plan) -> None:
        # The flow mapping opened on line 2 is never closed; the parser notices on line 4.
        path = write_plan("name: shop\nsource: {kind: sqlite,\n  path: app.db\ntarget: x\n")
        with pytest.raises(
            PlanError, match=re.escape(f"{path}:4: not valid YAML: expected ',' or '}}'")
        ):
            load_plan(path)

    def test_badly_indented_yaml_names_the_line_of_the_problem(self, write_plan) -> None:
        path = write_plan("name: shop\nsource:\n  kind: sqlite\n   path: app.db\n")
        with pytest.raises(
            PlanError,
            match=re.escape(f"{path}:4: not valid YAML: mapping values are not allowed here"),
        ):
            load_plan(path)

    def test_a_plan_that_is_not_utf8_is_rejected_without_a_line(self, tmp_path: Path) -> None:
        path = tmp_path / "plan.yaml"
        path.write_bytes(b"name: caf\xe9\n")
        with pytest.raises(PlanError, match=re.escape(f"{path}: not valid YAML: 'utf-8' codec")):
            load_plan(path)

    @pytest.mark.parametrize(
        "step",
        [
            pytest.param("{csv: data.csv}", id="unknown-step"),
            pytest.param("schema.sql", id="a-bare-file-name"),
        ],
    )
    def test_a_load_step_must_be_sql_or_sqlite(self, write_plan, step: str) -> None:
        text = HEADER.replace(
            "  kind: postgres\n  dsn_env: TARGET_DSN\n",
            f"  kind: embedded\n  load:\n    - {step}\n",
        )
        path = write_plan(text)
        with pytest.raises(
            PlanError,
            match=re.escape(
                f"{path}:8: target.load.0: each load step is {{sql: FILE}} or {{sqlite: FILE}}"
            ),
        ):
            load_plan(path)

    def test_a_missing_plan_file_says_how_to_create_one(self, tmp_path: Path) -> None:
        path = tmp_path / "nowhere.yaml"
        with pytest.raises(
            PlanError,
            match=re.escape(f"{path}: plan file not found (create one with `cutover init`)"),
        ):
            load_plan(path)

    def test_further_problems_are_counted_after_the_first(self, write_plan) -> None:
        text = HEADER.replace("  path: app.db", "  paht: app.db") + "renames: {policy: x}\n"
        with pytest.raises(PlanError, match=r"\(and 2 more problem\(s\) after this one\)$"):
            load_plan(write_plan(text))

    def test_every_error_is_one_line(self, write_plan) -> None:
        text = (
            HEADER + "expected_differences:\n  - {table: t, kind: nope, reason: r, reviewer: me}\n"
        )
        with pytest.raises(PlanError) as caught:
            load_plan(write_plan(text))
        assert "\n" not in str(caught.value)


class TestGeneratedSchemaAndTemplate:
    def test_the_checked_in_plan_schema_is_generated_from_the_models(self) -> None:
        checked_in = (REPO / "schemas" / "plan.schema.json").read_text(encoding="utf-8")
        assert checked_in == plan_schema_text(), (
            "schemas/plan.schema.json is stale; regenerate it with `cutover schema --write schemas`"
        )

    def test_the_plan_schema_forbids_unknown_keys_like_the_loader(self) -> None:
        schema = json.loads(plan_schema_text())
        validator = jsonschema.Draft202012Validator(schema)
        good = yaml.safe_load(HEADER)
        assert list(validator.iter_errors(good)) == []
        assert list(validator.iter_errors({**good, "tabels": {}})) != []

    def test_the_template_loads_as_a_valid_plan(self, write_plan, tmp_path: Path) -> None:
        plan = load_plan(write_plan(PLAN_TEMPLATE, "cutover.yaml")).plan

        assert isinstance(plan.source, SqliteEndpoint)
        assert plan.source.path == tmp_path.resolve() / "app.db"
        assert isinstance(plan.target, EmbeddedEndpoint)
        (step,) = plan.target.load
        assert isinstance(step, LoadSqlite)
        assert step.naming == "none"
        assert plan.expected_differences == ()

    def test_the_template_validates_against_the_plan_schema(self) -> None:
        schema = json.loads(plan_schema_text())
        jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(PLAN_TEMPLATE))

    def test_the_templates_commented_example_of_an_expected_difference_is_valid(
        self, write_plan
    ) -> None:
        block = PLAN_TEMPLATE.split("expected_differences: []")[1].split("# Optional")[0]
        example = [
            line.removeprefix("#")
            for line in block.splitlines()
            if line.startswith(("#  - ", "#    "))
        ]
        assert example, "the template shows how to declare an expected difference"
        text = PLAN_TEMPLATE.replace("expected_differences: []", "expected_differences:")
        text = text.replace(block, "\n" + "\n".join(example) + "\n\n")
        plan = load_plan(write_plan(text)).plan
        (expected,) = plan.expected_differences
        assert expected.kind is FindingKind.TYPE_NARROWING


class TestExpiry:
    def test_a_difference_without_expiry_never_expires(self) -> None:
        assert not is_expired(diff(), date(2999, 1, 1))

    def test_a_difference_still_waives_on_its_expiry_date(self) -> None:
        assert not is_expired(diff(expires="2027-03-31"), date(2027, 3, 31))

    def test_a_difference_is_expired_the_day_after(self) -> None:
        assert is_expired(diff(expires="2027-03-31"), date(2027, 4, 1))

    def test_today_is_the_default(self) -> None:
        assert is_expired(diff(expires=date.today() - timedelta(days=1)))
        assert not is_expired(diff(expires=date.today()))

    @given(expires=st.dates(), today=st.dates())
    def test_expired_exactly_when_today_is_past_the_expiry(
        self, expires: date, today: date
    ) -> None:
        assert is_expired(diff(expires=expires), today) is (today > expires)


def test_plan_is_the_root_model_of_the_schema() -> None:
    assert json.loads(plan_schema_text())["title"] == Plan.__name__
