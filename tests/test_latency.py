"""Latency (:mod:`harness.latency`): the timing loop, the statistics, each kind of budget.

Timings vary from machine to machine, so no test here asserts how long anything took: the
loop is run for real (SQLite and PostgreSQL) and checked for what it records, and the budget
logic is fed distributions given as data.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from filelock import FileLock, Timeout

from harness.db.database import Database
from harness.endpoints.resolve import Connector, open_database
from harness.latency.check import Item, check_budget, check_connect, check_health, items
from harness.latency.health import Connection, Probe, connections, health_probes
from harness.latency.settings import Budget, ConnectBudget, HealthCheck, LatencySettings
from harness.latency.store import LOCK_NAME, TimingStore
from harness.latency.timing import Timing, executor, percentile, summary, time_pair, time_runs
from harness.queries.answers import QueryFailed
from harness.results.check import FindingKind, Status


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(1, 101)])
    db = open_database(Connector("source", "sqlite", "sqlite", str(path), "sqlite:t.db"))
    yield db
    db.close()


@pytest.fixture
def pg_connector(pg_database: str) -> Connector:
    return Connector("target", "postgres", "postgres", pg_database, "pg", "public")


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestStatistics:
    def test_percentiles_interpolate_between_ranks_like_numpy(self) -> None:
        data = [1.0, 2.0, 3.0, 4.0, 5.0]
        assert percentile(data, 0.5) == 3.0
        assert percentile(data, 0.95) == pytest.approx(4.8)
        assert percentile(data, 0.0) == 1.0
        assert percentile(data, 1.0) == 5.0

    def test_summary_names_n_p50_p95_p99_and_max(self) -> None:
        assert summary([3.0, 1.0, 2.0]) == {"n": 3, "p50": 2.0, "p95": 2.9, "p99": 2.98, "max": 3.0}
        assert summary([]) == {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}


class TestTimingLoop:
    def test_every_run_is_timed_after_the_warm_up_with_parameters_in_turn(
        self, sqlite_db: Database
    ) -> None:
        seen: list[int] = []
        run = executor(sqlite_db, "SELECT v FROM t WHERE id = :id")

        def spy(params: dict[str, int]) -> object:
            seen.append(params["id"])
            return run(params)

        timing = time_runs(spy, [{"id": 1}, {"id": 2}, {"id": 3}], warmup=2, runs=5, max_seconds=60)
        assert seen == [1, 2, 1, 2, 3, 1, 2]  # two warm-up runs, then five timed ones
        assert len(timing.samples_ms) == 5
        assert not timing.stopped_early

    def test_sides_alternate_run_by_run(self, sqlite_db: Database, pg_connector: Connector) -> None:
        order: list[str] = []
        target = open_database(pg_connector)
        try:
            sides = {
                "source": lambda p: order.append("source") or executor(sqlite_db, "SELECT 1")(p),
                "target": lambda p: order.append("target") or executor(target, "SELECT 1")(p),
            }
            timings = time_pair(sides, [{}], warmup=0, runs=3, max_seconds=60)
        finally:
            target.close()
        assert order == ["source", "target"] * 3
        assert [len(t.samples_ms) for t in timings.values()] == [3, 3]

    def test_a_side_out_of_time_stops_early_and_says_so(self, sqlite_db: Database) -> None:
        timing = time_runs(
            executor(sqlite_db, "SELECT count(*) FROM t"), [{}], warmup=0, runs=50, max_seconds=1e-9
        )
        assert len(timing.samples_ms) == 1
        assert timing.stopped_early

    def test_a_failing_query_raises_with_its_sqlstate(self, pg_connector: Connector) -> None:
        db = open_database(pg_connector)
        try:
            with pytest.raises(QueryFailed) as failed:
                executor(db, "SELECT * FROM missing")({})
        finally:
            db.close()
        assert failed.value.sqlstate == "42P01"


def timing(*samples: float) -> Timing:
    return Timing(samples_ms=list(samples))


class TestBudgets:
    settings = LatencySettings(ratio_floor_ms=1.0)

    def test_p95_within_the_budget_passes_and_keeps_the_distribution(self) -> None:
        result = check_budget(
            Item("q-p95", "p95", "q"),
            {"source": timing(1, 2, 3), "target": timing(4, 5, 6)},
            Budget(p95_ms=10),
            self.settings,
        )
        assert result.status is Status.PASS
        assert result.id == "latency[q-p95]"
        assert result.evidence["target_ms"]["p95"] == pytest.approx(5.9)
        assert result.evidence["samples_ms"]["target"] == [4, 5, 6]

    def test_p95_over_the_budget_fails_naming_both_figures(self) -> None:
        result = check_budget(
            Item("q-p95", "p95", "q"),
            {"source": timing(1), "target": timing(50, 60)},
            Budget(p95_ms=10),
            self.settings,
        )
        assert result.status is Status.FAIL
        (finding,) = result.findings
        assert finding.kind is FindingKind.LATENCY
        assert finding.message == "target p95 59.50 ms exceeds the 10 ms budget"

    def test_ratio_compares_p95s_above_the_floor(self) -> None:
        item = Item("q-ratio", "ratio", "q")
        slow = {"source": timing(2, 2), "target": timing(5, 5)}
        assert check_budget(item, slow, Budget(max_ratio=2), self.settings).status is Status.FAIL
        assert check_budget(item, slow, Budget(max_ratio=3), self.settings).status is Status.PASS

    def test_sub_floor_timings_are_not_a_regression(self) -> None:
        # 0.1 ms against 0.4 ms is 4x, but both are under the 1 ms floor.
        fast = {"source": timing(0.1), "target": timing(0.4)}
        result = check_budget(
            Item("q-ratio", "ratio", "q"), fast, Budget(max_ratio=1.2), self.settings
        )
        assert result.status is Status.PASS
        assert result.evidence["ratio"] == 1.0

    def test_a_query_that_could_not_be_timed_is_an_error_never_a_pass(self) -> None:
        result = check_budget(
            Item("q-p95", "p95", "q"),
            "cannot time q: the query fails",
            Budget(p95_ms=1),
            self.settings,
        )
        assert result.status is Status.ERROR

    def test_items_are_one_per_budget_with_readable_names(self) -> None:
        settings = LatencySettings(
            default=Budget(p95_ms=100),
            budgets={"orders": Budget(p95_ms=50, max_ratio=1.2)},
            health=None,
        )
        assert [i.name for i in items(["orders", "users"], settings)] == [
            "orders-p95",
            "orders-ratio",
            "users-p95",
            "connect",
        ]


class TestConnectAndHealth:
    def test_every_run_opens_its_own_session(self, pg_connector: Connector) -> None:
        budget = ConnectBudget(runs=5, max_ms=60_000)
        done = connections(pg_connector, 5, max_ms=60_000, allowed_failures=0)
        assert [(c.ok, c.attempts, c.error) for c in done] == [(True, 1, None)] * 5
        result = check_connect(done, budget)
        assert result.status is Status.PASS
        assert result.evidence["strip"] == "11111"
        assert result.evidence["connect_ms"]["n"] == 5

    def test_a_connect_over_budget_fails(self) -> None:
        done = [Connection(True, 10.0, 1), Connection(False, 6000.0, 1, "opened after 6000 ms")]
        result = check_connect(done, ConnectBudget(runs=2, max_ms=5000))
        assert result.status is Status.FAIL
        assert "1 of 2 connections failed" in result.summary

    def test_an_endpoint_that_refuses_fails_connect_and_every_probe(self) -> None:
        dead = Connector(
            "target",
            "postgres",
            "postgres",
            f"postgresql://u@127.0.0.1:{unused_port()}/db",
            "dead",
            "public",
            retry={"attempts": 1},
        )
        budget = ConnectBudget(runs=100, min_success_rate=0.99)
        done = connections(dead, 100, max_ms=5000, allowed_failures=budget.allowed_failures)
        assert len(done) == 2  # two failures decide a 99 % rate: no need for 98 more
        assert "nothing listens there" in str(done[0].error)
        result = check_connect(done, budget)
        assert result.status is Status.FAIL
        assert "stopped after 2" in result.summary
        probes = health_probes(dead, 5, 1000)
        result = check_health(probes, HealthCheck(runs=5, min_successes=4, timeout_ms=1000))
        assert result.status is Status.FAIL
        assert result.evidence["strip"] == "00000"

    def test_health_runs_select_1_in_a_row_on_one_session(self, pg_connector: Connector) -> None:
        # A generous timeout: the point is the count and the strip, not the speed.
        probes = health_probes(pg_connector, 100, timeout_ms=30_000)
        assert len(probes) == 100
        result = check_health(probes, HealthCheck(timeout_ms=30_000))
        assert result.status is Status.PASS
        assert result.evidence["strip"] == "1" * 100

    def test_one_failure_in_a_hundred_is_allowed_two_are_not(self) -> None:
        probes = [Probe(True, 1.0)] * 99 + [Probe(False, 1.0, "late")]
        assert check_health(probes, HealthCheck()).status is Status.PASS
        probes = [Probe(True, 1.0)] * 98 + [Probe(False, 1.0, "late")] * 2
        result = check_health(probes, HealthCheck())
        assert result.status is Status.FAIL
        assert "98 of 100 SELECT 1 probes" in result.summary
        assert result.evidence["strip"].endswith("00")

    def test_min_successes_cannot_exceed_runs(self) -> None:
        with pytest.raises(ValueError, match="exceeds runs"):
            HealthCheck(runs=10, min_successes=11)


# One process of a run asking the store for query "q": its measurement draws fresh random
# samples and notes the call, and waits until every process has arrived, so whichever measures
# does so while the others are asking too.
ASK = """
import json, random, sys, time
from pathlib import Path
from harness.latency.store import LOCK_NAME, TimingStore
from harness.latency.timing import Timing

