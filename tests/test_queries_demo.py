"""The demo's queries at full size (200,000 events): all pass on a faithful copy, and the
drifted copy fails exactly the query and latency checks its drift breaks.

The one timing-dependent expectation is the dropped index: the activity page goes from
twenty index probes (well under a millisecond) to twenty scans of 200,000 rows (hundreds
of milliseconds), against a budget of five times the source's p95 with a 50 ms floor. The
margin is two orders of magnitude on either side, so machine load cannot flip it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from harness.demo.data import DRIFT, apply_drift, build_demo_sqlite
from harness.demo.queries import EXPECTED_BREAKS, QUERY_DRIFT, apply_query_drift, plan_sections
from harness.embedded.migrate import copy_sqlite
from harness.embedded.provision import PostgresCluster
from harness.endpoints.resolve import Connector, open_database
from harness.latency.check import check_budget, items
from harness.latency.settings import LatencySettings
from harness.latency.timing import Timing
from harness.queries.check import check_query
from harness.queries.corpus import load_corpus
from harness.queries.params import param_sets
from harness.queries.settings import QuerySettings
from harness.results.check import CheckResult, Status

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str, str]]:
    app_db = tmp_path_factory.mktemp("demo") / "app.db"
    build_demo_sqlite(app_db)
    good = pg_cluster.create_database("qdemo_good")
    copy_sqlite(app_db, good)
    drifted = pg_cluster.create_database("qdemo_drifted", template="qdemo_good")
    with psycopg.connect(drifted) as conn:
        apply_drift(conn)
        apply_query_drift(conn)
    yield app_db, good, drifted
    pg_cluster.drop_database("qdemo_drifted")
    pg_cluster.drop_database("qdemo_good")


def failing_checks(app_db: Path, dsn: str) -> set[str]:
    """Run every demo query and latency budget the way the scenarios do; the failing ids."""
    sections = plan_sections()
    queries = QuerySettings.model_validate(sections["queries"])
    # Fewer timed runs than the demo's, same budgets: the margins are wide (module docstring).
    latency = LatencySettings.model_validate(sections["latency"]).model_copy(
        update={"warmup": 1, "runs": 8}
    )
    source = open_database(Connector("source", "sqlite", "sqlite", str(app_db), "sqlite"))
    target = open_database(Connector("target", "postgres", "postgres", dsn, "pg", "public"))
    results: list[CheckResult] = []
    try:
        specs = {
            s.name: s
            for s in load_corpus(queries, source_dialect="sqlite", target_dialect="postgres")
        }
        sets = {
            name: param_sets(
                name,
                fixed=spec.query.params,
                generate=spec.query.generate,
                samples=spec.query.samples or queries.samples,
                seed=queries.seed,
                source=source,
            )
            for name, spec in specs.items()
        }
        for name, spec in specs.items():
            results.append(
                check_query(spec, sets[name], source_db=source, target_db=target, settings=queries)
            )
        from harness.latency.check import measure

        timings: dict[str, dict[str, Timing] | str] = {}
        for item in items(sorted(specs), latency):
            if item.query is None:
                continue  # connect and health have tests of their own
            if item.query not in timings:
                timings[item.query] = measure(
                    specs[item.query],
                    sets[item.query],
                    source_db=source,
                    target_db=target,
                    settings=latency,
                )
            results.append(
                check_budget(item, timings[item.query], latency.budget(item.query), latency)
            )
    finally:
        source.close()
        target.close()
    return {r.id for r in results if r.status in (Status.FAIL, Status.ERROR)}


def test_every_drift_has_its_expected_breaks_listed() -> None:
    assert set(EXPECTED_BREAKS) == {d.name for d in (*DRIFT, *QUERY_DRIFT)}


def test_the_demo_queries_all_pass_on_a_faithful_copy(demo: tuple[Path, str, str]) -> None:
    app_db, good, _ = demo
    assert failing_checks(app_db, good) == set()


def test_the_drifted_copy_fails_exactly_the_checks_its_drift_breaks(
    demo: tuple[Path, str, str],
) -> None:
    app_db, _, drifted = demo
    expected = {check for breaks in EXPECTED_BREAKS.values() for check in breaks}
    assert failing_checks(app_db, drifted) == expected
