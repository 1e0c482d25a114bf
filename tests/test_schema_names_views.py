"""Schema parity earns its GO: identifiers compared as names, views compared by definition.

Each source is a real SQLite file (or a PostgreSQL database) loaded into a real PostgreSQL 16
by cutover's own embedded load (:func:`harness.embedded.migrate.copy_sqlite`), then checked
with :func:`check_table` / :func:`check_views`; a faithful copy must match, however each
server spells it, and a real difference must not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.embedded.migrate import copy_sqlite
from harness.embedded.provision import PostgresCluster
from harness.plan.model import Plan
from harness.results.check import CheckResult, FindingKind, Severity, Status
from tests.conftest import run_sql
from tests.schema_support import Migration, Opened, only

K, S = FindingKind, Severity


Load = Callable[..., Migration]


@pytest.fixture
def load(tmp_path: Path, pg_database: str, pg_cluster: PostgresCluster) -> Iterator[Load]:
    """``load(source_sql)`` copies a SQLite file with cutover's embedded load; ``then=`` is
    SQL run on the target afterwards (the drift under test); ``target_sql=`` builds the target
    by hand instead; ``source="postgres"`` makes the source a PostgreSQL database."""
    opened = Opened(pg_cluster)

    def build(
        source_sql: str,
        *,
        then: str = "",
        target_sql: str | None = None,
        source: str = "sqlite",
        naming: str = "none",
        **plan_sections: Any,
    ) -> Migration:
        path = tmp_path / "app.db"
        source_connector = opened.source(source_sql, source, path)
        if target_sql is None:
            copy_sqlite(path, pg_database, naming=naming)
        else:
            run_sql(pg_database, target_sql)
        if then:
            run_sql(pg_database, then)
        plan = Plan.model_validate(
            {
                "name": "names-and-views",
                "source": {"kind": "sqlite", "path": "unused.db"},
                "target": {"kind": "postgres", "dsn": pg_database},
                **({"renames": {"policy": naming}} if naming != "none" else {}),
                **plan_sections,
            }
        )
        return opened.migration(plan, source_connector, pg_database)

    yield build
    opened.close()


def messages(result: CheckResult) -> list[str]:
    return [f.message for f in result.findings]


# Case 8 ─ identifiers that need quotes ──────────────────────────────────────────────────────

QUOTED = """
CREATE TABLE t (id INTEGER PRIMARY KEY, "Code" TEXT, "order" INTEGER, note TEXT);
CREATE UNIQUE INDEX ux ON t ("Code");
CREATE INDEX ix ON t ("order");
CREATE INDEX ix_live ON t ("order") WHERE "Code" IS NOT NULL;
CREATE INDEX ix_lower ON t (lower("Code"));
INSERT INTO t VALUES (1, 'A', 1, NULL), (2, 'b', 2, 'x');
"""


class TestIdentifiersThatNeedQuotes:
    def test_a_faithful_copy_of_indexes_on_quoted_columns_matches(self, load: Load) -> None:
        result = load(QUOTED).schema("t")
        assert messages(result) == []
        assert (result.status, result.summary) == (Status.PASS, "schema matches")

    def test_index_key_columns_are_read_as_names(self, load: Load) -> None:
        """pg_get_indexdef quotes "Code" and "order"; the catalog holds names, as SQLite's."""
        loaded = load(QUOTED)
        for db in (loaded.source, loaded.target):
            table = db.catalog().table("t")
            assert table is not None
            keys = {i.name: i.columns for i in table.indexes}
            assert (keys["ux"], keys["ix"], keys["ix_live"]) == (("Code",), ("order",), ("order",))

    def test_a_unique_index_on_another_column_still_differs(self, load: Load) -> None:
        """PostgreSQL's "Code" and code are two columns: the same letters are not the same name."""
        source = (
            'CREATE TABLE t (id INTEGER PRIMARY KEY, "Code" TEXT);'
            'CREATE UNIQUE INDEX ux ON t ("Code");'
        )
        target = (
            'CREATE TABLE t (id bigint PRIMARY KEY, "Code" text, code text);'
            "CREATE UNIQUE INDEX ux ON t (code);"
        )
        result = load(source, target_sql=target).schema("t")
        assert result.status is Status.FAIL
        assert [(f.severity, f.message) for f in result.findings if f.kind is K.UNIQUE] == [
            (S.ERROR, "unique (Code) is missing on the target"),
            (
                S.WARNING,
                "unique (code) exists only on the target: "
                "writes the source accepted may be rejected",
            ),
        ]

    def test_an_index_on_another_quoted_column_still_differs(self, load: Load) -> None:
        source = (
            'CREATE TABLE t (id INTEGER PRIMARY KEY, "Code" TEXT, "order" INTEGER);'
            'CREATE INDEX ix ON t ("order");'
        )
        target = (
            'CREATE TABLE t (id bigint PRIMARY KEY, "Code" text, "order" bigint);'
            'CREATE INDEX ix ON t ("Code");'
        )
        result = load(source, target_sql=target).schema("t")
        assert only(result, K.MISSING_INDEX).message == (
            "index on (order) is missing on the target: queries filtering on it may slow down"
        )
        assert only(result, K.EXTRA_INDEX).message == "index on (Code) exists only on the target"

    def test_names_written_in_another_case_are_the_declared_columns(self, load: Load) -> None:
        """SQLite matches names case-insensitively: REFERENCES PARENT(ID) is "Parent"("Id"),
        lower(code) indexes "Code"; the copy and the comparison use the declared names."""
        source = """
        CREATE TABLE "Parent" ("Id" INTEGER PRIMARY KEY, "Code" TEXT);
        CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES PARENT(ID));
        CREATE INDEX parent_lower ON "Parent" (lower(code)) WHERE CODE IS NOT NULL;
        """
        loaded = load(source)
        child = loaded.source.catalog().table("child")
        assert child is not None
        (key,) = child.foreign_keys
        assert (key.ref_table, key.ref_columns) == ("Parent", ("Id",))
        for table in ("Parent", "child"):
            result = loaded.schema(table)
            assert (result.status, messages(result)) == (Status.PASS, [])

    def test_a_plain_and_a_partial_index_on_one_column_are_both_reported(self, load: Load) -> None:
        """Shapes without and with a predicate sort together (None and text never compare)."""
        source = (
            'CREATE TABLE t (id INTEGER PRIMARY KEY, "order" INTEGER);'
            'CREATE INDEX ix ON t ("order"); CREATE INDEX ix_set ON t ("order") WHERE "order" > 0;'
        )
        target = 'CREATE TABLE t (id bigint PRIMARY KEY, "order" bigint);'
        result = load(source, target_sql=target).schema("t")
        assert [f.source for f in result.findings if f.kind is K.MISSING_INDEX] == [
            "index on (order)",
            'index on (order) WHERE "order" > 0',
        ]

    def test_a_renamed_column_of_a_postgres_source_index_is_mapped(self, load: Load) -> None:
        source = (
            'CREATE TABLE t (id bigint PRIMARY KEY, "Code" text); CREATE INDEX ix ON t ("Code");'
        )
        target = "CREATE TABLE t (id bigint PRIMARY KEY, code text); CREATE INDEX ix ON t (code);"
        renames = {"renames": {"columns": {"t": {"Code": "code"}}}}
        result = load(source, target_sql=target, source="postgres", **renames).schema("t")
        assert (result.status, messages(result)) == (Status.PASS, [])


