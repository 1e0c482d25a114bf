"""Latency: cutover's timing loop against a bare psycopg loop, same queries, same run.

    python benchmarks/latency.py [--rows 100000] [--runs 1] [--rounds 1000]

On one embedded PostgreSQL 16 (TCP on 127.0.0.1, like a real endpoint) it loads
``events(id bigint primary key, account_id int, kind text, amount numeric(12,2), occurred_at
timestamp)`` with an index on ``(account_id, occurred_at)`` and times four queries — a point
look-up, an index range with ORDER BY/LIMIT, a LIKE search and a grouped aggregate — with
varied parameters, two ways on one session (same backend, same prepared statements):

- **harness** — :func:`harness.latency.timing.time_runs` over
  :func:`harness.latency.timing.executor`, exactly what ``latency[...]`` items run;
- **bare** — ``cursor.execute(sql, params); cursor.fetchall()`` between two
  ``perf_counter_ns()`` calls, the least any timer can do.

The two alternate run by run by default (which goes first alternates too), so drift in
machine load falls on both alike. The harness's overhead is its p50 over the bare loop's p50,
minus one, per query; over all queries (sum of p50s against sum of p50s) it must stay under
5%. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from harness.db.database import PostgresDatabase
from harness.embedded.provision import PostgresCluster
from harness.latency.timing import executor, summary, time_runs

OVERHEAD_BUDGET = 0.05

QUERIES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "point_lookup": (
        "SELECT id, kind, amount, occurred_at FROM events WHERE id = %(id)s",
        [{"id": i * 7919 % 100_000 + 1} for i in range(50)],
    ),
    "recent_for_account": (
        "SELECT id, kind, amount, occurred_at FROM events WHERE account_id = %(account)s"
        " ORDER BY occurred_at DESC LIMIT 20",
        [{"account": i * 37 % 2000 + 1} for i in range(50)],
    ),
    "kind_like": (
        "SELECT count(*) FROM events WHERE kind LIKE %(pattern)s AND account_id = %(account)s",
        [{"pattern": p, "account": a} for p in ("card%", "%fer", "dep%") for a in (5, 50, 500)],
    ),
    "daily_totals": (
        "SELECT date_trunc('day', occurred_at) AS day, count(*), sum(amount) FROM events"
        " WHERE account_id BETWEEN %(low)s AND %(low)s + 20 GROUP BY 1 ORDER BY 1",
        [{"low": i * 97 % 1900 + 1} for i in range(30)],
    ),
}


def load(dsn: str, rows: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE events (id bigint PRIMARY KEY, account_id int NOT NULL,"
            " kind text NOT NULL, amount numeric(12,2), occurred_at timestamp NOT NULL)"
        )
        conn.execute(
            "INSERT INTO events SELECT g, 1 + (g * 7) %% 2000,"
            " (ARRAY['card_payment','transfer','deposit','fee'])[1 + g %% 4],"
            " round((g %% 997) * 1.37, 2), timestamp '2024-01-01' + g * interval '37 seconds'"
            " FROM generate_series(1, %s) AS g",
            (rows,),
        )
        conn.execute("CREATE INDEX ix_events_account ON events (account_id, occurred_at)")
        conn.execute("ANALYZE events")


def bare_loop(
    cursor: psycopg.Cursor[Any], text: str, sets: list[dict[str, Any]], runs: int
) -> list[float]:
    clock = time.perf_counter_ns
    samples = []
    for i in range(runs):
        params = sets[i % len(sets)]
        start = clock()
        cursor.execute(text, params)  # type: ignore[arg-type]
        cursor.fetchall()
        samples.append((clock() - start) / 1e6)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1, help="timed runs per loop per round")
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    with PostgresCluster(tcp=True) as cluster:
        dsn = cluster.create_database("bench")
        load(dsn, args.rows)
        options = "-c default_transaction_read_only=on -c TimeZone=UTC"
        # One session for both loops: the same backend, plan cache and prepared statements,
        # so the only difference left is the code around the query.
        conn = psycopg.connect(dsn, autocommit=True, options=options)
        db = PostgresDatabase(conn, "bench", "public")
        bare_cursor = conn.cursor()
        for name, (text, sets) in QUERIES.items():
            run = executor(db, text)
            for _ in range(5):  # warm both sessions' caches and prepared statements alike
                run(sets[0])
                bare_loop(bare_cursor, text, sets, 1)
            harness_ms: list[float] = []
            bare_ms: list[float] = []
            for round_no in range(args.rounds):
                order = ("harness", "bare") if round_no % 2 == 0 else ("bare", "harness")
                for which in order:
                    if which == "harness":
                        timing = time_runs(run, sets, warmup=0, runs=args.runs, max_seconds=60)
                        harness_ms += timing.samples_ms
                    else:
                        bare_ms += bare_loop(bare_cursor, text, sets, args.runs)
            h, b = summary(harness_ms), summary(bare_ms)
            overhead = float(h["p50"] or 0) / float(b["p50"] or 1) - 1
            figures[name] = {"harness_ms": h, "bare_ms": b, "overhead_p50": round(overhead, 4)}
        conn.close()
    worst = max(f["overhead_p50"] for f in figures.values())
    # Pooled over the queries: the sum of the harness's p50s over the sum of the bare ones.
    pooled = (
        sum(float(f["harness_ms"]["p50"]) for f in figures.values())
        / sum(float(f["bare_ms"]["p50"]) for f in figures.values())
        - 1
    )
    print(f"{'query':<20} {'bare p50':>10} {'harness p50':>12} {'overhead':>9}")
    for name, f in figures.items():
        print(
            f"{name:<20} {f['bare_ms']['p50']:>9.3f}ms {f['harness_ms']['p50']:>10.3f}ms"
            f" {f['overhead_p50']:>+8.1%}"
        )
    verdict = "within" if pooled < OVERHEAD_BUDGET else "OVER"
    print(
        f"overhead at p50: {pooled:+.1%} over all queries ({verdict} the "
        f"{OVERHEAD_BUDGET:.0%} budget); worst single query {worst:+.1%}"
    )
    print(
        json.dumps(
            {
                "benchmark": "latency",
                "rows": args.rows,
                "runs_per_loop": args.runs * args.rounds,
                "queries": figures,
                "overhead_p50": round(pooled, 4),
                "worst_query_overhead_p50": worst,
                "budget": OVERHEAD_BUDGET,
                "within_budget": pooled < OVERHEAD_BUDGET,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
