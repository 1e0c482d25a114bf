"""Specification of the lint engine: splitting, classification, transactions, suppressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lint import Verdict, lint_paths, lint_sql
from harness.lint.report import FileReport
from harness.lint.split import split

DATA = Path(__file__).parent / "data" / "lint"


def rules(report: FileReport, *, suppressed: bool = False) -> list[str]:
    return [f.rule_id for f in report.findings if suppressed or f.suppressed_by is None]


class TestSplitting:
    def test_semicolons_inside_quotes_comments_and_dollar_bodies_do_not_split(self) -> None:
        script = split(
            "SELECT 'a;b', \"c;d\", E'it\\'s;';\n"
            "/* x; /* nested; */ */ SELECT $tag$ ; $tag$;\n"
            "-- a comment; with a semicolon\nSELECT 3"
        )
        assert [s.text.split()[0] for s in script.statements] == ["SELECT"] * 3
        assert script.position(script.statements[2].start) == (4, 1)

    def test_a_sqlite_trigger_body_is_one_statement(self) -> None:
        script = split(
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET c = 1; END; SELECT 1;"
        )
        assert len(script.statements) == 2

    def test_copy_data_and_psql_meta_commands_are_not_statements(self) -> None:
        script = split("\\restrict k\nCOPY t (a) FROM stdin;\n1\n2\n3\n\\.\nSELECT 1;\n")
        kinds = [(s.meta, s.copy_rows, s.text.split()[0]) for s in script.statements]
        assert kinds == [(True, -1, "\\restrict"), (False, 3, "COPY"), (False, -1, "SELECT")]


class TestNeverSkips:
    def test_the_pg_dump_of_a_real_application_has_no_unclassified_statement(self) -> None:
        report = lint_sql((DATA / "pg_dump" / "shop.sql").read_text(), path="shop.sql")
        counts = report.verdict_counts()
        assert counts["unanalysed"] == 0
        assert sum(counts.values()) == len(report.statements) == 90
        kinds = {s.kind for s in report.statements}
        for kind in ("CREATE EXTENSION", "CREATE TYPE", "CREATE DOMAIN", "CREATE FUNCTION",
                     "CREATE AGGREGATE", "CREATE TRIGGER", "CREATE SEQUENCE", "CREATE INDEX",
                     "CREATE MATERIALIZED VIEW", "ALTER TABLE", "COPY", "REFRESH"):  # fmt: skip
            assert kind in kinds

    def test_every_statement_with_a_verdict_of_finding_has_a_finding_and_clean_has_none(
        self,
    ) -> None:
        report = lint_sql((DATA / "pg_dump" / "shop.sql").read_text())
        with_findings = {f.statement for f in report.findings}
        for s in report.statements:
            assert (s.index in with_findings) == (s.verdict is not Verdict.CLEAN), s

    @pytest.mark.parametrize(
        "sql",
        [
            "CREATE FROBNICATOR x;",
            "FROBNICATE;",
            "SELECT FROM WHERE ((;",
            "SECURITY LABEL FOR selinux ON TABLE t IS 'x';",
        ],
    )
    def test_what_cannot_be_analysed_is_reported_never_passed(self, sql: str) -> None:
        report = lint_sql(sql)
        assert rules(report) == ["DSQL000"]
        assert report.statements[0].verdict is Verdict.UNANALYSED

    def test_one_bad_statement_does_not_stop_the_rest_of_the_file(self) -> None:
        report = lint_sql("SELECT FROM WHERE ((;\nTRUNCATE t;\nSELECT 1;")
        assert rules(report) == ["DSQL000", "DSQL105"]
        assert [s.verdict.value for s in report.statements] == ["unanalysed", "finding", "clean"]


class TestPgDumpIdioms:
    def test_serial_idiom_and_separate_primary_keys_are_explained(self) -> None:
        report = lint_sql(
            "CREATE TABLE t (id integer NOT NULL);\n"
            "CREATE SEQUENCE t_id_seq AS integer START WITH 1 INCREMENT BY 1 CACHE 1;\n"
            "ALTER SEQUENCE t_id_seq OWNED BY t.id;\n"
            "ALTER TABLE ONLY t ALTER COLUMN id SET DEFAULT nextval('t_id_seq'::regclass);\n"
            "ALTER TABLE ONLY t ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n"
            "ALTER TABLE t OWNER TO app;\n"
        )
        assert rules(report) == ["DSQL025", "DSQL031"]
        assert "SERIAL" in report.findings[0].message
        assert "pg_dump" in report.findings[1].message

    def test_columns_typed_with_a_domain_the_script_creates_are_fine(self) -> None:
        sql = "CREATE DOMAIN email AS TEXT;\nCREATE TABLE u (id BIGINT PRIMARY KEY, e email);"
        assert rules(lint_sql(sql)) == []
        enum = "CREATE TYPE mood AS ENUM ('a');\nCREATE TABLE u (id BIGINT PRIMARY KEY, m mood);"
        assert rules(lint_sql(enum)) == ["DSQL044", "DSQL040"]


class TestOneSchemaPerRun:
    """The files of one run are migrations in order: what an earlier file creates is known in
    a later one (a domain, an enum type, a table's primary key)."""

    def migrations(self, tmp_path: Path, files: dict[str, str]) -> dict[str, list[str]]:
        for name, sql in files.items():
            (tmp_path / name).write_text(sql)
        report = lint_paths([tmp_path], jobs=1)
        return {Path(f.path).name: rules(f) for f in report.files}

    def test_a_domain_created_in_an_earlier_file_is_a_known_type(self, tmp_path: Path) -> None:
        found = self.migrations(
            tmp_path,
            {  # V10 runs after V1 (Flyway's order), though "V10_" sorts before "V1__" as text
                "V1__domain.sql": "CREATE DOMAIN email AS TEXT;",
                "V10__table.sql": "CREATE TABLE u (id BIGINT PRIMARY KEY, e email);",
            },
        )
        assert list(found.items()) == [("V1__domain.sql", []), ("V10__table.sql", [])]

    def test_an_enum_from_an_earlier_file_is_named_as_its_type(self, tmp_path: Path) -> None:
        tmp_path.joinpath("V1__types.sql").write_text("CREATE TYPE mood AS ENUM ('a');")
        tmp_path.joinpath("V2__table.sql").write_text(
            "CREATE TABLE u (id BIGINT PRIMARY KEY, m mood);"
        )
        report = lint_paths([tmp_path], jobs=1)
        later = report.files[1]
        assert rules(later) == ["DSQL040"]
        assert "created by an earlier file; DSQL044" in later.findings[0].message

    def test_dropping_a_key_column_of_a_table_an_earlier_file_created_is_dsql084(
        self, tmp_path: Path
    ) -> None:
        found = self.migrations(
            tmp_path,
            {
                "V1__orders.sql": "CREATE TABLE orders (id UUID PRIMARY KEY, note TEXT);",
                "V2__note.sql": "ALTER TABLE orders DROP COLUMN note;",
                "V10__id.sql": "ALTER TABLE orders DROP COLUMN id;",
            },
        )
        assert found == {"V1__orders.sql": [], "V2__note.sql": [], "V10__id.sql": ["DSQL084"]}

    def test_a_file_linted_alone_knows_only_itself(self) -> None:
        assert rules(lint_sql("CREATE TABLE u (id BIGINT PRIMARY KEY, e email);")) == ["DSQL040"]
        assert rules(lint_sql("ALTER TABLE orders DROP COLUMN id;")) == []


class TestConsequences:
    """What fails because an earlier statement of the script was rejected is reported under
    the rule that rejected it, as a comment on a rejected extension is."""

    def test_a_view_using_a_rejected_aggregate_fails_with_it(self) -> None:
        report = lint_sql(
            "CREATE AGGREGATE shop.concat_all(text) (SFUNC = textcat, STYPE = text);\n"
            "CREATE VIEW v AS SELECT shop.concat_all(name) FROM t;\n"
        )
        assert rules(report) == ["DSQL075", "DSQL075"]
        consequence = report.findings[1]
        assert (consequence.line, consequence.col) == (2, 30)
        assert "concat_all()" in consequence.message
        assert "statement 1" in consequence.message

    def test_statements_on_a_rejected_function_fail_with_it(self) -> None:
        report = lint_sql(
            "CREATE FUNCTION shop.log_order() RETURNS trigger LANGUAGE plpgsql\n"
            "  AS $$ BEGIN RETURN NEW; END $$;\n"
            "ALTER FUNCTION shop.log_order() OWNER TO admin;\n"
            "COMMENT ON FUNCTION shop.log_order() IS 'audit';\n"
            "GRANT EXECUTE ON FUNCTION shop.log_order() TO app;\n"
            "SELECT shop.log_order();\n"
        )
        assert rules(report) == ["DSQL063"] * 5
        assert all("log_order" in f.message for f in report.findings[1:])

    def test_a_function_created_in_a_form_dsql_accepts_is_not_a_consequence(self) -> None:
        report = lint_sql(
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
            "ALTER FUNCTION f() OWNER TO admin;\n"
            "CREATE VIEW v AS SELECT f();\n"
        )
        assert rules(report) == []

    def test_a_replacement_dsql_accepts_ends_the_consequences(self) -> None:
        report = lint_sql(
            "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\n"
            "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
            "CREATE VIEW v AS SELECT f();\n"
        )
        assert rules(report) == ["DSQL063"]


class TestTransactions:
    def test_each_statement_outside_begin_is_its_own_transaction(self) -> None:
        sql = "CREATE TABLE a (id BIGINT PRIMARY KEY);\nINSERT INTO a VALUES (1);\n"
        assert rules(lint_sql(sql)) == []
        assert rules(lint_sql(sql, assume_in_transaction=True)) == ["DSQL091"]

    def test_the_second_ddl_in_a_transaction_is_the_one_reported(self) -> None:
        report = lint_sql(
            "BEGIN;\nCREATE TABLE a (id BIGINT PRIMARY KEY);\n"
            "CREATE TABLE b (id BIGINT PRIMARY KEY);\n"
            "CREATE TABLE c (id BIGINT PRIMARY KEY);\nCOMMIT;"
        )
        assert [(f.rule_id, f.line) for f in report.findings] == [("DSQL090", 3)]

    @pytest.mark.parametrize(("rows", "fires"), [(3000, False), (3001, True)])
    def test_the_row_limit_is_inclusive_at_3000(self, rows: int, fires: bool) -> None:
        values = ", ".join(f"({i})" for i in range(rows))
        report = lint_sql("INSERT INTO t (id) VALUES " + values + ";")  # noqa: S608 (linted, never run)
        assert ("DSQL120" in rules(report)) is fires

    def test_rows_add_up_across_a_transaction(self) -> None:
        values = ", ".join(f"({i})" for i in range(2000))
        sql = f"BEGIN;\nINSERT INTO t VALUES {values};\nINSERT INTO t VALUES {values};\nCOMMIT;"
        report = lint_sql(sql)
        assert [(f.rule_id, f.line) for f in report.findings] == [("DSQL120", 3)]

    def test_a_large_copy_block_is_over_the_row_limit(self) -> None:
        data = "".join(f"{i}\n" for i in range(3001))
        assert rules(lint_sql(f"COPY t (id) FROM stdin;\n{data}\\.\n")) == ["DSQL120"]

    @pytest.mark.parametrize(
        "sql",
        ["UPDATE t SET a = 1;", "DELETE FROM t;", "INSERT INTO t SELECT * FROM u;"],
    )
    def test_statements_that_may_touch_every_row_are_flagged(self, sql: str) -> None:
        assert rules(lint_sql(sql)) == ["DSQL120"]

    def test_bounded_statements_are_not(self) -> None:
        sql = "UPDATE t SET a = 1 WHERE id = 3;\nINSERT INTO t SELECT * FROM u LIMIT 1000;"
        assert rules(lint_sql(sql)) == []

    @pytest.mark.parametrize(
        ("sql", "rule"),
        [
            ("START TRANSACTION ISOLATION LEVEL READ COMMITTED;", "DSQL092"),
            ("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE;", "DSQL093"),
            ("SET LOCAL transaction_isolation = 'read committed';", "DSQL094"),
            ("RELEASE SAVEPOINT a;", "DSQL096"),
            ("ROLLBACK TO SAVEPOINT a;", "DSQL096"),
        ],
    )
    def test_transaction_control_dsql_rejects(self, sql: str, rule: str) -> None:
        assert rules(lint_sql(sql)) == [rule]


class TestSuppression:
    def test_a_reasoned_comment_suppresses_and_the_finding_stays_visible(self) -> None:
        report = lint_sql(
            "-- cutover: ignore[DSQL105] scratch table, emptied by the job\nTRUNCATE t;"
        )
        assert rules(report) == []
        (finding,) = report.findings
        assert finding.suppressed_by is not None
        assert finding.suppressed_by.reason == "scratch table, emptied by the job"

    def test_a_trailing_comment_on_the_same_line_applies_to_that_statement(self) -> None:
        report = lint_sql("TRUNCATE a; -- cutover: ignore[DSQL105] fixture\nTRUNCATE b;")
        assert [(f.line, f.suppressed_by is None) for f in report.findings] == [
            (1, False),
            (2, True),
        ]

    def test_without_a_reason_nothing_is_suppressed(self) -> None:
        report = lint_sql("-- cutover: ignore[DSQL105]\nTRUNCATE t;")
        assert sorted(rules(report)) == ["DSQL105", "LINT001"]

    def test_an_unknown_rule_is_reported(self) -> None:
        report = lint_sql("-- cutover: ignore[DSQL10S] typo\nTRUNCATE t;")
        assert sorted(rules(report)) == ["DSQL105", "LINT002"]

    def test_a_file_level_directive_covers_every_statement(self) -> None:
        sql = "-- cutover: ignore-file[DSQL105] fixtures\nTRUNCATE a;\nTRUNCATE b;\nVACUUM;"
        assert rules(lint_sql(sql)) == ["DSQL106"]

    def test_only_the_named_rule_is_suppressed(self) -> None:
        sql = "-- cutover: ignore[DSQL050] reviewed\nCREATE INDEX i ON t USING gin (a);"
        assert rules(lint_sql(sql)) == ["DSQL053"]


class TestFingerprints:
    def test_they_survive_lines_moving_and_tell_duplicates_apart(self) -> None:
        sql = "TRUNCATE a;\nTRUNCATE  a;\n"
        before = lint_sql(sql)
        after = lint_sql("-- new header\n\nSELECT 1;\n" + sql)
        assert [f.fingerprint for f in before.findings] == [f.fingerprint for f in after.findings]
        assert len({f.fingerprint for f in before.findings}) == 2
        assert [f.line for f in after.findings] == [4, 5]
