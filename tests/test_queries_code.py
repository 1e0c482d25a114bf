"""The application's queries as it writes them (:mod:`harness.queries`): every driver's
placeholder style, list parameters, queries taken from code (``queries.from``) and writes run
in transactions that are always rolled back (``queries.writes``).

Real components: databases in the worker's embedded PostgreSQL 16, SQLite files opened
read-only the way a run opens them, and tests/data/queries_node_backend — an Express
backend's ``db.ts`` of ``pg`` Pool queries and a psycopg module — read as they are.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.db.database import Database, PostgresDatabase, SqliteDatabase
from harness.dsql_local import DsqlLocal
from harness.endpoints.resolve import Connector, open_database, resolve
from harness.endpoints.settings import DsqlEndpoint
from harness.errors import PlanError
from harness.queries.answers import QueryFailed, run, run_write
from harness.queries.check import check_query
from harness.queries.corpus import QuerySpec, load_corpus
from harness.queries.extract import call_sites
from harness.queries.params import draw
from harness.queries.placeholders import PlaceholderError, canonical
from harness.queries.settings import QuerySettings
from harness.results.check import CheckResult, Status
from tests.aws_support import DSQL_HOST, aws_env, dsql_cluster
from tests.conftest import run_sql

__all__ = ["aws_env", "dsql_cluster"]  # fixtures used by name below

BACKEND = Path(__file__).parent / "data" / "queries_node_backend"
SCHEMA = (BACKEND / "schema.sql").read_text(encoding="utf-8")
FROM = ["backend/src/db.ts", "app/**/*.py"]


def postgres(dsn: str, role: str) -> PostgresDatabase:
    db = open_database(Connector(role, "postgres", "postgres", dsn, role, "public"))
    assert isinstance(db, PostgresDatabase)
    return db


@pytest.fixture
def source(pg_database: str) -> Iterator[PostgresDatabase]:
    run_sql(pg_database, SCHEMA)
    db = postgres(pg_database, "source")
    yield db
    db.close()


@pytest.fixture
def target_dsn(pg_cluster: Any) -> Iterator[str]:
    """A second database in the worker's cluster, loaded like the source."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    dsn = pg_cluster.create_database(name)
    run_sql(dsn, SCHEMA)
    yield dsn
    pg_cluster.drop_database(name)


@pytest.fixture
def target(target_dsn: str) -> Iterator[PostgresDatabase]:
    db = postgres(target_dsn, "target")
    yield db
    db.close()


@pytest.fixture
def sqlite_source(tmp_path: Path) -> Iterator[SqliteDatabase]:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
    conn.close()
    db = open_database(Connector("source", "sqlite", "sqlite", str(path), "sqlite:app.db"))
    assert isinstance(db, SqliteDatabase)
    yield db
    db.close()


def specs(section: dict[str, Any], source: str = "postgres") -> dict[str, QuerySpec]:
    settings = QuerySettings.model_validate(section)
    loaded = load_corpus(settings, source_dialect=source, target_dialect="postgres", base=BACKEND)
    return {s.name: s for s in loaded}


def verify(section: dict[str, Any], source: Database, target: Database) -> dict[str, CheckResult]:
    """Each query of ``section`` checked as the scenario checks it."""
    settings = QuerySettings.model_validate(section)
    out = {}
    for name, spec in specs(section, source.dialect).items():
        problem = None
        try:
            sets = draw(spec, settings, source) if not (spec.problem or spec.skipped) else []
        except PlanError as exc:
            if spec.site is None:
                raise
            sets, problem = [], exc.message
        out[name] = check_query(
            spec, sets, source_db=source, target_db=target, settings=settings, problem=problem
        )
    return out


