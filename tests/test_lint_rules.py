"""Specification of the DSQL rule pack: every rule is documented, and its examples behave."""

from __future__ import annotations

import re
from datetime import date

import pytest

from harness.lint import RULES, lint_sql
from harness.lint.pack import SOURCES
from harness.lint.rule import Rule
from harness.results.check import Severity


def fired(sql: str, dialect: str = "postgres") -> set[str]:
    return {f.rule_id for f in lint_sql(sql, dialect=dialect).findings}


class TestRegistry:
    def test_ids_are_unique_and_well_formed(self) -> None:
        ids = [r.id for r in RULES]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(r"(DSQL|LINT)\d{3}", i) for i in ids)

    def test_names_are_unique_kebab_case(self) -> None:
        names = [r.name for r in RULES]
        assert len(names) == len(set(names))
        assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) for n in names)

    @pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
    def test_each_rule_is_documented_with_sources_and_a_date(self, rule: Rule) -> None:
        assert rule.summary
        assert rule.rationale
        assert rule.fix
        assert rule.bad
        assert rule.good
        assert rule.sources
        assert all(s in SOURCES for s in rule.sources)
        assert date.fromisoformat(rule.as_of) <= date(2026, 12, 31)
        assert rule.scope in ("statement", "transaction", "script")

    def test_the_pack_covers_at_least_the_reference_errors_and_warnings(self) -> None:
        # dsql-compat.md §1 rows with severity error or warning (info rows must not be rules).
        reference = {
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27, 28,
            29, 30, 31, 32, 33, 34, 40, 41, 42, 44, 46, 47, 48, 50, 51, 52, 53, 57, 58, 61, 62,
            63, 64, 65, 66, 67, 68, 69, 70, 71, 80, 81, 82, 84, 85, 86, 90, 91, 92, 93, 94, 95,
            96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112,
            113, 120, 121,
        }  # fmt: skip
        ids = {r.id for r in RULES}
        assert {f"DSQL{n:03d}" for n in reference} <= ids
        supported = {13, 14, 35, 43, 45, 54, 55, 56, 60, 72, 83, 87}  # "info" rows
        assert not ({f"DSQL{n:03d}" for n in supported} & ids)


UNANSWERED = {
    "DSQL000": "the linter could not read the statement: PostgreSQL's own answer decides",
    "DSQL015": "a limit of the whole schema, not an answer to one statement",
    "DSQL016": "a limit of the whole schema, not an answer to one statement",
    "DSQL090": "a transaction's rule: answered by the local DSQL's session",
    "DSQL091": "a transaction's rule: answered by the local DSQL's session",
    "DSQL111": "DSQL answers with PostgreSQL's own syntax error",
    "DSQL118": "DSQL answers with PostgreSQL 16's own syntax error",
    "DSQL130": "SQLite syntax: PostgreSQL's own syntax error",
}
"""Error rules that carry no answer of their own, and why."""


class TestAnswers:
    """Each refusal carries DSQL's SQLSTATE and words, the one source the local DSQL reads."""

    def test_every_error_rule_carries_dsqls_answer_or_a_reason_not_to(self) -> None:
        unanswered = {r.id for r in RULES if r.severity is Severity.ERROR and r.answer is None}
        assert unanswered == set(UNANSWERED)

    @pytest.mark.parametrize("rule", [r for r in RULES if r.answer], ids=lambda r: r.id)
    def test_an_answer_is_a_sqlstate_and_words_with_their_evidence(self, rule: Rule) -> None:
        assert rule.answer is not None
        assert re.fullmatch(r"[0-9A-Z]{5}", rule.answer.sqlstate)
        assert rule.answer.message.strip()
        assert rule.answer.message.count("{detail}") <= 1
        if rule.answer.recorded:  # the words of a real cluster's recording
            assert "S23" in rule.sources


class TestExamples:
    @pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
    def test_the_bad_example_fires_exactly_its_rule(self, rule: Rule) -> None:
        assert fired(rule.bad, rule.dialect) == {rule.id}

    @pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
    def test_the_good_example_fires_nothing(self, rule: Rule) -> None:
        assert fired(rule.good, rule.dialect) == set()


