"""Query-result parity (:mod:`harness.queries`): corpus, parameters, comparison, the check.

Real components throughout: a SQLite file as the source and a database in the worker's
embedded PostgreSQL 16 as the target, both opened read-only the way a run opens them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.db.database import Database, PostgresDatabase
from harness.db.typemap import TypeInfo
from harness.endpoints.resolve import Connector, open_database
from harness.errors import PlanError
from harness.queries.answers import Answer, QueryFailed, run
from harness.queries.check import check_query
from harness.queries.compare import compare
from harness.queries.corpus import load_corpus
from harness.queries.params import draw, param_sets
from harness.queries.settings import Query, QuerySettings
from harness.results.check import FindingKind, Status
from tests.conftest import run_sql

ROWS = [
    (1, "ada", 12.5, "2024-01-05 10:00:00", 1),
    (2, "bob", 0.1 + 0.2, "2024-01-06 11:30:00.250", 0),
    (3, "ada", 100, "2024-02-01 00:00:00", 1),
    (4, "cy", None, "2024-02-03 08:15:00", 0),
    (5, "Émile", 7.25, "2024-03-09 23:59:59", 1),
]

SQLITE_SCHEMA = (
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer VARCHAR(40) NOT NULL,"
    " amount NUMERIC(10,2), placed_at TIMESTAMP NOT NULL, paid BOOLEAN NOT NULL)"
)
PG_SCHEMA = (
    "CREATE TABLE orders (id bigint PRIMARY KEY, customer varchar(40) NOT NULL,"
    " amount numeric(10,2), placed_at timestamp NOT NULL, paid boolean NOT NULL);"
    "INSERT INTO orders VALUES (1, 'ada', 12.50, '2024-01-05 10:00', true),"
    " (2, 'bob', 0.30, '2024-01-06 11:30:00.25', false), (3, 'ada', 100, '2024-02-01', true),"
    " (4, 'cy', NULL, '2024-02-03 08:15', false), (5, 'Émile', 7.25, '2024-03-09 23:59:59', true);"
)


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute(SQLITE_SCHEMA)
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", ROWS)
    conn.commit()
    conn.close()
    db = open_database(Connector("source", "sqlite", "sqlite", str(path), "sqlite:app.db"))
    yield db
    db.close()


@pytest.fixture
def target(pg_database: str) -> Iterator[Database]:
    run_sql(pg_database, PG_SCHEMA)
    db = open_database(Connector("target", "postgres", "postgres", pg_database, "pg", "public"))
    yield db
    db.close()


def settings(**queries: dict[str, Any]) -> QuerySettings:
    return QuerySettings.model_validate({"corpus": queries})


def one(settings: QuerySettings, name: str = "q") -> Any:
    specs = {
        s.name: s for s in load_corpus(settings, source_dialect="sqlite", target_dialect="postgres")
    }
    return specs[name]


def run_check(source: Database, target: Database, **query: Any) -> Any:
    section = settings(q=query)
    spec = one(section)
    sets = param_sets(
        "q",
        fixed=spec.query.params,
        generate=spec.query.generate,
        samples=spec.query.samples or section.samples,
        seed=section.seed,
        source=source,
    )
    return check_query(spec, sets, source_db=source, target_db=target, settings=section)


class TestCorpus:
    def test_a_sqlite_query_is_transpiled_for_postgres_and_both_texts_are_kept(self) -> None:
        spec = one(
            settings(
                q={
                    "sql": "SELECT ifnull(amount, 0) FROM orders WHERE customer = :c",
                    "params": [{"c": "ada"}],
                }
            )
        )
        assert spec.source.text == "SELECT ifnull(amount, 0) FROM orders WHERE customer = :c"
        assert spec.source.origin == "as written"
        assert spec.target.text == "SELECT COALESCE(amount, 0) FROM orders WHERE customer = %(c)s"
        assert spec.target.shown == "SELECT COALESCE(amount, 0) FROM orders WHERE customer = :c"
        assert spec.target.origin.startswith("transpiled by sqlglot ")
        assert spec.params == {"c"}

    def test_literal_percent_signs_are_doubled_for_psycopg_but_casts_are_not_parameters(
        self,
    ) -> None:
        spec = one(
            settings(
                q={
                    "dialects": {"postgres": "SELECT x::int FROM t WHERE n LIKE 'a%' AND y = :y"},
                    "sql": "SELECT x FROM t WHERE n LIKE 'a%' AND y = :y",
                    "params": [{"y": 1}],
                }
            )
        )
        assert spec.target.text == "SELECT x::int FROM t WHERE n LIKE 'a%%' AND y = %(y)s"
        assert spec.target.origin == "given for postgres"

    def test_order_by_makes_a_query_ordered_unless_the_plan_says(self) -> None:
        assert one(settings(q={"sql": "SELECT 1 FROM t ORDER BY 1"})).ordered is True
        assert one(settings(q={"sql": "SELECT 1 FROM t"})).ordered is False
        assert (
            one(settings(q={"sql": "SELECT 1 FROM t ORDER BY 1", "ordered": False})).ordered
            is False
        )

    def test_a_syntax_error_is_kept_as_the_target_side_problem(self) -> None:
        spec = one(settings(q={"sql": "SELEC * FROM orders"}))
        assert spec.target.text is None
        assert spec.target.problem is not None
        assert spec.target.problem.startswith("syntax error at line 1, column")

    def test_queries_load_from_files_and_folders_with_per_dialect_variants(
        self, tmp_path: Path
    ) -> None:
        folder = tmp_path / "sql"
        folder.mkdir()
        (folder / "totals.sql").write_text("SELECT count(*) FROM orders;\n", encoding="utf-8")
        (folder / "dates.sqlite.sql").write_text("SELECT date('now')", encoding="utf-8")
        (folder / "dates.postgres.sql").write_text("SELECT current_date", encoding="utf-8")
        section = QuerySettings(paths=(folder,))
        specs = {
            s.name: s
            for s in load_corpus(section, source_dialect="sqlite", target_dialect="postgres")
        }
        assert sorted(specs) == ["dates", "totals"]
        assert specs["totals"].source.text == "SELECT count(*) FROM orders"
        assert specs["dates"].source.text == "SELECT date('now')"
        assert specs["dates"].target.text == "SELECT current_date"

    def test_a_missing_path_is_a_plan_error(self, tmp_path: Path) -> None:
        with pytest.raises(PlanError, match="not found"):
            load_corpus(
                QuerySettings(paths=(tmp_path / "nope",)),
                source_dialect="sqlite",
                target_dialect="postgres",
            )

    def test_a_parameter_the_query_does_not_use_is_a_plan_error_with_a_hint(self) -> None:
        with pytest.raises(PlanError, match=r"parameter 'custmer' is not used .* Did you mean"):
            one(settings(q={"sql": "SELECT 1 WHERE :customer = 1", "params": [{"custmer": 1}]}))

    def test_a_parameter_without_a_value_or_a_column_is_a_plan_error(
        self, source: Database
    ) -> None:
        section = settings(q={"sql": "SELECT 1 WHERE :customer = 1"})
        with pytest.raises(PlanError, match=r"cannot tell which column :customer stands for"):
            draw(one(section), section, source)

    def test_a_parameter_without_a_value_is_drawn_from_the_column_it_is_compared_with(
        self, source: Database
    ) -> None:
        section = settings(q={"sql": "SELECT id FROM orders WHERE customer = :customer"})
        sets = draw(one(section), section, source)
        assert len(sets) == section.samples
        assert {s["customer"] for s in sets} <= {"ada", "bob", "cy", "Émile"}

    def test_a_query_needs_sql(self) -> None:
        with pytest.raises(ValueError, match="needs 'sql', 'file' or 'dialects'"):
            Query()


class TestParams:
    def test_generated_sets_are_the_same_for_the_same_seed(self, source: Database) -> None:
        generate = (
            QuerySettings.model_validate(
                {
                    "corpus": {
                        "q": {
                            "sql": "SELECT :n, :c, :d, :k",
                            "generate": {
                                "n": {"kind": "integers", "min": 1, "max": 9},
                                "c": {"kind": "column", "column": "orders.customer"},
                                "d": {"kind": "dates", "start": "2024-01-01", "end": "2024-01-31"},
                                "k": {"kind": "choices", "values": ["x", "y"]},
                            },
                        }
                    }
                }
            )
            .corpus["q"]
            .generate
        )
        draw = lambda seed: param_sets(  # noqa: E731
            "q", fixed=(), generate=generate, samples=20, seed=seed, source=source
        )
        first = draw(1)
        assert first == draw(1)
        assert first != draw(2)
        assert {p["c"] for p in first} <= {"ada", "bob", "cy", "Émile"}
        assert all(1 <= p["n"] <= 9 and p["k"] in ("x", "y") for p in first)
        assert all("2024-01-01" <= p["d"] <= "2024-01-31" for p in first)

    @pytest.mark.parametrize(
        ("column", "message"),
        [
            ("order.customer", r"no table 'order' on the source. Did you mean \"orders\"\?"),
            ("orders.custmer", r"no column 'custmer' in orders. Did you mean \"customer\"\?"),
        ],
    )
    def test_sampling_an_unknown_column_is_a_plan_error_naming_it(
        self, source: Database, column: str, message: str
    ) -> None:
        generate = Query.model_validate(
            {"sql": "SELECT :c", "generate": {"c": {"kind": "column", "column": column}}}
        ).generate
        with pytest.raises(PlanError, match=message):
            param_sets("q", fixed=(), generate=generate, samples=1, seed=0, source=source)


class TestCompare:
    @staticmethod
    def answer(*rows: tuple[Any, ...], columns: tuple[str, ...] = ("a", "b")) -> Answer:
        return Answer(columns, (None,) * len(columns), list(rows), False)

    def test_unordered_answers_match_in_any_order(self) -> None:
        diff = compare(
            self.answer((1, "x"), (2, "y")),
            self.answer((2, "y"), (1, "x")),
            ordered=False,
            tolerance={},
        )
        assert diff.same

    def test_ordered_answers_must_match_row_by_row(self) -> None:
        diff = compare(
            self.answer((1, "x"), (2, "y")),
            self.answer((2, "y"), (1, "x")),
            ordered=True,
            tolerance={},
        )
        assert diff.differing == 2
        assert diff.examples[0].position == 0

    def test_unordered_counts_each_unmatched_row_once(self) -> None:
        diff = compare(
            self.answer((1, "x"), (2, "y"), (2, "y")),
            self.answer((2, "y"), (1, "x"), (3, "z")),
            ordered=False,
            tolerance={},
        )
        assert diff.differing == 2
        assert {(d.source, d.target) for d in diff.examples} == {
            (("2", "y"), None),
            (None, ("3", "z")),
        }

    def test_floats_compare_at_the_canons_significant_digits(self) -> None:
        assert compare(
            self.answer((1, 0.1 + 0.2)), self.answer((1, 0.3)), ordered=True, tolerance={}
        ).same

    def test_a_float_meets_an_exact_numeric_at_float_digits_and_a_tolerance_beyond(
        self,
    ) -> None:
        # SQLite sums money as REAL; PostgreSQL's numeric sum is exact: equal at 15 digits.
        numeric = (None, TypeInfo("numeric", "numeric"))
        target = Answer(("a", "b"), numeric, [(1, Decimal("1234.57"))], False)
        assert compare(
            self.answer((1, 1234.5699999999997)), target, ordered=True, tolerance={}
        ).same
        source = self.answer((1, 1234.5650000000001))  # what no rounding at 15 digits hides
        assert not compare(source, target, ordered=True, tolerance={}).same
        assert compare(source, target, ordered=True, tolerance={"b": 0.01}).same
        off = Answer(("a", "b"), numeric, [(1, Decimal("1234.58"))], False)
        assert not compare(source, off, ordered=True, tolerance={"b": 0.001}).same

    def test_different_column_counts_are_reported_by_name(self) -> None:
        diff = compare(
            self.answer((1, 2)), self.answer((1,), columns=("a",)), ordered=True, tolerance={}
        )
        assert diff.columns_differ is not None
        assert "2 column(s) (a, b)" in diff.columns_differ


class TestCheckQuery:
    def test_the_same_answer_passes_through_the_shared_value_canon(
        self, source: Database, target: Database
    ) -> None:
        # SQLite hands back REAL money, text timestamps and 0/1 booleans; PostgreSQL numeric,
        # datetime and bool. The row canon makes them the same text.
        result = run_check(
            source,
            target,
            sql="SELECT id, customer, amount, placed_at, paid FROM orders ORDER BY id",
        )
        assert result.status is Status.PASS, result.summary
        assert [r["target_rows"] for r in result.evidence["runs"]] == [5]

    def test_generated_parameters_run_on_both_sides(
        self, source: Database, target: Database
    ) -> None:
        result = run_check(
            source,
            target,
            sql="SELECT count(*) AS n, sum(amount) AS total FROM orders WHERE customer = :who"
            " AND placed_at >= :since",
            generate={
                "who": {"kind": "column", "column": "orders.customer"},
                "since": {"kind": "dates", "start": "2024-01-01", "end": "2024-03-01"},
            },
            samples=4,
            tolerance={"total": 0.001},
        )
        assert result.status is Status.PASS, result.summary
        assert len(result.evidence["runs"]) == 4
        assert result.evidence["target_sql"].endswith("AND placed_at >= :since")

    def test_a_different_answer_fails_with_the_rows_side_by_side(
        self, source: Database, target: Database
    ) -> None:
        # SQLite's LIKE ignores ASCII case, PostgreSQL's does not: a classic migration bug.
        result = run_check(
            source,
            target,
            sql="SELECT id, customer FROM orders WHERE customer LIKE 'A%' ORDER BY id",
        )
        assert result.status is Status.FAIL
        (finding,) = result.findings
        assert finding.kind is FindingKind.QUERY_ANSWER
        assert "2 row(s) differ (source 2 rows, target 0)" in finding.message
        first = result.evidence["first_differences"][0]
        assert first["source"] == ["1", "ada"]
        assert first["target"] is None

    def test_a_query_failing_on_the_target_reports_its_sqlstate(
        self, source: Database, target: Database
    ) -> None:
        result = run_check(source, target, sql="SELECT date(placed_at, '+7 days') FROM orders")
        assert result.status is Status.FAIL
        (finding,) = result.findings
        assert finding.kind is FindingKind.QUERY_FAILED
        assert "fails on the target: [42883]" in finding.message

    def test_a_missing_table_fails_on_both_sides_with_each_sides_code(
        self, source: Database, target: Database
    ) -> None:
        result = run_check(source, target, sql="SELECT * FROM ordres")
        (finding,) = result.findings
        assert "fails on the source: [SQLITE_ERROR] no such table: ordres" in finding.message
        assert "fails on the target: [42P01]" in finding.message

    def test_a_syntax_error_is_a_finding_not_a_crash(
        self, source: Database, target: Database
    ) -> None:
        result = run_check(source, target, sql="SELEC id FROM orders")
        assert result.status is Status.FAIL
        (finding,) = result.findings
        assert "cannot run on the target: syntax error at line 1" in finding.message
        assert "fails on the source: [SQLITE_ERROR]" in finding.message

    def test_an_unknown_column_is_a_finding(self, source: Database, target: Database) -> None:
        result = run_check(source, target, sql="SELECT nickname FROM orders")
        (finding,) = result.findings
        assert "[42703]" in finding.message

    def test_an_unordered_answer_over_the_row_cap_cannot_be_compared_in_part(
        self, source: Database, target: Database
    ) -> None:
        result = run_check(source, target, sql="SELECT id FROM orders", row_cap=3)
        assert result.status is Status.FAIL
        assert "raise row_cap or add ORDER BY" in result.summary

    def test_an_ordered_answer_over_the_row_cap_compares_its_first_rows(
        self, source: Database, target: Database
    ) -> None:
        result = run_check(source, target, sql="SELECT id FROM orders ORDER BY id", row_cap=3)
        assert result.status is Status.PASS
        assert "1 warning" in result.summary

    def test_a_write_without_the_plans_opt_in_never_reaches_either_side(
        self, source: Database, target: Database
    ) -> None:
        assert isinstance(target, PostgresDatabase)
        sent = target.round_trips
        result = run_check(source, target, sql="DELETE FROM orders")
        assert result.status is Status.ERROR
        assert "set queries.writes: rollback" in result.summary
        assert target.round_trips == sent
        assert target.count_rows("orders") == 5

    def test_the_session_stays_read_only(self, target: Database) -> None:
        with pytest.raises(QueryFailed) as info:
            run(target, "DELETE FROM orders", {}, 10)
        assert info.value.sqlstate == "25006"  # read-only transaction
        assert target.count_rows("orders") == 5


rows_strategy = st.lists(
    st.tuples(
        st.integers(-1000, 1000),
        st.one_of(st.none(), st.text(max_size=5)),
        st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)),
    ),
    max_size=12,
)


class TestCompareProperties:
    @staticmethod
    def answer(rows: list[tuple[Any, ...]]) -> Answer:
        return Answer(("a", "b", "c"), (None, None, None), rows, False)

    @given(rows=rows_strategy, data=st.data())
    def test_an_unordered_answer_equals_any_shuffle_of_itself(
        self, rows: list[tuple[Any, ...]], data: st.DataObject
    ) -> None:
        shuffled = data.draw(st.permutations(rows))
        assert compare(self.answer(rows), self.answer(shuffled), ordered=False, tolerance={}).same

    @given(rows=rows_strategy.filter(bool), data=st.data())
    def test_a_lost_row_is_exactly_one_difference(
        self, rows: list[tuple[Any, ...]], data: st.DataObject
    ) -> None:
        lost = data.draw(st.integers(0, len(rows) - 1))
        kept = rows[:lost] + rows[lost + 1 :]
        diff = compare(self.answer(rows), self.answer(kept), ordered=False, tolerance={})
        assert diff.differing == 1
        assert diff.examples[0].target is None


class TestColumnOptions:
    def test_rtrim_per_column_forgives_char_padding_carried_into_text(
        self, source: Database, target: Database
    ) -> None:
        query = "SELECT id, customer || '  ' AS padded FROM orders WHERE id = 1"
        per_dialect = {"postgres": "SELECT id, customer AS padded FROM orders WHERE id = 1"}
        strict = run_check(source, target, sql=query, dialects=per_dialect)
        assert strict.status is Status.FAIL
        lenient = run_check(
            source, target, sql=query, dialects=per_dialect, columns={"padded": {"rtrim": True}}
        )
        assert lenient.status is Status.PASS, lenient.summary
        assert lenient.evidence["column_options"] == {"padded": {"rtrim": True, "float_digits": 15}}


class TestOtherDirections:
    def test_postgres_to_postgres_compares_with_the_targets_types(self, target: Database) -> None:
        section = settings(
            q={"sql": "SELECT customer, sum(amount) AS total FROM orders GROUP BY 1"}
        )
        specs = load_corpus(section, source_dialect="postgres", target_dialect="postgres")
        (spec,) = specs
        assert spec.source.origin == spec.target.origin == "as written"
        result = check_query(spec, [{}], source_db=target, target_db=target, settings=section)
        assert result.status is Status.PASS, result.summary
        assert result.evidence["runs"][0]["target_rows"] == 4

    def test_a_query_written_for_postgres_is_transpiled_for_a_sqlite_side(self) -> None:
        section = QuerySettings.model_validate(
            {
                "dialect": "postgres",
                "corpus": {
                    "q": {"sql": "SELECT x::text FROM t WHERE n ILIKE :p", "params": [{"p": "a%"}]}
                },
            }
        )
        (spec,) = load_corpus(section, source_dialect="sqlite", target_dialect="postgres")
        assert spec.target.origin == "as written"
        assert spec.source.origin.startswith("transpiled by sqlglot")
        assert spec.source.text == "SELECT CAST(x AS TEXT) FROM t WHERE LOWER(n) LIKE LOWER(:p)"


class TestTimeouts:
    SLOW_SQLITE = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )

    def test_a_runaway_query_is_cancelled_on_postgresql_with_57014(self, target: Database) -> None:
        with pytest.raises(QueryFailed) as failed:
            run(target, "SELECT pg_sleep(5)", {}, 10, timeout_s=0.2)
        assert failed.value.sqlstate == "57014"
        assert run(target, "SELECT 1", {}, 10).rows == [(1,)]  # the session is usable again

    def test_a_runaway_query_is_interrupted_on_sqlite(self, source: Database) -> None:
        with pytest.raises(QueryFailed) as failed:
            run(source, self.SLOW_SQLITE, {}, 10, timeout_s=0.2)
        assert failed.value.sqlstate == "SQLITE_INTERRUPT"
        assert run(source, "SELECT 1", {}, 10).rows == [(1,)]