# Case 11 ─ views compared by definition ────────────────────────────────────────────────────

SHOP = """
CREATE TABLE "Customer" (
    "CustomerId" INTEGER PRIMARY KEY, "FirstName" NVARCHAR(40), "Credit" NUMERIC(10,2),
    "Joined" DATE, "Active" BOOLEAN, "Score" REAL, "Code" TEXT
);
CREATE TABLE "Invoice" (
    "InvoiceId" INTEGER PRIMARY KEY,
    "CustomerId" INTEGER REFERENCES "Customer" ("CustomerId"),
    "Total" NUMERIC(10,2)
);
CREATE VIEW big_spenders AS SELECT CustomerId, FirstName FROM Customer WHERE Credit > 100;
CREATE VIEW banded AS SELECT c.CustomerId, c.FirstName FROM Customer c
    WHERE c.Credit BETWEEN 10 AND 20 AND c.FirstName LIKE 'A%';
CREATE VIEW listed AS SELECT CustomerId FROM Customer
    WHERE Code IN ('a', 'b') AND CustomerId NOT IN (1, 2) OR Credit > -1;
CREATE VIEW spend AS SELECT c.CustomerId, sum(i.Total) AS spent, count(*) AS n
    FROM Customer AS c LEFT JOIN Invoice AS i ON i.CustomerId = c.CustomerId
    GROUP BY c.CustomerId HAVING sum(i.Total) > 100 ORDER BY spent DESC;
CREATE VIEW labels AS SELECT FirstName || ' ' || Code AS label, COALESCE(Credit, 0) AS credit,
    CASE WHEN Active THEN 'y' ELSE 'n' END AS flag
    FROM Customer WHERE Joined > '2020-01-01' AND Score > 1;
CREATE VIEW everyone AS SELECT CustomerId FROM Customer UNION SELECT CustomerId FROM Invoice;
CREATE VIEW on_view AS SELECT * FROM banded WHERE CustomerId > 5;
CREATE VIEW buyers AS SELECT c.CustomerId FROM Customer c
    WHERE EXISTS (SELECT 1 FROM Invoice i WHERE i.CustomerId = c.CustomerId)
    AND NOT (Credit < 5 OR Credit > 50) AND Credit NOT BETWEEN 1 AND 2;
CREATE VIEW firsts AS SELECT DISTINCT upper(FirstName) AS u FROM Customer
    WHERE Code IS NOT NULL AND FirstName NOT LIKE '%x%' ORDER BY u LIMIT 5 OFFSET 2;
CREATE VIEW derived AS SELECT t.CustomerId, t.total
    FROM (SELECT CustomerId, Total AS total FROM Invoice WHERE Total > 1.5) AS t;
CREATE VIEW with_cte AS WITH big AS (SELECT CustomerId FROM Invoice WHERE Total > 100)
    SELECT CustomerId FROM big;
CREATE VIEW casts AS SELECT CustomerId, CAST(Credit AS INTEGER) AS whole,
    CAST(CustomerId AS TEXT) AS label FROM Customer;
CREATE VIEW singles AS SELECT CustomerId, CustomerId % 3 AS bucket,
    (SELECT max(i.Total) FROM Invoice i WHERE i.CustomerId = c.CustomerId) AS top
    FROM Customer c WHERE Code IN ('a');
"""