class TestPlaceholders:
    @pytest.mark.parametrize(
        ("text", "dialect", "expected", "names"),
        [
            (
                "SELECT a FROM t WHERE a = $2 AND b = $1",
                "postgres",
                "SELECT a FROM t WHERE a = :p2 AND b = :p1",
                ("p1", "p2"),
            ),
            (
                "SELECT a FROM t WHERE a = ? AND b IN (?, ?)",
                "sqlite",
                "SELECT a FROM t WHERE a = :p1 AND b IN (:p2, :p3)",
                ("p1", "p2", "p3"),
            ),
            (
                "SELECT a FROM t WHERE a = %s AND b LIKE 'x%%'",
                "postgres",
                "SELECT a FROM t WHERE a = :p1 AND b LIKE 'x%'",
                ("p1",),
            ),
            (
                "SELECT a FROM t WHERE a = %(who)s AND b = %(who)s",
                "postgres",
                "SELECT a FROM t WHERE a = :who AND b = :who",
                ("who",),
            ),
            (
                "SELECT a FROM t WHERE a = @who",
                "postgres",
                "SELECT a FROM t WHERE a = :who",
                ("who",),
            ),
            (
                "SELECT a::text FROM t WHERE a = :who",
                "postgres",
                "SELECT a::text FROM t WHERE a = :who",
                ("who",),
            ),
        ],
        ids=["dollar", "question", "percent-s", "percent-name", "at-name", "colon-name"],
    )
    def test_every_driver_style_is_spelled_as_named_parameters(
        self, text: str, dialect: str, expected: str, names: tuple[str, ...]
    ) -> None:
        found = canonical(text, dialect)
        assert (found.text, found.names) == (expected, names)

    def test_lookalikes_in_strings_comments_casts_and_arithmetic_are_left_alone(self) -> None:
        text = "SELECT '$1', '?', 5 % 2 /* $2 ? */ FROM t -- :x\nWHERE a = $1 AND j ? 'k'"
        found = canonical(text, "postgres")
        assert found.text == text.replace("a = $1", "a = :p1")
        assert found.names == ("p1",)

    def test_a_query_mixing_styles_is_refused(self) -> None:
        with pytest.raises(PlaceholderError, match=r"mixes parameter styles \(\$n, :name\)"):
            canonical("SELECT 1 FROM t WHERE a = $1 AND b = :b", "postgres")


class TestListParameters:
    def test_the_issues_query_with_a_dollar_placeholder_and_a_list_runs(
        self, sqlite_source: SqliteDatabase, target: PostgresDatabase
    ) -> None:
        sql = (
            "SELECT r.name FROM repositories r JOIN languages s ON s.id = r.language_id"
            " WHERE s.name = $1 ORDER BY r.name"
        )
        section = {
            "dialect": "postgres",
            "corpus": {"by_language": {"sql": sql, "params": [["TypeScript"], ["Go"]]}},
        }
        result = verify(section, sqlite_source, target)["by_language"]
        assert result.status is Status.PASS, result.summary
        assert [r["params"] for r in result.evidence["runs"]] == [
            {"p1": "TypeScript"},
            {"p1": "Go"},
        ]
        assert [r["target_rows"] for r in result.evidence["runs"]] == [3, 1]

    def test_a_mapping_for_positional_parameters_says_to_give_a_list(self) -> None:
        section = {"corpus": {"q": {"sql": "SELECT 1 FROM t WHERE a = $1", "params": [{"a": 1}]}}}
        with pytest.raises(PlanError, match=r"positional \(\$n\): give each set as a list of 1"):
            specs(section)

    def test_a_list_of_the_wrong_length_is_refused(self) -> None:
        section = {"corpus": {"q": {"sql": "SELECT 1 FROM t WHERE a = ?", "params": [[1, 2]]}}}
        with pytest.raises(PlanError, match=r"2 value\(s\) for 1 parameter\(s\)"):
            specs(section, "sqlite")

    def test_a_list_for_named_parameters_says_to_give_a_mapping(self) -> None:
        section = {"corpus": {"q": {"sql": "SELECT 1 FROM t WHERE a = :a", "params": [[1]]}}}
        with pytest.raises(PlanError, match=r"named \(:a\): give a mapping"):
            specs(section)