folder, me, everyone = Path(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
(folder.parent / f"arrived-{me}").touch()

def measure():
    with open(folder.parent / "measured", "a") as calls:
        calls.write(me + "\\n")
    deadline = time.monotonic() + 60  # a guard against a hang, not a timing
    while not all((folder.parent / f"arrived-{p}").exists() for p in everyone):
        assert time.monotonic() < deadline, "the other processes never arrived"
        time.sleep(0.01)
    return {role: Timing([random.random() for _ in range(5)]) for role in ("source", "target")}

got = TimingStore(folder).get("q", measure)
print(json.dumps({role: t.samples_ms for role, t in got.items()}))
"""


class TestOneTimingPerRun:
    """The store, not the scheduler, makes a query's items judge one timing
    (:mod:`harness.latency.store`)."""

    def test_processes_sharing_a_folder_get_the_one_measurement_made(self, tmp_path: Path) -> None:
        folder, everyone = tmp_path / "shared", ["a", "b", "c"]
        asking = [
            subprocess.Popen(
                [sys.executable, "-c", ASK, str(folder), me, ",".join(everyone)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for me in everyone
        ]
        answers = []
        for process in asking:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            answers.append(json.loads(out))
        assert len((tmp_path / "measured").read_text().split()) == 1
        assert answers[0] == answers[1] == answers[2]
        assert len(answers[0]["source"]) == 5

    def test_a_second_store_on_the_folder_reads_what_the_first_measured(
        self, tmp_path: Path
    ) -> None:
        first, second = TimingStore(tmp_path), TimingStore(tmp_path)
        measured = {"source": timing(1.25, 2.5), "target": timing(0.1 + 0.2)}
        assert first.get("q", lambda: measured) == measured
        assert second.get("q", lambda: pytest.fail("measured twice")) == measured
        assert second.get("other", lambda: "cannot time other: no SQL") == (
            "cannot time other: no SQL"
        )
        assert first.get("other", lambda: pytest.fail("measured twice")) == (
            "cannot time other: no SQL"
        )

    def test_every_measurement_holds_the_runs_one_timing_lock(self, tmp_path: Path) -> None:
        """So no two timings of a run overlap, whichever workers take them."""

        def lock_is_held() -> bool:
            other = FileLock(str(tmp_path / LOCK_NAME), timeout=0)  # as another worker would
            try:
                other.acquire()
            except Timeout:
                return True
            other.release()
            return False

        store = TimingStore(tmp_path)
        assert store.get("q", lambda: str(lock_is_held())) == "True"
        with store.exclusive():  # connect and health checks time under it too
            assert lock_is_held()
        assert not lock_is_held()

    def test_a_measurement_that_raises_records_nothing(self, tmp_path: Path) -> None:
        def crash() -> str:
            raise RuntimeError("the database went away")

        with pytest.raises(RuntimeError):
            TimingStore(tmp_path).get("q", crash)
        assert TimingStore(tmp_path).get("q", lambda: "measured again") == "measured again"

    def test_a_process_that_is_the_whole_run_measures_once_in_memory(self) -> None:
        calls: list[str] = []
        store = TimingStore()
        for _ in range(2):
            store.get("q", lambda: calls.append("q") or {"target": timing(1.0)})
        assert calls == ["q"]
        with store.exclusive():  # nothing to share: holding it is free
            pass

    def test_the_workers_of_a_run_share_a_folder_beside_their_base_folders(
        self, tmp_path: Path
    ) -> None:
        def worker(name: str, run: str) -> pytest.Config:
            return cast(
                pytest.Config,
                SimpleNamespace(
                    workerinput={"workerid": name, "testrunuid": run},
                    getoption=lambda option: str(tmp_path / "basetemp" / f"popen-{name}"),
                ),
            )

        one_run = {TimingStore.for_run(worker(name, "r1")).folder for name in ("gw0", "gw1")}
        assert one_run == {tmp_path / "basetemp" / "cutover-timings-r1"}
        assert TimingStore.for_run(worker("gw0", "r2")).folder not in one_run
        controller = cast(pytest.Config, SimpleNamespace(getoption=lambda option: None))
        assert TimingStore.for_run(controller).folder is None