# What DSQL supports today although older advice says otherwise (dsql-compat.md §0).
SUPPORTED_NOW = {
    "foreign key inline": "CREATE TABLE c (id BIGINT PRIMARY KEY, p BIGINT REFERENCES p (id) "
    "ON DELETE CASCADE);",
    "foreign key table-level deferrable": "CREATE TABLE c (id BIGINT PRIMARY KEY, p BIGINT, "
    "FOREIGN KEY (p) REFERENCES p (id) MATCH FULL DEFERRABLE INITIALLY DEFERRED);",
    "foreign key added NOT VALID": "ALTER TABLE c ADD CONSTRAINT c_p_fk FOREIGN KEY (p) "
    "REFERENCES p (id) NOT VALID;",
    "validate async": "ALTER TABLE ASYNC c VALIDATE CONSTRAINT c_p_fk;",
    "set constraints": "SET CONSTRAINTS ALL DEFERRED;",
    "sequence cache 1": "CREATE SEQUENCE s CACHE 1;",
    "identity cache 1": "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 10 "
    "INCREMENT BY 1 CACHE 1) PRIMARY KEY);",
    "json and jsonb columns": "CREATE TABLE d (id UUID PRIMARY KEY, a JSON, b JSONB);",
    "expression index": "CREATE INDEX ASYNC d_kind ON d ((b ->> 'kind'));",
    "partial unique index": "CREATE UNIQUE INDEX ASYNC IF NOT EXISTS d_live ON d (id) "
    "INCLUDE (a) NULLS NOT DISTINCT WHERE b IS NOT NULL;",
    "unnamed async index": "CREATE INDEX ASYNC ON d (id);",
    "drop column": "ALTER TABLE d DROP COLUMN a;",
    "drop not null, set and drop default": "ALTER TABLE d ALTER COLUMN b DROP NOT NULL;",
    "set default": "ALTER TABLE d ALTER COLUMN b SET DEFAULT '{}';",
    "domain": "CREATE DOMAIN email AS TEXT CHECK (VALUE LIKE '%@%');",
    "view": "CREATE OR REPLACE VIEW v AS SELECT id FROM d WHERE b IS NOT NULL;",
    "statistics": "CREATE STATISTICS d_stats ON id, a FROM d;",
    "unique using index": "ALTER TABLE d ADD CONSTRAINT d_u UNIQUE USING INDEX d_live;",
    "for update and key share": "SELECT id FROM d WHERE id = $1 FOR UPDATE;",
    "for key share": "SELECT id FROM d WHERE id = $1 FOR KEY SHARE;",
    "copy from stdin": "COPY d (id) FROM STDIN;",
    "enable trigger no-op": "ALTER TABLE d ENABLE TRIGGER ALL;",
    "set storage": "ALTER TABLE d ALTER COLUMN b SET STORAGE EXTENDED;",
    "iam grant": "AWS IAM GRANT app TO 'arn:aws:iam::123456789012:role/app';",
    "wait for job": "CALL sys.wait_for_job('abc');",
    "language sql function": "CREATE FUNCTION f(x BIGINT) RETURNS BIGINT LANGUAGE sql "
    "IMMUTABLE RETURN x + 1;",
    "analyze": "ANALYZE d;",
    "repeatable read": "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;",
    "insert on conflict": "INSERT INTO d (id) VALUES (gen_random_uuid()) ON CONFLICT DO NOTHING;",
    "like including": "CREATE TABLE e (LIKE d INCLUDING ALL);",
    "generated stored": "CREATE TABLE g (a INT PRIMARY KEY, b INT GENERATED ALWAYS AS (a * 2) "
    "STORED);",
    "owner to": "ALTER TABLE d OWNER TO app;",
    "create role with login": "CREATE ROLE app WITH LOGIN;",
    "drop trigger if exists on": "DROP TRIGGER IF EXISTS t_touch ON d;",
}


@pytest.mark.parametrize("sql", SUPPORTED_NOW.values(), ids=SUPPORTED_NOW.keys())
def test_what_dsql_supports_today_fires_no_rule(sql: str) -> None:
    assert fired(sql) == set()


def test_a_nullable_column_added_with_null_is_not_called_not_null() -> None:
    """Issue 21, item 7: the plain NULL clause was reported as a NotNull constraint."""
    (finding,) = [f for f in lint_sql("ALTER TABLE t ADD COLUMN c UUID NULL;").findings]
    assert finding.rule_id == "DSQL080"
    assert "(NULL: nullable is the default, drop the word)" in finding.message
    assert "NOT NULL" not in finding.message.split("→")[0]


@pytest.mark.parametrize(
    ("sql", "fired"),
    [
        ("ALTER TABLE t ADD CONSTRAINT u UNIQUE (a, b);", set()),  # one action, a comma inside
        ("ALTER TABLE t ADD COLUMN a numeric(10,2), DROP COLUMN b;", {"DSQL117"}),
        ("ALTER TABLE t OWNER TO postgres_app;", set()),  # another role, which may exist
        ('ALTER SCHEMA app OWNER TO "postgres";', {"DSQL116"}),
        ("SELECT my_uuidv7(), uuidv7 FROM t;", set()),  # not the function, not a call
        ("CREATE VIEW v AS SELECT CaseFold(name) FROM t;", {"DSQL115"}),
    ],
)
def test_issue_21s_unconfirmed_warnings_fire_where_they_should(sql: str, fired: set[str]) -> None:
    """Issue 21, items 3, 4 and 8: newer functions, OWNER TO postgres, several ALTER actions."""
    found = {f.rule_id for f in lint_sql(sql).findings}
    assert found & {"DSQL115", "DSQL116", "DSQL117"} == fired


def test_a_statement_with_newer_syntax_keeps_its_other_findings() -> None:
    """Issue 21, item 2: a PostgreSQL 18 VIRTUAL column made the whole CREATE TABLE 'could not
    parse', so its array, tsvector and enum columns went unreported."""
    found = lint_sql(
        "CREATE TYPE mood AS ENUM ('a', 'b');\n"
        "CREATE TABLE doc (id uuid PRIMARY KEY, tags text[], body tsvector, m mood,"
        " total numeric(10,2) GENERATED ALWAYS AS (1 + 2) VIRTUAL);"
    ).findings
    rules = {f.rule_id for f in found}
    assert {"DSQL118", "DSQL041", "DSQL042", "DSQL040"} <= rules
    assert "DSQL000" not in rules