class TestQueriesFromCode:
    def test_each_call_site_is_one_query_named_for_its_function(self) -> None:
        names = [s.name for s in call_sites(tuple(FROM), BACKEND, "postgres")]
        assert names == [
            "backend/src/db.ts:getLanguageByName",
            "backend/src/db.ts:listRepositories",
            "backend/src/db.ts:repositoriesByLanguage",
            "backend/src/db.ts:starsPerLanguage",
            "backend/src/db.ts:createRepository",
            "backend/src/db.ts:starRepository",
            "backend/src/db.ts:deleteLanguageRepositories",
            "backend/src/db.ts:countFor",
            "app/reports.py:top_repositories",
            "app/reports.py:names_like",
        ]

    def test_a_tagged_template_binds_its_interpolations_as_parameters(self, tmp_path: Path) -> None:
        (tmp_path / "db.js").write_text(
            "export function byId(id) {\n"
            "  return sql`SELECT name FROM repositories WHERE id = ${id}`;\n}\n",
            encoding="utf-8",
        )
        (site,) = call_sites(("db.js",), tmp_path, "postgres")
        assert (site.name, site.sql, site.problem) == (
            "db.js:byId",
            "SELECT name FROM repositories WHERE id = $1",
            None,
        )

    def test_a_glob_that_matches_nothing_is_a_plan_error(self) -> None:
        with pytest.raises(PlanError, match=r"'backend/src/dbs.ts' matches no file"):
            call_sites(("backend/src/dbs.ts",), BACKEND, "postgres")

    def test_the_backends_queries_run_as_written_with_values_drawn_from_their_columns(
        self, source: PostgresDatabase, target: PostgresDatabase
    ) -> None:
        results = verify({"from": FROM}, source, target)
        writes = {n for n, s in specs({"from": FROM}).items() if s.write}
        reads = {n: r for n, r in results.items() if n not in writes and "countFor" not in n}
        passed = sorted(n for n, r in reads.items() if r.status is Status.PASS)
        assert passed == [
            "app/reports.py:names_like",
            "app/reports.py:top_repositories",
            "backend/src/db.ts:getLanguageByName",
            "backend/src/db.ts:listRepositories",
            "backend/src/db.ts:repositoriesByLanguage",
            "backend/src/db.ts:starsPerLanguage",
        ], {n: r.summary for n, r in reads.items()}
        by_language = results["backend/src/db.ts:repositoriesByLanguage"]
        assert by_language.evidence["parameter_style"] == "$n"
        assert by_language.evidence["site"] == "backend/src/db.ts line 29"
        assert "WHERE s.name = $1 AND r.stars >= $2" in by_language.evidence["sql_as_written"]
        assert "WHERE s.name = :p1 AND r.stars >= :p2" in by_language.evidence["source_sql"]
        languages = {r["params"]["p1"] for r in by_language.evidence["runs"]}
        assert languages <= {"TypeScript", "Python", "Go"}

    def test_dynamic_sql_is_an_error_saying_why(
        self, source: PostgresDatabase, target: PostgresDatabase
    ) -> None:
        result = verify({"from": FROM}, source, target)["backend/src/db.ts:countFor"]
        assert result.status is Status.ERROR
        assert "built by interpolating into the text" in result.summary

    def test_the_target_answering_differently_fails_the_call_site(
        self, source: PostgresDatabase, target: PostgresDatabase, target_dsn: str
    ) -> None:
        run_sql(target_dsn, "UPDATE repositories SET stars = 46 WHERE name = 'web'")
        section = {
            "from": ["backend/src/db.ts"],
            "sites": {"backend/src/db.ts:repositoriesByLanguage": {"params": [["TypeScript", 0]]}},
        }
        result = verify(section, source, target)["backend/src/db.ts:repositoriesByLanguage"]
        assert result.status is Status.FAIL
        assert "answers differ with p1='TypeScript', p2=0: 1 row(s) differ" in result.summary

    def test_a_placeholder_with_no_column_is_an_error_naming_it_and_the_fix(
        self, source: PostgresDatabase, target: PostgresDatabase, tmp_path: Path
    ) -> None:
        section = {"corpus": {"q": {"sql": "SELECT $1::int + 1 AS n"}}}
        with pytest.raises(PlanError, match=r"cannot tell which column :p1 stands for"):
            verify(section, source, target)

    def test_an_unknown_site_name_is_a_plan_error_with_a_suggestion(self) -> None:
        section = {"from": FROM, "sites": {"backend/src/db.ts:getLanguageByNam": {"skip": "x"}}}
        with pytest.raises(PlanError, match=r'Did you mean "backend/src/db.ts:getLanguageByName"'):
            specs(section)

    def test_a_skipped_site_is_reported_as_skipped_with_its_reason(
        self, source: PostgresDatabase, target: PostgresDatabase
    ) -> None:
        section = {"from": FROM, "sites": {"backend/src/db.ts:countFor": {"skip": "admin only"}}}
        result = verify(section, source, target)["backend/src/db.ts:countFor"]
        assert (result.status, result.summary) == (Status.SKIP, "skipped by the plan: admin only")


