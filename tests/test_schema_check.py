"""Specification of the schema and row-count checks, on real databases: a SQLite (or PostgreSQL)
source and a PostgreSQL target, each difference declared on purpose and found with the right
kind and severity. Also the scope: which tables are compared, under which names."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.checks.counts import check_row_count
from harness.checks.schema import check_table, check_views
from harness.db.catalog import Catalog, Column, Table, View
from harness.db.database import Database
from harness.embedded.provision import PostgresCluster
from harness.endpoints.resolve import Connector, open_database
from harness.errors import PlanError
from harness.plan.model import Plan
from harness.plan.scope import Scope, build_scope
from harness.results.check import CheckResult, Finding, FindingKind, Severity, Status
from tests.conftest import run_sql

K, S = FindingKind, Severity


@dataclass
class Migration:
    """A source and a target database, the plan relating them, and the checks to run."""

    source: Database
    target: Database
    plan: Plan
    scope: Scope

    def schema(self, table_id: str) -> CheckResult:
        pair = self.scope.pair(table_id)
        return check_table(
            pair,
            self.source.catalog().table(pair.source) if pair.source else None,
            self.target.catalog().table(pair.target) if pair.target else None,
            renamer=self.scope.renamer,
            source_db=self.source,
            target_dialect=self.target.dialect,
            expected=self.plan.expected_differences,
        )

    def views(self) -> CheckResult:
        return check_views(
            self.source.catalog(), self.target.catalog(), self.scope, self.plan.expected_differences
        )

    def row_count(self, table_id: str) -> CheckResult:
        return check_row_count(
            self.scope.pair(table_id),
            source_db=self.source,
            target_db=self.target,
            expected=self.plan.expected_differences,
        )


Migrate = Callable[..., Migration]
Script = str | tuple[str, ...]


def script(sql: Script) -> str:
    """Setup SQL given as one script or as a tuple of scripts run in order."""
    return sql if isinstance(sql, str) else "\n".join(sql)


@pytest.fixture
def migrate(tmp_path: Path, pg_database: str, pg_cluster: PostgresCluster) -> Iterator[Migrate]:
    """Build a source (SQLite file, or a PostgreSQL database) and a PostgreSQL target."""
    opened: list[Database] = []
    created: list[str] = []

    def build(
        source_sql: Script, target_sql: Script, *, source: str = "sqlite", **plan_sections: Any
    ) -> Migration:
        if source == "sqlite":
            path = tmp_path / "source.db"
            with sqlite3.connect(path) as conn:
                conn.executescript(script(source_sql))
            conn.close()
            source_connector = Connector("source", "sqlite", "sqlite", str(path), "source")
        else:
            name = f"src_{uuid.uuid4().hex[:12]}"
            created.append(name)
            dsn = pg_cluster.create_database(name)
            run_sql(dsn, script(source_sql))
            source_connector = Connector("source", "postgres", "postgres", dsn, "source", "public")
        run_sql(pg_database, script(target_sql))
        plan = Plan.model_validate(
            {
                "name": "spec",
                "source": {"kind": "sqlite", "path": "unused.db"},
                "target": {"kind": "postgres", "dsn": pg_database},
                **plan_sections,
            }
        )
        source_db = open_database(source_connector)
        target_db = open_database(
            Connector("target", "postgres", "postgres", pg_database, "target", "public")
        )
        opened.extend((source_db, target_db))
        scope = build_scope(plan, source_db.catalog(), target_db.catalog())
        return Migration(source_db, target_db, plan, scope)

    yield build
    for db in opened:
        db.close()
    for name in created:
        pg_cluster.drop_database(name)


def only(result: CheckResult, kind: FindingKind) -> Finding:
    """The single finding of ``kind`` in ``result``."""
    found = [f for f in result.findings if f.kind is kind]
    assert len(found) == 1, f"expected one {kind.value} finding, got {result.findings}"
    return found[0]


def kinds(result: CheckResult) -> set[FindingKind]:
    return {f.kind for f in result.findings}


def waive(table: str, **fields: Any) -> dict[str, Any]:
    return {"table": table, "reason": "accepted in TICKET-7", "reviewer": "Ana", **fields}


SHOP_SQLITE = """
CREATE TABLE customer (
    customer_id INTEGER PRIMARY KEY,
    name NVARCHAR(40) NOT NULL,
    email NVARCHAR(60) UNIQUE,
    currency VARCHAR(3) NOT NULL DEFAULT 'USD',
    active BOOLEAN NOT NULL DEFAULT 1,
    vip BOOLEAN DEFAULT 0,
    credit NUMERIC(10,2) DEFAULT 0,
    created DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE invoice_line (
    invoice_id INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
    unit_price NUMERIC(10,2) NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);
CREATE INDEX invoice_line_customer ON invoice_line (customer_id);
CREATE VIEW big_spenders AS SELECT customer_id, name FROM customer WHERE credit > 100;
INSERT INTO customer (customer_id, name, email)
VALUES (1, 'Ana', 'ana@example.com'), (2, 'Bo', NULL);
INSERT INTO invoice_line VALUES (1, 1, 1, 0.99), (1, 2, 1, 1.99), (2, 1, 2, 0.99);
"""

SHOP_POSTGRES = """
CREATE TABLE customer (
    customer_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name character varying(40) NOT NULL,
    email character varying(60),
    currency character varying(3) NOT NULL DEFAULT 'USD'::character varying,
    active boolean NOT NULL DEFAULT true,
    vip boolean DEFAULT false,
    credit numeric(10,2) DEFAULT 0,
    created timestamp without time zone DEFAULT now()
);
ALTER TABLE customer ADD CONSTRAINT customer_email_key UNIQUE (email);
CREATE TABLE invoice_line (
    invoice_id bigint NOT NULL,
    line_no bigint NOT NULL,
    customer_id bigint NOT NULL REFERENCES customer (customer_id),
    unit_price numeric(10,2) NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);
CREATE INDEX ix_invoice_line_customer_id ON invoice_line (customer_id);
CREATE VIEW big_spenders AS SELECT customer_id, name FROM customer WHERE credit > 100;
INSERT INTO customer (customer_id, name, email)
VALUES (1, 'Ana', 'ana@example.com'), (2, 'Bo', NULL);
INSERT INTO invoice_line VALUES (1, 1, 1, 0.99), (1, 2, 1, 1.99), (2, 1, 2, 0.99);
"""


def one_table(
    source_columns: str, target_columns: str, source_rows: str = "", target_rows: str = ""
) -> tuple[str, str]:
    """DDL for a table ``t`` with an id key plus the given columns, on each side."""
    return (
        f"CREATE TABLE t (id INTEGER PRIMARY KEY{source_columns});{source_rows}",
        f"CREATE TABLE t (id bigint PRIMARY KEY{target_columns});{target_rows}",
    )


class TestIdenticalSchemas:
    def test_every_table_passes_without_findings(self, migrate: Migrate) -> None:
        migration = migrate(SHOP_SQLITE, SHOP_POSTGRES)
        for pair_id in ("customer", "invoice_line"):
            result = migration.schema(pair_id)
            assert (result.status, result.findings) == (Status.PASS, ()), result.summary
            assert result.summary == "schema matches"

    def test_the_views_pass(self, migrate: Migrate) -> None:
        result = migrate(SHOP_SQLITE, SHOP_POSTGRES).views()
        assert (result.status, result.findings) == (Status.PASS, ())
        assert result.summary == "1 view(s) match"

    def test_the_evidence_lists_every_column_with_its_class(self, migrate: Migrate) -> None:
        evidence = migrate(SHOP_SQLITE, SHOP_POSTGRES).schema("customer").evidence
        assert evidence["source_table"] == evidence["target_table"] == "customer"
        assert [(row["source"], row["target"], row["class"]) for row in evidence["columns"]][
            :2
        ] == [
            ("customer_id", "customer_id", "equivalent"),
            ("name", "name", "equivalent"),
        ]


class TestColumns:
    def test_a_missing_column_is_an_error(self, migrate: Migrate) -> None:
        result = migrate(*one_table(", note TEXT", "")).schema("t")
        finding = only(result, K.MISSING_COLUMN)
        assert (result.status, finding.severity, finding.column) == (Status.FAIL, S.ERROR, "note")
        assert finding.message == "column t.note is missing on the target"

    def test_an_extra_nullable_column_is_a_warning(self, migrate: Migrate) -> None:
        result = migrate(*one_table("", ", note text")).schema("t")
        assert (result.status, only(result, K.EXTRA_COLUMN).severity) == (Status.PASS, S.WARNING)

    def test_an_extra_not_null_column_with_a_default_is_a_warning(self, migrate: Migrate) -> None:
        result = migrate(*one_table("", ", note text NOT NULL DEFAULT ''")).schema("t")
        assert only(result, K.EXTRA_COLUMN).severity is S.WARNING

    def test_an_extra_not_null_column_without_default_is_an_error(self, migrate: Migrate) -> None:
        result = migrate(*one_table("", ", note text NOT NULL")).schema("t")
        finding = only(result, K.EXTRA_COLUMN)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert "NOT NULL without a default: the application's inserts will fail" in finding.message

    @pytest.mark.parametrize(
        ("source_type", "target_type"),
        [("TEXT", "integer"), ("BOOLEAN", "timestamp"), ("BLOB", "text")],
    )
    def test_a_change_of_kind_is_an_incompatible_type(
        self, migrate: Migrate, source_type: str, target_type: str
    ) -> None:
        result = migrate(*one_table(f", x {source_type}", f", x {target_type}")).schema("t")
        finding = only(result, K.TYPE_INCOMPATIBLE)
        assert (result.status, finding.severity, finding.column) == (Status.FAIL, S.ERROR, "x")

    def test_a_widening_is_information(self, migrate: Migrate) -> None:
        result = migrate(*one_table(", x VARCHAR(40)", ", x varchar(80)")).schema("t")
        finding = only(result, K.TYPE_WIDENING)
        assert (result.status, finding.severity) == (Status.PASS, S.INFO)
        assert finding.message == "t.x widens varchar(40) → varchar(80)"
        assert (finding.source, finding.target) == ("varchar(40)", "varchar(80)")


class TestNarrowing:
    def test_from_sqlite_values_that_fit_make_a_warning_saying_so(self, migrate: Migrate) -> None:
        ddl = one_table(
            ", name TEXT",
            ", name varchar(5)",
            "INSERT INTO t VALUES (1, 'abc'), (2, 'abcde'), (3, NULL);",
        )
        result = migrate(*ddl).schema("t")
        finding = only(result, K.TYPE_NARROWING)
        assert (result.status, finding.severity) == (Status.PASS, S.WARNING)
        assert "all 2 source values fit" in finding.message
        assert "SQLite does not enforce the declared width" in finding.message

    def test_from_sqlite_values_that_do_not_fit_make_an_error_with_the_count(
        self, migrate: Migrate
    ) -> None:
        ddl = one_table(
            ", name TEXT",
            ", name varchar(5)",
            "INSERT INTO t VALUES (1, 'abcdefgh'), (2, 'abcdefghij'), (3, 'ab');",
        )
        result = migrate(*ddl).schema("t")
        finding = only(result, K.TYPE_NARROWING)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert "2 of 3 source values do not fit (e.g. abcdefghij)" in finding.message

    def test_sqlite_integers_that_fit_32_bits_are_a_warning(self, migrate: Migrate) -> None:
        ddl = one_table(
            ", n INTEGER", ", n integer", "INSERT INTO t VALUES (1, -2147483648), (2, 2147483647);"
        )
        finding = only(migrate(*ddl).schema("t"), K.TYPE_NARROWING)
        assert finding.severity is S.WARNING
        assert "(min -2147483648, max 2147483647)" in finding.message

    def test_sqlite_integers_beyond_32_bits_are_an_error(self, migrate: Migrate) -> None:
        ddl = one_table(", n INTEGER", ", n integer", "INSERT INTO t VALUES (1, 2147483648);")
        finding = only(migrate(*ddl).schema("t"), K.TYPE_NARROWING)
        assert finding.severity is S.ERROR
        assert "1 of 1 source values do not fit" in finding.message

    def test_text_stored_in_a_sqlite_integer_column_does_not_fit(self, migrate: Migrate) -> None:
        ddl = one_table(", n INTEGER", ", n integer", "INSERT INTO t VALUES (1, '12a');")
        assert only(migrate(*ddl).schema("t"), K.TYPE_NARROWING).severity is S.ERROR

    def test_numeric_values_with_too_many_integer_digits_do_not_fit(self, migrate: Migrate) -> None:
        ddl = one_table(
            ", amount NUMERIC(12,2)",
            ", amount numeric(10,2)",
            "INSERT INTO t VALUES (1, 123456789.5), (2, 12.25);",
        )
        finding = only(migrate(*ddl).schema("t"), K.TYPE_NARROWING)
        assert finding.severity is S.ERROR
        assert "1 of 2 source values do not fit" in finding.message

    def test_from_postgresql_a_narrowing_is_an_error_even_when_values_fit(
        self, migrate: Migrate
    ) -> None:
        source = (
            "CREATE TABLE t (id bigint PRIMARY KEY, amount numeric(12,2));"
            "INSERT INTO t VALUES (1, 10.50);"
        )
        target = "CREATE TABLE t (id bigint PRIMARY KEY, amount numeric(10,2));"
        result = migrate(source, target, source="postgres").schema("t")
        finding = only(result, K.TYPE_NARROWING)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert "all 1 source values fit" in finding.message
        assert "the declared source type is a contract" in finding.message

    def test_the_fit_is_kept_as_evidence(self, migrate: Migrate) -> None:
        ddl = one_table(", name TEXT", ", name varchar(5)", "INSERT INTO t VALUES (1, 'abc');")
        (row,) = [r for r in migrate(*ddl).schema("t").evidence["columns"] if r["source"] == "name"]
        assert row["class"] == "narrowing"
        assert row["values_fit"] == {
            "values": 1,
            "unfit": 0,
            "minimum": "abc",
            "maximum": "abc",
            "max_length": 3,
        }


class TestNullability:
    def test_not_null_on_the_target_with_nulls_in_the_source_is_an_error_with_the_count(
        self, migrate: Migrate
    ) -> None:
        ddl = one_table(
            ", x TEXT", ", x text NOT NULL", "INSERT INTO t VALUES (1, NULL), (2, NULL), (3, 'a');"
        )
        result = migrate(*ddl).schema("t")
        finding = only(result, K.NULLABILITY)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert finding.message == "t.x is NOT NULL on the target but 2 source rows hold NULL"

    def test_not_null_on_the_target_without_nulls_in_the_source_is_a_warning(
        self, migrate: Migrate
    ) -> None:
        ddl = one_table(", x TEXT", ", x text NOT NULL", "INSERT INTO t VALUES (1, 'a');")
        finding = only(migrate(*ddl).schema("t"), K.NULLABILITY)
        assert finding.severity is S.WARNING
        assert "(no source row holds NULL)" in finding.message

    def test_a_column_that_accepts_null_only_on_the_target_is_a_warning(
        self, migrate: Migrate
    ) -> None:
        finding = only(
            migrate(*one_table(", x TEXT NOT NULL", ", x text")).schema("t"), K.NULLABILITY
        )
        assert (finding.severity, finding.source, finding.target) == (S.WARNING, "NOT NULL", "NULL")


class TestDefaults:
    @pytest.mark.parametrize(
        ("source_column", "target_column"),
        [
            pytest.param(
                "c VARCHAR(3) DEFAULT 'USD'",
                "c varchar(3) DEFAULT 'USD'::character varying",
                id="cast-string",
            ),
            pytest.param("b BOOLEAN DEFAULT 1", "b boolean DEFAULT true", id="one-is-true"),
            pytest.param("b BOOLEAN DEFAULT 0", "b boolean DEFAULT false", id="zero-is-false"),
            pytest.param("n NUMERIC(10,2) DEFAULT 0", "n numeric(10,2) DEFAULT 0.00", id="zero"),
            pytest.param(
                "d DATETIME DEFAULT CURRENT_TIMESTAMP", "d timestamp DEFAULT now()", id="now"
            ),
        ],
    )
    def test_the_same_default_spelt_differently_is_not_a_difference(
        self, migrate: Migrate, source_column: str, target_column: str
    ) -> None:
        result = migrate(*one_table(f", {source_column}", f", {target_column}")).schema("t")
        assert K.DEFAULT not in kinds(result)

    @pytest.mark.parametrize(
        "target_key",
        ["bigserial PRIMARY KEY", "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"],
    )
    def test_a_generated_key_on_the_target_is_not_a_default_difference(
        self, migrate: Migrate, target_key: str
    ) -> None:
        result = migrate(
            "CREATE TABLE t (id INTEGER PRIMARY KEY);", f"CREATE TABLE t (id {target_key});"
        ).schema("t")
        assert result.findings == ()

    def test_a_different_default_value_is_a_warning(self, migrate: Migrate) -> None:
        ddl = one_table(", c VARCHAR(3) DEFAULT 'USD'", ", c varchar(3) DEFAULT 'EUR'")
        result = migrate(*ddl).schema("t")
        finding = only(result, K.DEFAULT)
        assert (result.status, finding.severity) == (Status.PASS, S.WARNING)
        assert finding.message == "t.c default differs: 'USD' → 'EUR'::character varying"

    def test_a_default_lost_on_the_target_is_a_warning(self, migrate: Migrate) -> None:
        finding = only(
            migrate(*one_table(", n INTEGER DEFAULT 1", ", n bigint")).schema("t"), K.DEFAULT
        )
        assert finding.message == "t.n default differs: 1 → none"


class TestKeysAndIndexes:
    def test_a_different_primary_key_is_an_error(self, migrate: Migrate) -> None:
        result = migrate(
            "CREATE TABLE t (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));",
            "CREATE TABLE t (a bigint NOT NULL, b bigint NOT NULL, PRIMARY KEY (a));",
        ).schema("t")
        finding = only(result, K.PRIMARY_KEY)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert finding.message == "primary key differs: (a, b) → (a)"

    def test_a_missing_primary_key_is_an_error(self, migrate: Migrate) -> None:
        result = migrate(*one_table("", "")[:1], "CREATE TABLE t (id bigint NOT NULL);").schema("t")
        assert only(result, K.PRIMARY_KEY).message == "primary key differs: (id) → (none)"

    def test_a_missing_unique_constraint_is_an_error(self, migrate: Migrate) -> None:
        result = migrate(*one_table(", email TEXT UNIQUE", ", email text")).schema("t")
        finding = only(result, K.UNIQUE)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert finding.message == "unique (email) is missing on the target"

    def test_a_missing_unique_index_is_an_error_too(self, migrate: Migrate) -> None:
        source, target = one_table(", email TEXT", ", email text")
        result = migrate(source + "CREATE UNIQUE INDEX t_email ON t (email);", target).schema("t")
        assert only(result, K.UNIQUE).severity is S.ERROR

    def test_a_unique_index_and_a_unique_constraint_are_the_same_thing(
        self, migrate: Migrate
    ) -> None:
        source, target = one_table(", a TEXT, b TEXT", ", a text, b text, UNIQUE (b, a)")
        result = migrate(source + "CREATE UNIQUE INDEX t_ab ON t (a, b);", target).schema("t")
        assert result.findings == ()

    def test_a_unique_constraint_only_on_the_target_is_a_warning(self, migrate: Migrate) -> None:
        result = migrate(*one_table(", email TEXT", ", email text UNIQUE")).schema("t")
        assert (result.status, only(result, K.UNIQUE).severity) == (Status.PASS, S.WARNING)

    def test_a_missing_foreign_key_is_a_warning(self, migrate: Migrate) -> None:
        result = migrate(
            "CREATE TABLE p (id INTEGER PRIMARY KEY);"
            "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p);",
            "CREATE TABLE p (id bigint PRIMARY KEY);"
            "CREATE TABLE c (id bigint PRIMARY KEY, p_id bigint);",
        ).schema("c")
        finding = only(result, K.FOREIGN_KEY)
        assert (result.status, finding.severity) == (Status.PASS, S.WARNING)
        assert finding.message == "foreign key (p_id) → p(id) is missing on the target"

    def test_a_foreign_key_matches_by_columns_not_by_name(self, migrate: Migrate) -> None:
        result = migrate(
            "CREATE TABLE p (id INTEGER PRIMARY KEY);"
            "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));",
            "CREATE TABLE p (id bigint PRIMARY KEY);"
            "CREATE TABLE c (id bigint PRIMARY KEY,"
            " p_id bigint CONSTRAINT fk_whatever REFERENCES p (id));",
        ).schema("c")
        assert result.findings == ()

    def test_a_missing_index_is_a_warning(self, migrate: Migrate) -> None:
        source, target = one_table(", x TEXT", ", x text")
        result = migrate(source + "CREATE INDEX t_x ON t (x);", target).schema("t")
        finding = only(result, K.MISSING_INDEX)
        assert (result.status, finding.severity) == (Status.PASS, S.WARNING)
        assert finding.message.startswith("index on (x) is missing on the target")

    def test_an_index_matches_by_columns_not_by_name(self, migrate: Migrate) -> None:
        source, target = one_table(", x TEXT", ", x text")
        result = migrate(
            source + "CREATE INDEX IFK_x ON t (x);", target + "CREATE INDEX t_x_idx ON t (x);"
        ).schema("t")
        assert result.findings == ()

    def test_an_index_only_on_the_target_is_information(self, migrate: Migrate) -> None:
        source, target = one_table(", x TEXT", ", x text")
        result = migrate(source, target + "CREATE INDEX t_x ON t (x);").schema("t")
        assert only(result, K.EXTRA_INDEX).severity is S.INFO


class TestTablesAndViews:
    def test_a_table_missing_on_the_target_is_an_error(self, migrate: Migrate) -> None:
        migration = migrate("CREATE TABLE gone (id INTEGER PRIMARY KEY);", "SELECT 1;")
        result = migration.schema("gone")
        finding = only(result, K.MISSING_TABLE)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert finding.message == "table gone is missing on the target"

    def test_a_table_only_on_the_target_is_a_warning(self, migrate: Migrate) -> None:
        result = migrate("SELECT 1;", "CREATE TABLE fresh (id bigint PRIMARY KEY);").schema("fresh")
        assert (result.status, only(result, K.EXTRA_TABLE).severity) == (Status.PASS, S.WARNING)

    def test_a_missing_view_is_an_error(self, migrate: Migrate) -> None:
        source, target = one_table(", x TEXT", ", x text")
        result = migrate((source, "CREATE VIEW v AS SELECT id FROM t;"), target).views()
        finding = only(result, K.MISSING_VIEW)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert finding.message == "view v is missing on the target"

    def test_a_view_with_other_columns_is_a_warning(self, migrate: Migrate) -> None:
        source, target = one_table(", x TEXT", ", x text")
        result = migrate(
            (source, "CREATE VIEW v AS SELECT id, x FROM t;"),
            (target, "CREATE VIEW v AS SELECT id FROM t;"),
        ).views()
        finding = only(result, K.VIEW_COLUMNS)
        assert (result.status, finding.severity) == (Status.PASS, S.WARNING)
        assert (finding.source, finding.target) == ("id, x", "id")

    def test_a_view_only_on_the_target_is_information(self, migrate: Migrate) -> None:
        source, target = one_table("", "")
        result = migrate(source, (target, "CREATE VIEW v AS SELECT id FROM t;")).views()
        assert (result.status, only(result, K.EXTRA_VIEW).severity) == (Status.PASS, S.INFO)


class TestExpectedDifferences:
    narrowing = one_table(
        ", amount NUMERIC(12,2)", ", amount numeric(10,2)", "INSERT INTO t VALUES (1, 123456789.5);"
    )

    def test_a_matching_expected_difference_waives_the_finding(self, migrate: Migrate) -> None:
        plan = {
            "expected_differences": [
                waive("t", column="other", reason="not this one"),
                waive("t", column="amount", kind="type_narrowing", expires="2999-12-31"),
            ]
        }
        result = migrate(*self.narrowing, **plan).schema("t")
        finding = only(result, K.TYPE_NARROWING)
        assert result.status is Status.WAIVED
        assert finding.waived_by is not None
        assert (finding.waived_by.reason, finding.waived_by.reviewer) == (
            "accepted in TICKET-7",
            "Ana",
        )
        assert (finding.waived_by.expires, finding.waived_by.index) == ("2999-12-31", 1)
        assert not finding.blocking

    def test_an_expected_difference_without_kind_or_column_waives_anything_on_its_table(
        self, migrate: Migrate
    ) -> None:
        result = migrate(*self.narrowing, expected_differences=[waive("t")]).schema("t")
        assert result.status is Status.WAIVED

    def test_an_expired_expected_difference_waives_nothing(self, migrate: Migrate) -> None:
        yesterday = (date.today() - timedelta(days=1)).isoformat()
        plan = {"expected_differences": [waive("t", column="amount", expires=yesterday)]}
        result = migrate(*self.narrowing, **plan).schema("t")
        assert result.status is Status.FAIL
        assert only(result, K.TYPE_NARROWING).waived_by is None

    def test_an_expected_difference_of_another_kind_waives_nothing(self, migrate: Migrate) -> None:
        plan = {"expected_differences": [waive("t", column="amount", kind="nullability")]}
        assert migrate(*self.narrowing, **plan).schema("t").status is Status.FAIL

    def test_an_expected_difference_on_another_table_waives_nothing(self, migrate: Migrate) -> None:
        source, target = self.narrowing
        plan = {"expected_differences": [waive("u", column="amount")]}
        migration = migrate(
            source + "CREATE TABLE u (amount TEXT);",
            target + "CREATE TABLE u (amount text);",
            **plan,
        )
        assert migration.schema("t").status is Status.FAIL

    @pytest.mark.parametrize(
        "named", ["UnitPrice", "unit_price"], ids=["source-name", "target-name"]
    )
    def test_a_column_may_be_named_as_on_the_source_or_the_target(
        self, migrate: Migrate, named: str
    ) -> None:
        plan = {
            "renames": {"policy": "snake_case"},
            "expected_differences": [waive("InvoiceLine", column=named, kind="type_narrowing")],
        }
        migration = migrate(
            "CREATE TABLE InvoiceLine (InvoiceLineId INTEGER PRIMARY KEY, UnitPrice NUMERIC(12,2));"
            "INSERT INTO InvoiceLine VALUES (1, 123456789.5);",
            "CREATE TABLE invoice_line (invoice_line_id bigint PRIMARY KEY,"
            " unit_price numeric(10,2));",
            **plan,
        )
        result = migration.schema("invoice_line")
        assert result.status is Status.WAIVED
        assert only(result, K.TYPE_NARROWING).column == "unit_price"

    def test_one_waived_error_does_not_excuse_another(self, migrate: Migrate) -> None:
        source, target = one_table(
            ", amount NUMERIC(12,2), note TEXT",
            ", amount numeric(10,2)",
            "INSERT INTO t VALUES (1, 123456789.5, 'n');",
        )
        plan = {"expected_differences": [waive("t", column="amount")]}
        result = migrate(source, target, **plan).schema("t")
        assert result.status is Status.FAIL
        assert result.summary == "column t.note is missing on the target"

    def test_a_waived_missing_table_is_waived_in_the_row_count_too(self, migrate: Migrate) -> None:
        plan = {"expected_differences": [waive("gone", kind="missing_table")]}
        migration = migrate("CREATE TABLE gone (id INTEGER PRIMARY KEY);", "SELECT 1;", **plan)
        assert migration.schema("gone").status is Status.WAIVED
        assert migration.row_count("gone").status is Status.WAIVED

    def test_a_missing_view_can_be_waived_by_name(self, migrate: Migrate) -> None:
        source, target = one_table("", "")
        plan = {"expected_differences": [waive("v", kind="missing_view")]}
        result = migrate((source, "CREATE VIEW v AS SELECT id FROM t;"), target, **plan).views()
        assert result.status is Status.WAIVED

    def test_a_waiver_for_one_view_does_not_excuse_another(self, migrate: Migrate) -> None:
        source, target = one_table("", "")
        source += "CREATE VIEW a_gone AS SELECT id FROM t; CREATE VIEW b_kept AS SELECT id FROM t;"
        target += "CREATE VIEW b_kept AS SELECT id FROM t;"
        plan = {"expected_differences": [waive("b_kept", kind="missing_view")]}
        assert migrate(source, target, **plan).views().status is Status.FAIL


class TestRowCounts:
    def test_equal_counts_pass(self, migrate: Migrate) -> None:
        result = migrate(SHOP_SQLITE, SHOP_POSTGRES).row_count("invoice_line")
        assert (result.status, result.summary) == (Status.PASS, "3 rows on both sides")
        assert result.evidence == {"source": 3, "target": 3, "difference": 0}

    def test_missing_rows_fail_with_both_counts(self, migrate: Migrate) -> None:
        result = migrate(
            SHOP_SQLITE, (SHOP_POSTGRES, "DELETE FROM invoice_line WHERE line_no = 2;")
        ).row_count("invoice_line")
        finding = only(result, K.ROW_COUNT)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert finding.message == "invoice_line: target has 1 fewer rows (3 → 2)"
        assert result.evidence == {"source": 3, "target": 2, "difference": -1}

    def test_extra_rows_fail_too(self, migrate: Migrate) -> None:
        result = migrate(
            SHOP_SQLITE, (SHOP_POSTGRES, "INSERT INTO invoice_line VALUES (9, 9, 1, 1);")
        ).row_count("invoice_line")
        assert only(result, K.ROW_COUNT).message == "invoice_line: target has 1 more rows (3 → 4)"

    def test_a_table_missing_on_the_target_fails(self, migrate: Migrate) -> None:
        result = migrate(
            "CREATE TABLE gone (id INTEGER PRIMARY KEY); INSERT INTO gone VALUES (1);", "SELECT 1;"
        ).row_count("gone")
        assert result.status is Status.FAIL
        assert (
            only(result, K.MISSING_TABLE).message
            == "table gone is missing on the target (1 source rows)"
        )

    def test_a_table_only_on_the_target_is_skipped(self, migrate: Migrate) -> None:
        result = migrate(
            "SELECT 1;", "CREATE TABLE fresh (id int); INSERT INTO fresh VALUES (1);"
        ).row_count("fresh")
        assert (result.status, result.summary) == (
            Status.SKIP,
            "only on the target (1 rows); nothing to compare",
        )


def catalog(dialect: str, tables: dict[str, list[str]], views: tuple[str, ...] = ()) -> Catalog:
    """A catalog of text columns, enough for pairing tables."""
    return Catalog(
        dialect,
        None if dialect == "sqlite" else "public",
        tuple(
            Table(
                name,
                tuple(Column(c, "text", "text", True, None, i + 1) for i, c in enumerate(cols)),
            )
            for name, cols in tables.items()
        ),
        tuple(View(v, ()) for v in views),
    )


CHINOOK_SOURCE = catalog(
    "sqlite",
    {
        "Invoice": ["InvoiceId", "BillingPostalCode"],
        "InvoiceLine": ["InvoiceLineId", "UnitPrice"],
        "MediaType": ["MediaTypeId"],
        "sqlite_stat_like": ["x"],
    },
    views=("TopTracks",),
)
CHINOOK_TARGET = catalog(
    "postgres",
    {
        "invoice": ["invoice_id", "billing_postal_code"],
        "invoice_items": ["invoice_line_id", "unit_price"],
        "media_type": ["media_type_id"],
        "audit_log": ["id"],
    },
)


def scope(**sections: Any) -> Scope:
    plan = Plan.model_validate(
        {
            "name": "spec",
            "source": {"kind": "sqlite", "path": "a.db"},
            "target": {"kind": "postgres", "dsn_env": "T"},
            **sections,
        }
    )
    return build_scope(plan, CHINOOK_SOURCE, CHINOOK_TARGET)


def pairs(s: Scope) -> list[tuple[str, str | None, str | None]]:
    return [(p.id, p.source, p.target) for p in s.pairs]


class TestScope:
    renames = {"policy": "snake_case", "tables": {"InvoiceLine": "invoice_items"}}

    def test_source_tables_pair_with_their_renamed_target_tables(self) -> None:
        assert pairs(scope(renames=self.renames)) == [
            ("audit_log", None, "audit_log"),
            ("invoice", "Invoice", "invoice"),
            ("invoice_items", "InvoiceLine", "invoice_items"),
            ("media_type", "MediaType", "media_type"),
            ("sqlite_stat_like", "sqlite_stat_like", None),
        ]

    def test_columns_are_paired_through_the_renames(self) -> None:
        pair = scope(renames=self.renames).pair("invoice_items")
        assert pair.columns == (("InvoiceLineId", "invoice_line_id"), ("UnitPrice", "unit_price"))
        assert pair.target_column("UnitPrice") == "unit_price"

    def test_without_renames_differently_named_tables_do_not_pair(self) -> None:
        assert ("Invoice", "Invoice", None) in pairs(scope())
        assert ("invoice", None, "invoice") in pairs(scope())

    @pytest.mark.parametrize(
        ("include", "exclude", "expected"),
        [
            pytest.param(
                ["Invoice*"], [], ["invoice", "invoice_items"], id="include-by-source-name"
            ),
            pytest.param(["invoice_*"], [], ["invoice_items"], id="include-by-target-name"),
            pytest.param(
                ["*"],
                ["Media*", "sqlite_*"],
                ["audit_log", "invoice", "invoice_items"],
                id="exclude-by-source-name",
            ),
            pytest.param(
                ["*"],
                ["*_type", "audit_*", "sqlite_*"],
                ["invoice", "invoice_items"],
                id="exclude-by-target-name",
            ),
        ],
    )
    def test_include_and_exclude_globs_match_either_name(
        self, include: list[str], exclude: list[str], expected: list[str]
    ) -> None:
        selected = scope(renames=self.renames, tables={"include": include, "exclude": exclude})
        assert [p.id for p in selected.pairs] == expected

    def test_keys_may_be_given_under_the_source_or_the_target_name(self) -> None:
        # Named by its target name, a table's key columns are checked against the target table.
        s = scope(
            renames=self.renames,
            tables={"keys": {"Invoice": ["InvoiceId"], "media_type": ["media_type_id"]}},
        )
        assert s.pair("invoice").keys == ("InvoiceId",)
        assert s.pair("media_type").keys == ("media_type_id",)

    def test_a_key_under_the_source_name_wins_and_no_entry_means_no_key(self) -> None:
        s = scope(
            renames=self.renames,
            tables={"keys": {"InvoiceLine": ["UnitPrice"], "invoice_items": ["invoice_line_id"]}},
        )
        assert s.pair("invoice_items").keys == ("UnitPrice",)
        assert s.pair("invoice").keys == ()

    @pytest.mark.parametrize(
        ("sections", "key", "named", "hint"),
        [
            pytest.param(
                {"tables": {"keys": {"Invoce": ["InvoiceId"]}}},
                "tables.keys.Invoce",
                "Invoce",
                'Did you mean "Invoice"?',
                id="keys",
            ),
            pytest.param(
                {"tables": {"include": ["MediaTyp"]}},
                "tables.include: MediaTyp",
                "MediaTyp",
                'Did you mean "MediaType"?',
                id="include",
            ),
            pytest.param(
                {"renames": {"tables": {"InvoiceLines": "x"}}},
                "renames.tables.InvoiceLines",
                "InvoiceLines",
                'Did you mean "InvoiceLine"?',
                id="renamed-table",
            ),
            pytest.param(
                {"renames": {"columns": {"Invoices": {"a": "b"}}}},
                "renames.columns.Invoices",
                "Invoices",
                'Did you mean "Invoice"?',
                id="renamed-columns",
            ),
            pytest.param(
                {"expected_differences": [waive("audit_logs")]},
                "expected_differences.0.table",
                "audit_logs",
                'Did you mean "audit_log"?',
                id="expected-difference",
            ),
            pytest.param(
                {"expected_differences": [waive("zzz")]},
                "expected_differences.0.table",
                "zzz",
                "",
                id="nothing-close",
            ),
        ],
    )
    def test_a_table_the_plan_names_must_exist_on_one_side(
        self, sections: dict[str, Any], key: str, named: str, hint: str
    ) -> None:
        with pytest.raises(PlanError) as caught:
            scope(**sections)
        suffix = f" {hint}" if hint else ""
        assert str(caught.value) == (
            f"{key}: table '{named}' is in neither the source nor the target.{suffix}"
        )
        assert caught.value.key == key

    def test_a_view_may_be_named_in_an_expected_difference(self) -> None:
        assert scope(expected_differences=[waive("TopTracks")]).pairs

    def test_a_glob_that_matches_nothing_is_not_an_error(self) -> None:
        assert scope(tables={"include": ["nothing_*"]}).pairs == ()

    @pytest.mark.parametrize(
        ("sections", "message"),
        [
            pytest.param(
                {"renames": {"columns": {"Invoice": {"BillingPostCode": "zip"}}}},
                "renames.columns.Invoice: table 'Invoice' has no column 'BillingPostCode'. "
                'Did you mean "BillingPostalCode"?',
                id="renamed-column",
            ),
            pytest.param(
                {"tables": {"keys": {"audit_log": ["idd"]}}},
                "tables.keys.audit_log: table 'audit_log' has no column 'idd'. "
                'Did you mean "id"?',
                id="key-column",
            ),
        ],
    )
    def test_a_column_the_plan_names_must_exist(
        self, sections: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(PlanError) as caught:
            scope(**sections)
        assert str(caught.value) == message


class TestIndexesTheCheckCannotSeeYet:
    def test_the_same_expression_index_on_both_sides_is_not_a_difference(
        self, migrate: Migrate
    ) -> None:
        source, target = one_table(", x TEXT", ", x text")
        index = "CREATE INDEX t_lower_x ON t (lower(x));"
        assert migrate((source, index), (target, index)).schema("t").findings == ()

    def test_a_missing_partial_unique_index_is_reported(self, migrate: Migrate) -> None:
        source, target = one_table(", x TEXT", ", x text")
        index = "CREATE UNIQUE INDEX t_x_live ON t (x) WHERE x IS NOT NULL;"
        assert migrate((source, index), target).schema("t").findings != ()