SIMPLE = """
CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, c INTEGER, credit NUMERIC(10,2));
CREATE VIEW v AS SELECT id, a AS x, b AS y FROM t WHERE credit > 100 AND (a > 1 OR b > 1) AND c > 1;
"""


class TestViewDefinitions:
    @pytest.mark.parametrize("naming", ["none", "snake_case"])
    def test_a_faithful_copy_matches_however_each_server_renders_it(
        self, load: Load, naming: str
    ) -> None:
        result = load(SHOP, naming=naming).views()
        assert messages(result) == []
        assert (result.status, result.summary) == (Status.PASS, "13 view(s) match")

    def test_a_changed_where_clause_is_a_difference(self, load: Load) -> None:
        drift = (
            'CREATE OR REPLACE VIEW big_spenders AS SELECT "CustomerId", "FirstName"'
            ' FROM "Customer" WHERE "Credit" > 200;'
        )
        result = load(SHOP, then=drift).views()
        finding = only(result, K.VIEW_DEFINITION)
        assert (result.status, finding.severity, finding.table) == (
            Status.FAIL,
            S.ERROR,
            "big_spenders",
        )
        assert finding.message == (
            "view big_spenders definition differs on the target: it may return other rows"
        )
        assert '"Credit" > 100' in str(finding.source)
        assert '"Credit" > 200' in str(finding.target)

    @pytest.mark.parametrize(
        "changed",
        [
            pytest.param("credit > 100 AND a > 1 OR b > 1 AND c > 1", id="regrouped"),
            pytest.param("credit > 100 AND (a > 1 OR b > 1) AND c >= 1", id="operator"),
            pytest.param("credit > 100 AND (a > 1 OR b > 1)", id="dropped-condition"),
            pytest.param("credit > 100 AND (a > 1 OR c > 1) AND b > 1", id="other-column"),
        ],
    )
    def test_any_changed_condition_is_a_difference(self, load: Load, changed: str) -> None:
        drift = "CREATE OR REPLACE VIEW v AS SELECT id, a AS x, b AS y FROM t WHERE " + changed  # noqa: S608
        result = load(SIMPLE, then=drift).views()
        assert result.status is Status.FAIL
        assert only(result, K.VIEW_DEFINITION).severity is S.ERROR

    def test_the_unchanged_condition_in_other_words_matches(self, load: Load) -> None:
        same = (
            "CREATE OR REPLACE VIEW v AS SELECT t.id, t.a AS x, t.b AS y FROM t AS t"
            " WHERE ((t.credit > 100) AND ((t.a > 1) OR (t.b > 1)) AND t.c > 1);"
        )
        result = load(SIMPLE, then=same).views()
        assert (result.status, messages(result)) == (Status.PASS, [])

    def test_swapped_output_columns_are_a_difference(self, load: Load) -> None:
        drift = (
            "CREATE OR REPLACE VIEW v AS SELECT id, b AS x, a AS y FROM t"
            " WHERE credit > 100 AND (a > 1 OR b > 1) AND c > 1;"
        )
        result = load(SIMPLE, then=drift).views()
        assert result.status is Status.FAIL

    def test_other_columns_and_another_condition_are_both_reported(self, load: Load) -> None:
        source = (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT);"
            "CREATE VIEW v AS SELECT id, x FROM t WHERE id > 1;"
        )
        target = (
            "CREATE TABLE t (id bigint PRIMARY KEY, x text);"
            "CREATE VIEW v AS SELECT id FROM t WHERE id > 2;"
        )
        result = load(source, target_sql=target).views()
        assert [(f.severity, f.message) for f in result.findings] == [
            (S.WARNING, "view v columns differ"),
            (S.ERROR, "view v definition differs on the target: it may return other rows"),
        ]

    def test_a_definition_that_cannot_be_read_is_not_a_match(self, load: Load) -> None:
        """Fail closed: a VALUES view is copied, but its definition is not a query to compare."""
        result = load("CREATE VIEW pairs AS VALUES (1, 2), (3, 4);").views()
        finding = only(result, K.VIEW_DEFINITION)
        assert (result.status, finding.severity) == (Status.FAIL, S.ERROR)
        assert finding.message == (
            "view pairs: could not compare definitions (the source definition: it is not a query)"
        )

    @pytest.mark.parametrize(
        ("kind", "status"),
        [("view_definition", Status.WAIVED), ("view_columns", Status.FAIL)],  # its own kind only
    )
    def test_a_definition_difference_can_be_waived(
        self, load: Load, kind: str, status: Status
    ) -> None:
        drift = "CREATE OR REPLACE VIEW v AS SELECT id, a AS x, b AS y FROM t WHERE credit > 0;"
        waiver = {"table": "v", "kind": kind, "reason": "TICKET-9", "reviewer": "Ana"}
        result = load(SIMPLE, then=drift, expected_differences=[waiver]).views()
        assert result.status is status

    def test_the_normalised_definitions_are_evidence(self, load: Load) -> None:
        evidence = load(SIMPLE).views().evidence
        compared = evidence["definitions"]["v"]
        assert compared["source"] == compared["target"]
        assert '"credit" > 100' in compared["source"]
