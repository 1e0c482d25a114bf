"""Faults: what the fault proxy itself costs when it injects nothing, and the workload's pace.

    python benchmarks/faults.py [--rounds 2000] [--bulk-mb 8] [--writes 300]

On one embedded PostgreSQL 16 (TCP on 127.0.0.1, with a password), measured side by side in
one run:

- **round trip** — ``SELECT 1`` on a session straight to the server and on a session through
  a :class:`harness.faults.proxy.FaultProxy` with no toxic, alternating run by run (so machine
  load falls on both); reported as p50/p95 and the proxy's p50 ratio;
- **bulk** — one ``SELECT`` returning ``--bulk-mb`` of text, direct and through the proxy,
  alternating; reported as MB/s and the throughput ratio;
- **workload** — the no-lost-writes workload (:mod:`harness.faults.workload`) with and without
  resets, acknowledged writes per second and the figures (lost and duplicated must be 0).

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from harness.embedded.provision import PostgresCluster
from harness.faults.db import connector
from harness.faults.proxy import FaultProxy
from harness.faults.workload import WorkloadSettings, prepare, run_workload, verify
from harness.latency.timing import summary


def _time(conn: psycopg.Connection[Any], query: str) -> float:
    start = time.perf_counter_ns()
    conn.execute(query).fetchall()
    return (time.perf_counter_ns() - start) / 1e6


def round_trips(direct: Any, proxied: Any, rounds: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = {"direct": [], "proxy": []}
    for i in range(rounds):
        order = (("direct", direct), ("proxy", proxied))
        for name, conn in order if i % 2 == 0 else reversed(order):
            samples[name].append(_time(conn, "SELECT 1"))
    stats = {name: summary(values) for name, values in samples.items()}
    ratio = float(stats["proxy"]["p50"] or 0) / max(float(stats["direct"]["p50"] or 0), 1e-9)
    return {**stats, "p50_ratio": round(ratio, 3)}


def bulk(direct: Any, proxied: Any, megabytes: int, repeats: int = 3) -> dict[str, Any]:
    query = f"SELECT repeat('x', 1048576) FROM generate_series(1, {megabytes})"  # noqa: S608
    best: dict[str, float] = {"direct": 1e18, "proxy": 1e18}
    for i in range(repeats * 2):
        name, conn = (("direct", direct), ("proxy", proxied))[(i + i // 2) % 2]
        best[name] = min(best[name], _time(conn, query))
    rates = {name: round(megabytes / (ms / 1000), 1) for name, ms in best.items()}
    return {"mb_per_s": rates, "throughput_ratio": round(rates["proxy"] / rates["direct"], 3)}


def workload(cluster: PostgresCluster, password: str, writes: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, resets in (("calm", (0.0, 0.0)), ("resets", (0.05, 0.15))):
        name = f"bench_{label}"
        prepare(cluster.create_database(name))
        with FaultProxy((cluster.host, cluster.port), seed=1) as proxy:
            settings = WorkloadSettings(writes=writes, seed=1, reset_every_s=resets)
            start = time.monotonic()
            made, logs = run_workload(
                connector(
                    f"host=127.0.0.1 port={proxy.port} user=postgres dbname={name}",
                    password=password,
                ),
                settings=settings,
                proxy=proxy,
            )
            seconds = time.monotonic() - start
            figures = verify(cluster.conninfo(name), made, logs, resets_injected=proxy.stats.resets,
                             seconds=seconds)  # fmt: skip
        data = figures.to_dict()
        data["acknowledged_per_s"] = round(figures.acknowledged / seconds, 1)
        out[label] = data
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--bulk-mb", type=int, default=8)
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    password = secrets.token_urlsafe(12)
    with PostgresCluster(tcp=True, password=password) as cluster:
        with FaultProxy((cluster.host, cluster.port)) as proxy:
            base = f"user=postgres dbname=postgres password={password} host=127.0.0.1"
            with (
                psycopg.connect(f"{base} port={cluster.port}", autocommit=True) as direct,
                psycopg.connect(f"{base} port={proxy.port}", autocommit=True) as proxied,
            ):
                trips = round_trips(direct, proxied, args.rounds)
                throughput = bulk(direct, proxied, args.bulk_mb)
        writes = workload(cluster, password, args.writes)
    result = {"round_trip_ms": trips, "bulk": throughput, "workload": writes}
    print(
        f"round trip p50: direct {trips['direct']['p50']} ms, proxy {trips['proxy']['p50']} ms "
        f"({trips['p50_ratio']}x)"
    )
    print(
        f"bulk: direct {throughput['mb_per_s']['direct']} MB/s, proxy "
        f"{throughput['mb_per_s']['proxy']} MB/s ({throughput['throughput_ratio']}x)"
    )
    for label, data in writes.items():
        print(
            f"workload {label}: {data['acknowledged']}/{data['attempted']} acknowledged, "
            f"{data['acknowledged_per_s']}/s, {data['resets_injected']} resets, "
            f"{data['conflicts']} conflicts, lost {data['lost']}, duplicated {data['duplicated']}"
        )
    print(json.dumps(result, sort_keys=True))
    lost = sum(data["lost"] + data["duplicated"] for data in writes.values())
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
