"""No lost writes: a few hundred acknowledged writes through the proxy under resets and
40001 conflicts; every acknowledged write is there exactly once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from harness.embedded.provision import PostgresCluster
from harness.endpoints.retry import Backoff
from harness.faults.db import connector
from harness.faults.proxy import FaultProxy
from harness.faults.pytest_fixtures import ProxyFactory
from harness.faults.workload import WorkloadSettings, prepare, run_workload, verify

Cluster = tuple[PostgresCluster, str]


@pytest.fixture
def scratch(pg_password_cluster: Cluster) -> Iterator[str]:
    """A database this test creates (the workload writes nowhere else), with its tables."""
    cluster, _ = pg_password_cluster
    name = f"wl_{uuid.uuid4().hex[:10]}"
    prepare(cluster.create_database(name))
    yield name
    cluster.drop_database(name)


def through(proxy: FaultProxy, dbname: str, password: str) -> Any:
    return connector(
        f"host=127.0.0.1 port={proxy.port} user=postgres dbname={dbname}", password=password
    )


def test_no_write_is_lost_or_doubled_under_resets_and_conflicts(
    fault_proxy: ProxyFactory, pg_password_cluster: Cluster, scratch: str
) -> None:
    cluster, password = pg_password_cluster
    proxy = fault_proxy((cluster.host, cluster.port))
    settings = WorkloadSettings(writes=300, workers=4, seed=3)
    start = time.monotonic()
    writes, logs = run_workload(through(proxy, scratch, password), settings=settings, proxy=proxy)
    figures = verify(
        cluster.conninfo(scratch),
        writes,
        logs,
        resets_injected=proxy.stats.resets,
        seconds=time.monotonic() - start,
    )
    assert figures.attempted == 300
    assert figures.acknowledged >= 250
    assert figures.resets_injected > 0
    assert figures.connection_errors > 0  # the resets really hit transactions
    assert figures.conflicts > 0  # and concurrent updates of hot rows really collided
    assert figures.retried > 0
    assert (figures.lost, figures.duplicated, figures.inconsistent_rows) == (0, 0, 0)
    assert figures.acknowledged + figures.failed == figures.attempted


def test_genuine_conflicts_are_retried_as_whole_transactions(
    fault_proxy: ProxyFactory, pg_password_cluster: Cluster, scratch: str
) -> None:
    cluster, password = pg_password_cluster
    proxy = fault_proxy((cluster.host, cluster.port))
    # Many workers on one hot row and no resets: REPEATABLE READ makes them collide.
    settings = WorkloadSettings(
        writes=160, workers=4, hot_rows=1, update_share=0.95, reset_every_s=(0, 0), seed=5,
        policy=Backoff(initial=0.001, multiplier=2.0, cap=0.05, attempts=30),
    )  # fmt: skip
    writes, logs = run_workload(through(proxy, scratch, password), settings=settings, proxy=proxy)
    figures = verify(cluster.conninfo(scratch), writes, logs)
    assert figures.conflicts > 0
    assert figures.acknowledged == figures.attempted
    assert (figures.lost, figures.duplicated, figures.inconsistent_rows) == (0, 0, 0)


class TestAmbiguousCommit:
    """The answer to COMMIT is lost (RST on the way back) after the server committed."""

    def run_one(self, proxy: FaultProxy, dbname: str, password: str, *, idempotent: bool) -> Any:
        def lose_the_answer(request_id: str, attempt: int) -> None:
            if attempt == 1:
                proxy.add_toxic("reset_peer", stream="downstream", timeout=0, name="lose")

        writes, logs = run_workload(
            through(proxy, dbname, password),
            settings=WorkloadSettings(writes=1, workers=1, reset_every_s=(0, 0)),
            idempotent=idempotent,
            before_commit=lose_the_answer,
            sleep=lambda _: proxy.clear(),  # the next attempt finds the network healthy
        )
        return writes, logs

    def test_a_retry_detects_the_committed_write_and_does_not_repeat_it(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster, scratch: str
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        writes, logs = self.run_one(proxy, scratch, password, idempotent=True)
        figures = verify(cluster.conninfo(scratch), writes, logs)
        assert writes[0].attempts == 2
        assert writes[0].deduplicated
        assert (figures.acknowledged, figures.ambiguous_commits) == (1, 1)
        assert (figures.lost, figures.duplicated) == (0, 0)

    def test_without_the_request_id_the_check_catches_the_duplicate(
        self, fault_proxy: ProxyFactory, pg_password_cluster: Cluster, scratch: str
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        writes, logs = self.run_one(proxy, scratch, password, idempotent=False)
        figures = verify(cluster.conninfo(scratch), writes, logs)
        assert figures.duplicated == 1
        assert figures.duplicated_ids == [writes[0].request_id]


def test_verify_reports_a_lost_acknowledged_write(
    fault_proxy: ProxyFactory, pg_password_cluster: Cluster, scratch: str
) -> None:
    cluster, password = pg_password_cluster
    proxy = fault_proxy((cluster.host, cluster.port))
    settings = WorkloadSettings(writes=5, workers=1, update_share=0.0, reset_every_s=(0, 0))
    writes, logs = run_workload(through(proxy, scratch, password), settings=settings)
    with psycopg.connect(cluster.conninfo(scratch), autocommit=True) as conn:
        conn.execute("DELETE FROM wl_items WHERE request_id = %s", (writes[2].request_id,))
    figures = verify(cluster.conninfo(scratch), writes, logs)
    assert figures.lost == 1
    assert figures.lost_ids == [writes[2].request_id]
