"""Bad query input through `cutover verify`, as a user meets it.

Plan mistakes (an unknown parameter kind, a column to sample that does not exist, a budget
for a query nobody defined) stop the run with one line and exit code 2. Mistakes in the SQL
itself (a syntax error, a missing table, an unknown column) are findings of that query's
check, with each side's SQLSTATE, and the verdict is NO-GO.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cutover, run_sql


def orders_db(path: Path, bo_total: float = 12.25) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total REAL)"
        )
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)",
            [(1, "ana", 9.5), (2, "bo", bo_total), (3, "ana", None)],
        )
    conn.close()
    return path


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    return orders_db(tmp_path / "app.db")


def verify(tmp_path: Path, plan: dict[str, Any]) -> Any:
    (tmp_path / "plan.yaml").write_text(json.dumps(plan), encoding="utf-8")  # JSON is YAML
    return run_cutover(
        "verify", "--plan", "plan.yaml", "--report-dir", str(tmp_path / "out"), cwd=tmp_path
    )


def plan(queries: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "queries",
        "source": {"kind": "sqlite", "path": "app.db"},
        "target": {"kind": "sqlite", "path": "app.db"},
        "tables": {"include": [], "allow_empty": True},  # a SQLite target: no table
        "queries": {"corpus": queries},
        **extra,
    }


def one_error_line(run: Any) -> str:
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    lines = [line for line in (run.stdout + run.stderr).splitlines() if "error" in line.lower()]
    assert lines, run.stdout + run.stderr
    return lines[0]


@pytest.mark.slow
class TestPlanMistakesStopTheRun:
    def test_an_unknown_parameter_kind(self, tmp_path: Path, app_db: Path) -> None:
        query = {"sql": "SELECT :n", "generate": {"n": {"kind": "intgers", "min": 1, "max": 2}}}
        line = one_error_line(verify(tmp_path, plan({"q": query})))
        assert "queries.corpus.q.generate.n.kind: unknown kind 'intgers'" in line
        assert 'Did you mean "integers"?' in line

    def test_a_column_to_sample_that_does_not_exist(self, tmp_path: Path, app_db: Path) -> None:
        query = {
            "sql": "SELECT * FROM orders WHERE customer = :c",
            "generate": {"c": {"kind": "column", "column": "orders.custmer"}},
        }
        line = one_error_line(verify(tmp_path, plan({"q": query})))
        assert "queries.corpus.q.generate.c.column: no column 'custmer' in orders." in line
        assert 'Did you mean "customer"?' in line

    def test_a_budget_for_an_unknown_query(self, tmp_path: Path, app_db: Path) -> None:
        section = {"budgets": {"totl": {"p95_ms": 10}}, "health": None, "connect_ms": None}
        run = verify(tmp_path, plan({"total": {"sql": "SELECT 1"}}, latency=section))
        line = one_error_line(run)
        assert "latency.budgets.totl: budget for unknown query 'totl'." in line
        assert 'Did you mean "total"?' in line


@pytest.mark.slow
def test_bad_sql_is_a_finding_with_each_sides_sqlstate(
    tmp_path: Path, app_db: Path, pg_database: str
) -> None:
    run_sql(
        pg_database,
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total float8);"
        "INSERT INTO orders VALUES (1, 'ana', 9.5), (2, 'bo', 12.25), (3, 'ana', NULL);",
    )
    queries = {
        "per_customer": {
            "sql": "SELECT customer, count(*) AS n, sum(total) AS total FROM orders"
            " WHERE customer = :c GROUP BY customer",
            "generate": {"c": {"kind": "column", "column": "orders.customer"}},
        },
        "syntax": {"sql": "SELEC id FROM orders"},
        "missing_table": {"sql": "SELECT id FROM ordrs"},
        "unknown_column": {"sql": "SELECT nickname FROM orders"},
    }
    section = plan(queries, latency={"runs": 3, "warmup": 1, "default": {"p95_ms": 60000}})
    section["target"] = {"kind": "postgres", "dsn": pg_database}
    run = verify(tmp_path, section)
    assert run.returncode == 1, run.stdout + run.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    by_id = {c["id"]: c for c in results["checks"]}
    assert by_id["queries[per_customer]"]["status"] == "pass"
    assert by_id["latency[per_customer-p95]"]["status"] == "pass"
    assert by_id["latency[health]"]["status"] == "pass"
    syntax = by_id["queries[syntax]"]
    assert syntax["status"] == "fail"
    assert "cannot run on the target: syntax error at line 1" in syntax["summary"]
    assert "[42P01]" in by_id["queries[missing_table]"]["summary"]
    assert "no such table: ordrs" in by_id["queries[missing_table]"]["summary"]
    assert "[42703]" in by_id["queries[unknown_column]"]["summary"]
    assert by_id["latency[syntax-p95]"]["status"] == "error"
    assert by_id["queries[per_customer]"]["evidence"]["target_sql"].startswith("SELECT customer")


class TestReviewedQueryDifferences:
    """An expected difference may name a query: its answer and latency findings are waived."""

    def test_one_on_an_unknown_query_stops_the_run(self, tmp_path: Path, app_db: Path) -> None:
        waiver = {"query": "totl", "reason": "known", "reviewer": "Ana <ana@example.com>"}
        run = verify(tmp_path, plan({"total": {"sql": "SELECT 1"}}, expected_differences=[waiver]))
        line = one_error_line(run)
        assert "expected_differences.0.query: expected difference on unknown query 'totl'." in line
        assert 'Did you mean "total"?' in line

    def test_a_waived_answer_and_budget_make_the_run_go_with_waivers(
        self, tmp_path: Path, app_db: Path
    ) -> None:
        orders_db(tmp_path / "target.db", bo_total=12.3)
        waiver = {
            "query": "totals",
            "reason": "12.25 was rounded on purpose in the new billing (BILL-7)",
            "reviewer": "Ana Lima <ana@example.com>",
        }
        section = plan(
            {
                "totals": {"sql": "SELECT id, total FROM orders ORDER BY id"},
                "same": {"sql": "SELECT 1"},
            },
            # A p95 budget no query can meet: the waiver must excuse it, as it names the query.
            latency={
                "runs": 3,
                "warmup": 1,
                "default": {"p95_ms": 0.000001},
                "health": None,
                "connect_ms": None,
                "budgets": {"same": {"p95_ms": 60000}},
            },
            expected_differences=[waiver],
        )
        section["target"] = {"kind": "sqlite", "path": "target.db"}
        # Rows differ too; this test is about queries: no table, and the plan says so.
        section["tables"] = {"include": ["nothing*"], "allow_empty": True}
        run = verify(tmp_path, section)
        results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
        by_id = {c["id"]: c for c in results["checks"]}
        assert by_id["queries[totals]"]["status"] == "waived", by_id["queries[totals]"]
        assert by_id["latency[totals-p95]"]["status"] == "waived"
        assert by_id["queries[same]"]["status"] == "pass"
        assert by_id["latency[same-p95]"]["status"] == "pass"
        (declared,) = results["expected_differences"]
        assert (declared["query"], declared["table"], declared["used"]) == ("totals", None, True)
        assert (results["verdict"], run.returncode) == ("GO WITH WAIVERS", 0), run.stdout
        assert "query totals" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


RATIO_APART = """\
\"\"\"Every latency ratio item on the second worker and every other item on the first, sent
at once: the two items of a query run on two workers side by side.\"\"\"

