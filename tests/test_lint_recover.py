"""A statement sqlglot cannot parse is read in parts: the syntax it does not know is named,
and every other finding of the statement survives (issue 21, item 2)."""

from __future__ import annotations

import pytest

from harness.lint import Verdict, lint_sql
from harness.lint.report import FileReport


def rules(report: FileReport) -> set[str]:
    return {f.rule_id for f in report.findings}


@pytest.mark.parametrize(
    ("sql", "fired"),
    [
        pytest.param(
            "CREATE TABLE t (id bigint PRIMARY KEY, c int CHECK (c > 0) NO INHERIT, tags text[])",
            {"DSQL041"},
            id="no-inherit-is-in-dsqls-grammar",
        ),
        pytest.param(
            "CREATE TABLE t (id bigint PRIMARY KEY, b text STORAGE PLAIN, ip inet)",
            {"DSQL042"},
            id="column-storage-is-recorded-as-accepted",
        ),
        pytest.param(
            "ALTER TABLE t ADD COLUMN d text STORAGE PLAIN", set(), id="add-column-storage"
        ),
        pytest.param(
            "CREATE TABLE t (id bigint PRIMARY KEY, b text COMPRESSION lz4)",
            {"DSQL086"},
            id="column-compression",
        ),
        pytest.param(
            "CREATE TABLE t (id bigint, during tstzrange, "
            "PRIMARY KEY (id, during WITHOUT OVERLAPS))",
            {"DSQL119", "DSQL042"},
            id="temporal-key-pg18",
        ),
        pytest.param(
            "CREATE TABLE t (id bigint PRIMARY KEY, c int, CHECK (c > 0) NOT ENFORCED, m mood)",
            {"DSQL119", "DSQL040"},
            id="not-enforced-pg18",
        ),
        pytest.param(
            "ALTER TABLE t ADD COLUMN v text GENERATED ALWAYS AS (lower(x)) VIRTUAL",
            {"DSQL118", "DSQL080"},
            id="virtual-column-added",
        ),
        pytest.param(
            "CREATE VIEW v AS SELECT line(a, b) FROM t WITH LOCAL CHECK OPTION",
            {"DSQL040"},
            id="view-check-option",
        ),
        pytest.param(
            "CREATE RECURSIVE VIEW v (n) AS SELECT 1 UNION ALL SELECT n + 1 FROM v WHERE n < 3",
            set(),
            id="recursive-view",
        ),
        pytest.param("CREATE TABLE t OF pair", {"DSQL044"}, id="typed-table"),
    ],
)
def test_known_forms_are_read_and_the_rest_of_the_statement_is_analysed(
    sql: str, fired: set[str]
) -> None:
    report = lint_sql(sql)
    assert rules(report) == fired
    assert report.statements[0].verdict is not Verdict.UNANALYSED


class TestParts:
    def test_an_unknown_element_is_named_and_the_other_columns_keep_their_findings(self) -> None:
        report = lint_sql(
            "CREATE TABLE t (\n  id bigint PRIMARY KEY,\n  tags text[],\n  doc tsvector,\n"
            "  FOREIGN KEY (id) REFERENCES u ON DELETE SET NULL (id)\n)"
        )
        assert rules(report) == {"DSQL041", "DSQL042", "DSQL000"}
        (unread,) = [f for f in report.findings if f.rule_id == "DSQL000"]
        assert "ON DELETE SET NULL (id)" in unread.message
        assert "the rest of the statement was analysed" in unread.message
        assert (unread.line, unread.col) == (5, 3)
        assert report.statements[0].verdict is Verdict.UNANALYSED

    def test_a_column_that_cannot_be_read_still_has_its_type_checked(self) -> None:
        report = lint_sql("CREATE TABLE t (id bigint PRIMARY KEY, ip inet FROBNICATE 3)")
        assert rules(report) == {"DSQL042", "DSQL000"}

    def test_an_unknown_type_in_an_unread_column_may_be_a_domain_of_the_script(self) -> None:
        report = lint_sql(
            "CREATE DOMAIN email AS text;\n"
            "CREATE TABLE t (id bigint PRIMARY KEY, e email FROBNICATE 3)"
        )
        assert rules(report) == {"DSQL000"}

    def test_what_cannot_be_read_at_all_is_still_reported_never_passed(self) -> None:
        report = lint_sql("CREATE TABLE t (id bigint PRIMARY KEY")
        assert rules(report) == {"DSQL000"}
        assert "could not parse" in report.findings[0].message
