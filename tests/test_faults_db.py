"""Real database faults through the fault proxy: refused, reset mid-query, black hole, server
restart, wrong password, and genuine SQLSTATE 40001 — each answered by harness.endpoints.retry."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from harness.embedded.provision import PostgresCluster
from harness.endpoints.retry import Backoff
from harness.faults.db import RetryLog, Session, connector, provoke_conflict
from harness.faults.pytest_fixtures import ProxyFactory

Cluster = tuple[PostgresCluster, str]


@pytest.fixture
def database(pg_password_cluster: Cluster) -> Iterator[str]:
    """A fresh database (created here, dropped after) with a ``counters`` table."""
    cluster, _ = pg_password_cluster
    name = f"f_{uuid.uuid4().hex[:10]}"
    dsn = cluster.create_database(name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE counters (id int PRIMARY KEY, hits int NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO counters (id) VALUES (1)")
    yield name
    cluster.drop_database(name)


def via(proxy_port: int, dbname: str = "postgres") -> str:
    return f"host=127.0.0.1 port={proxy_port} user=postgres dbname={dbname}"


class FakeClock:
    """An injected sleep: records each requested delay and runs a hook on the n-th call."""

    def __init__(self, on_call: dict[int, Any] | None = None) -> None:
        self.delays: list[float] = []
        self.on_call = on_call or {}

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        action = self.on_call.get(len(self.delays))
        if action is not None:
            action()


POLICY = Backoff(initial=0.1, multiplier=2.0, cap=0.3, attempts=6, jitter="full")


class TestRetryScheduleWithAnInjectedClock:
    def test_refused_three_times_then_up_waits_exactly_the_policy_schedule(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        proxy.disable()
        clock = FakeClock(on_call={3: proxy.enable})  # up again during the third wait
        log = RetryLog(sleep=clock, rand=lambda: 0.5)
        with Session(connector(via(proxy.port), password=password), policy=POLICY,
                     endpoint="target", log=log) as session:  # fmt: skip
            session.open()
        # Full jitter at rand = 0.5: half of each ceiling 0.1, 0.2, 0.4→capped 0.3.
        assert clock.delays == [0.05, 0.1, 0.15]
        assert [a.outcome for a in log.attempts] == ["retry", "retry", "retry", "ok"]
        assert {a.error_class for a in log.attempts[:3]} == {"connection"}

    def test_permanently_down_gives_up_after_the_policy_attempts(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        proxy.disable()
        clock = FakeClock()
        log = RetryLog(sleep=clock, rand=lambda: 1.0)
        session = Session(connector(via(proxy.port), password=password), policy=POLICY,
                          endpoint="target", log=log)  # fmt: skip
        with pytest.raises(psycopg.OperationalError) as caught:
            session.open()
        assert clock.delays == [0.1, 0.2, 0.3, 0.3, 0.3]
        assert log.attempts[-1].outcome == "give_up"
        assert "refused" in session.message(caught.value)


class TestRetryScheduleInRealTime:
    def test_observed_gaps_between_attempts_grow(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        proxy.disable()
        seen: list[float] = []
        log = RetryLog()
        original = log.record

        def stamp(attempt: Any) -> None:
            seen.append(time.monotonic())
            original(attempt)

        log.record = stamp  # type: ignore[method-assign]
        # Waits 0.05, 0.2, 0.8 s: the proxy comes back during the third wait, and each
        # observed gap must be longer than the last (ordering only, no absolute threshold).
        policy = Backoff(initial=0.05, multiplier=4.0, cap=2.0, attempts=8, jitter="none")
        timer = threading.Timer(0.5, proxy.enable)
        timer.start()
        try:
            with Session(connector(via(proxy.port), password=password), policy=policy,
                         endpoint="target", log=log) as session:  # fmt: skip
                assert session.query("SELECT 1") == [(1,)]
        finally:
            timer.cancel()
        assert log.attempts[-1].outcome == "ok"
        assert len(log.attempts) >= 3
        gaps = [later - earlier for earlier, later in itertools.pairwise(seen)]
        assert gaps == sorted(gaps)  # each wait longer than the one before, as scheduled
        assert log.delays == sorted(log.delays)


class TestNetworkFaults:
    def test_reset_mid_query_is_retried_on_a_new_connection(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        log = RetryLog(sleep=FakeClock(on_call={1: proxy.clear}), rand=lambda: 0.0)
        with Session(connector(via(proxy.port), password=password), policy=POLICY,
                     endpoint="target", log=log) as session:  # fmt: skip
            session.open()
            proxy.add_toxic("reset_peer", stream="downstream", timeout=0)  # answer → RST
            assert session.query("SELECT 7") == [(7,)]
            assert session.connects == 2
        assert proxy.stats.resets == 1
        # open() succeeded, the query's first attempt met the reset, its retry succeeded.
        assert [a.error_class for a in log.attempts] == [None, "connection", None]

    def test_black_hole_closes_and_the_query_is_retried(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        log = RetryLog(sleep=FakeClock(on_call={1: proxy.clear}), rand=lambda: 0.0)
        with Session(connector(via(proxy.port), password=password), policy=POLICY,
                     endpoint="target", log=log) as session:  # fmt: skip
            session.open()
            proxy.add_toxic("timeout", stream="downstream", timeout=150)
            assert session.query("SELECT 8") == [(8,)]
        assert proxy.stats.closed_by_toxic == 1
        assert [a.error_class for a in log.attempts] == [None, "connection", None]

    def test_slow_network_delays_every_answer(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        with Session(connector(via(proxy.port), password=password), policy=POLICY,
                     endpoint="target") as session:  # fmt: skip
            session.open()
            proxy.add_toxic("latency", stream="downstream", latency=80, jitter=10)
            start = time.monotonic()
            session.query("SELECT 1")
            assert time.monotonic() - start >= 0.07  # lower bound: the injected delay


class TestServerFaults:
    def test_server_restart_is_survived_by_reconnecting(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        log = RetryLog(sleep=FakeClock(), rand=lambda: 0.0)
        with Session(connector(via(proxy.port), password=password), policy=POLICY,
                     endpoint="target", log=log) as session:  # fmt: skip
            (before,) = session.query("SELECT pg_postmaster_start_time()")
            cluster.restart()
            (after,) = session.query("SELECT pg_postmaster_start_time()")
        assert after > before
        assert log.attempts[-2].error_class == "connection"
        assert log.attempts[-1].outcome == "ok"

    def test_wrong_password_fails_at_once_and_never_shows_it(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster
    ) -> None:
        cluster, _ = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        wrong = "not-the-Password-42"
        log = RetryLog(sleep=FakeClock())
        session = Session(connector(via(proxy.port), password=wrong), policy=POLICY,
                          endpoint="target", log=log, secrets=(wrong,))  # fmt: skip
        with pytest.raises(psycopg.OperationalError) as caught:
            session.open()
        assert [(a.error_class, a.outcome) for a in log.attempts] == [("auth", "give_up")]
        message = session.message(caught.value)
        assert "password authentication failed" in message
        assert wrong not in message


class TestSerializationConflicts:
    def test_genuine_40001_from_two_repeatable_read_transactions(
        self, pg_password_cluster: Cluster, database: str
    ) -> None:
        cluster, _ = pg_password_cluster
        connect = connector(cluster.conninfo(database))
        with connect() as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with pytest.raises(psycopg.errors.SerializationFailure) as caught, conn.transaction():
                provoke_conflict(conn, connect, sql.Identifier("counters"), 1)
        assert caught.value.sqlstate == "40001"

    def test_the_whole_transaction_is_retried_until_it_commits(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster, database: str
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        rival = connector(cluster.conninfo(database))
        clock = FakeClock()
        log = RetryLog(sleep=clock, rand=lambda: 1.0)
        bodies: list[int] = []

        def body(conn: psycopg.Connection[Any], attempt: int) -> int:
            bodies.append(attempt)
            if attempt <= 2:  # lose the race twice, then win
                provoke_conflict(conn, rival, sql.Identifier("counters"), 1)
            conn.execute("UPDATE counters SET hits = hits + 100 WHERE id = 1")
            row = conn.execute("SELECT hits FROM counters WHERE id = 1").fetchone()
            assert row is not None
            return int(row[0])

        with Session(connector(via(proxy.port, database), password=password), policy=POLICY,
                     endpoint="target", log=log) as session:  # fmt: skip
            hits = session.transaction(body)
        assert bodies == [1, 2, 3]
        assert hits == 102  # two rival commits + ours once: nothing half-applied or doubled
        assert [a.error_class for a in log.attempts] == ["conflict", "conflict", None]
        assert clock.delays == [0.1, 0.2]