from xdist.scheduler import LoadScheduling


class RatioApart(LoadScheduling):
    def schedule(self):
        if self.collection is not None:
            return
        self.collection = next(iter(self.node2collection.values()))
        first, second = sorted(self.nodes, key=lambda node: node.gateway.id)
        for index, nodeid in enumerate(self.collection):
            self.node2pending[second if "-ratio]" in nodeid else first].append(index)
        for node in (first, second):
            if self.node2pending[node]:
                node.send_runtest_some(list(self.node2pending[node]))
            node.shutdown()


def pytest_xdist_make_scheduler(config, log):
    return RatioApart(config, log)
"""

RAN = re.compile(r"^\[(gw\d+)\] .*PASSED .*::test_latency\[(\w+)-(p95|ratio)\]", re.MULTILINE)


@pytest.mark.slow
def test_a_querys_latency_items_on_two_workers_judge_one_timing(
    tmp_path: Path, app_db: Path
) -> None:
    """One timing per query is the run's doing, not the scheduler's: with each query's p95 item
    on one worker and its ratio item on another, both running at once, the two items carry the
    same samples (each worker timing the query itself would give each its own)."""
    queries = {f"q{i}": {"sql": f"SELECT id, total FROM orders WHERE id > {i}"} for i in range(6)}  # noqa: S608
    section = plan(
        queries,
        latency={
            "runs": 20,
            "warmup": 1,
            "default": {"p95_ms": 60000, "max_ratio": 1000},
            "health": None,
            "connect_ms": None,
        },
    )
    # A SQLite target: no row comparison, so no table, and the plan says so.
    section["tables"] = {"include": ["nothing*"], "allow_empty": True}
    (tmp_path / "plan.yaml").write_text(json.dumps(section), encoding="utf-8")
    (tmp_path / "ratio_apart.py").write_text(RATIO_APART, encoding="utf-8")  # importable: cwd
    run = run_cutover(
        "verify",
        "--plan",
        "plan.yaml",
        "--report-dir",
        str(tmp_path / "out"),
        "-n",
        "2",
        "--",
        "-p",
        "ratio_apart",
        "-v",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    workers = {(name, kind): worker for worker, name, kind in RAN.findall(run.stdout)}
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    by_id = {c["id"]: c for c in results["checks"]}
    for name in queries:
        assert workers[name, "p95"] != workers[name, "ratio"], run.stdout  # really apart
        p95, ratio = by_id[f"latency[{name}-p95]"], by_id[f"latency[{name}-ratio]"]
        assert p95["evidence"]["samples_ms"] == ratio["evidence"]["samples_ms"], name