WRITES = [
    "backend/src/db.ts:createRepository",
    "backend/src/db.ts:deleteLanguageRepositories",
    "backend/src/db.ts:starRepository",
]


def table_counts(db: Database) -> tuple[int, int]:
    return db.count_rows("languages"), db.count_rows("repositories")


class TestWrites:
    def test_opted_in_writes_run_on_both_sides_and_leave_nothing_behind(
        self, source: PostgresDatabase, target: PostgresDatabase
    ) -> None:
        results = verify({"from": FROM, "writes": "rollback"}, source, target)
        for name in WRITES:
            assert results[name].status is Status.PASS, results[name].summary
        created = results["backend/src/db.ts:createRepository"].evidence
        assert created["write"] == "run in a transaction always rolled back on both sides"
        run = created["runs"][0]
        assert (run["source_affected"], run["target_affected"]) == (1, 1)
        assert (run["source_rows"], run["target_rows"]) == (1, 1)  # RETURNING id, name, stars
        assert run["params"]["p1"] > 6  # a fresh key above the source's largest id
        deleted = results["backend/src/db.ts:deleteLanguageRepositories"].evidence["runs"]
        assert all(r["source_affected"] == r["target_affected"] > 0 for r in deleted)
        assert table_counts(source) == table_counts(target) == (3, 6)

    def test_a_different_affected_row_count_fails(
        self, source: PostgresDatabase, target: PostgresDatabase, target_dsn: str
    ) -> None:
        run_sql(target_dsn, "INSERT INTO repositories VALUES (7, 'extra', 3, 1)")
        section = {
            "from": ["backend/src/db.ts"],
            "writes": "rollback",
            "sites": {"backend/src/db.ts:deleteLanguageRepositories": {"params": [[3]]}},
        }
        result = verify(section, source, target)["backend/src/db.ts:deleteLanguageRepositories"]
        assert result.status is Status.FAIL
        assert (
            "affected rows differ with p1=3: the source's write changes 1 row(s), the target's 2"
            in (result.summary)
        )
        assert target.count_rows("repositories") == 7

    def test_a_write_the_target_refuses_is_a_finding_with_its_sqlstate(
        self, source: PostgresDatabase, target: PostgresDatabase, target_dsn: str
    ) -> None:
        run_sql(target_dsn, "ALTER TABLE repositories ADD CHECK (stars <= 300)")
        section = {
            "from": ["backend/src/db.ts"],
            "writes": {"source": "rollback", "target": "rollback"},
            "sites": {"backend/src/db.ts:starRepository": {"params": [[3]]}},
        }
        result = verify(section, source, target)["backend/src/db.ts:starRepository"]
        assert result.status is Status.FAIL
        assert "fails on the target with p1=3: [23514]" in result.summary
        assert source.count_rows("repositories") == 6

    def test_a_side_that_does_not_opt_in_keeps_the_write_from_both(
        self, source: PostgresDatabase, target: PostgresDatabase
    ) -> None:
        section = {"from": ["backend/src/db.ts"], "writes": {"source": "rollback"}}
        results = verify(section, source, target)
        for name in WRITES:
            assert results[name].status is Status.ERROR
            assert "not let writes run on the target" in results[name].summary
            assert "queries.writes: rollback" in results[name].summary

    def test_an_unopted_write_sends_nothing(
        self, source: PostgresDatabase, target: PostgresDatabase
    ) -> None:
        before = (source.round_trips, target.round_trips)
        section = {
            "corpus": {"w": {"sql": "DELETE FROM repositories WHERE id = $1", "params": [[1]]}}
        }
        result = verify(section, source, target)["w"]
        assert result.status is Status.ERROR
        assert (source.round_trips, target.round_trips) == before

    def test_a_sqlite_side_writes_on_a_private_copy_and_its_file_is_untouched(
        self, sqlite_source: SqliteDatabase, target: PostgresDatabase, tmp_path: Path
    ) -> None:
        before = (tmp_path / "app.db").read_bytes()
        section = {"dialect": "postgres", "from": ["backend/src/db.ts"], "writes": "rollback"}
        results = verify(section, sqlite_source, target)
        for name in WRITES:
            assert results[name].status is Status.PASS, results[name].summary
        assert (tmp_path / "app.db").read_bytes() == before
        assert table_counts(sqlite_source) == (3, 6)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            sqlite_source.conn.execute("DELETE FROM repositories")
        copy = sqlite_source._scratch_folder
        assert copy is not None
        assert copy.exists()
        sqlite_source.close()
        assert not copy.exists()

    def test_a_runaway_write_on_the_sqlite_copy_is_cancelled_and_the_copy_goes_on(
        self, sqlite_source: SqliteDatabase
    ) -> None:
        endless = (
            "UPDATE repositories SET stars = (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL"
            " SELECT x + 1 FROM c) SELECT count(*) FROM c)"
        )
        with pytest.raises(QueryFailed, match=r"cancelled after 0.2 s"):
            run_write(sqlite_source, endless, {}, 10, timeout_s=0.2)
        answer = run_write(sqlite_source, "DELETE FROM repositories", {}, 10, timeout_s=5)
        assert answer.affected == 6
        assert sqlite_source.count_rows("repositories") == 6


class TestWritesOnDsql:
    """On (local) Aurora DSQL, where the session cannot be opened read-only: the write runs
    between BEGIN READ WRITE and ROLLBACK, and DSQL's transaction limits apply."""

    @pytest.fixture
    def db(self, aws_env: None, dsql_cluster: DsqlLocal) -> Iterator[PostgresDatabase]:
        endpoint = DsqlEndpoint.model_validate(
            {
                "kind": "dsql",
                "endpoint": DSQL_HOST,
                "hostaddr": "127.0.0.1",
                "port": dsql_cluster.port,
                "sslmode": "verify-full",
                "sslrootcert": str(dsql_cluster.ca_file),
            }
        )
        with ExitStack() as resources:
            database = open_database(resolve(endpoint, "target", resources))
            assert isinstance(database, PostgresDatabase)
            resources.callback(database.close)
            yield database

    def test_a_write_runs_and_is_rolled_back(self, db: PostgresDatabase) -> None:
        answer = run_write(db, "DELETE FROM users WHERE id = %(id)s RETURNING email", {"id": 1}, 10)
        assert (answer.affected, answer.rows) == (1, [("ada@example.com",)])
        assert run(db, "SELECT count(*) FROM users", {}, 10).rows == [(2,)]
        assert db.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    def test_a_write_over_dsqls_row_limit_is_refused_with_its_sqlstate(
        self, db: PostgresDatabase
    ) -> None:
        text = "INSERT INTO users SELECT g, 'u' || g, NULL FROM generate_series(10, 3100) AS g"
        with pytest.raises(QueryFailed) as info:
            run_write(db, text, {}, 10)
        assert info.value.sqlstate == "54000"
        assert run(db, "SELECT count(*) FROM users", {}, 10).rows == [(2,)]
