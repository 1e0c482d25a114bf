"""Row parity's bounded path (Aurora DSQL's) through the local DSQL, beside the plain TLS front.

    python benchmarks/rows_dsql.py                 # 1,000,000 rows, 3 interleaved runs
    python benchmarks/rows_dsql.py --rows 20000 --repeat 1   # a smoke run

On a server that ends transactions after five minutes (``PostgresDatabase.bounded``: the
``dsql`` and ``dsql-local`` kinds) no statement of the row comparison spans a large table:
the first pass goes in blocks of ``BOUNDED_SEGMENTS`` segments, the key's bounds are read
first to cut them, samples are read a few keys at a time, and the session's SETs are left
out (docs/scale.md). This times that path where it really runs, against a local DSQL
(:class:`harness.dsql_local.DsqlLocal`: the same PostgreSQL 16 build behind DSQL's guard,
TLS, a fresh IAM token per connection, every statement parsed and checked), beside the same
comparison on a plain PostgreSQL behind the TLS front the endpoint tests use, in one run.

The source is ``t`` of ``benchmarks/rows.py`` on an embedded PostgreSQL 16 (TCP). The plain
target is its ``TEMPLATE`` copy on the same server, reached through the TLS front. The
local DSQL's target is created and loaded through its guard, in transactions of 3,000 rows
(DSQL's limit: ``INSERT … SELECT … generate_series`` a block at a time), and the 13 diff
lines are planted through it too; only ``VACUUM (FREEZE, ANALYZE)``, which DSQL's SQL has no
statement for, goes to the PostgreSQL behind the guard (``DsqlLocal.cluster``), as it goes to
the plain target. Each state (identical, 13 diff lines) times, interleaved ``--repeat`` times
(medians reported, every run in the JSON), each tool in a child process of its own:

- **floor**: ``benchmarks/rows.py``'s MD5 hash scan of the source and the plain target (the
  row hash the bounded path sums: DSQL is not known to offer the cheaper one);
- **tls**: cutover with the target through the TLS front as ``kind: postgres`` (one scan a
  side);
- **tls bounded**: the same target as ``kind: dsql``: the bounded statements on the same
  server, so ``tls_bounded_over_tls`` is what bounding costs;
- **dsql-local**: the target the local DSQL (``kind: dsql-local``), so
  ``dsql_local_over_tls_bounded`` is what the guard and the tokens cost, and
  ``dsql_local_over_tls`` both.

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, as faults.py does

from benchmarks.rows import (  # the data, the floor and the child-process jobs
    DIFF_LINES,
    PG_FILL,
    PG_TABLE,
    build_postgres,
    connector,
    median_run,
    plant_differences,
    ratio,
    run_job,
)
from harness.dsql_local import DsqlLocal
from harness.dsql_local.identity import process_identity
from harness.embedded.provision import PostgresCluster

DSQL_ROWS_PER_TRANSACTION = 3_000
"""Aurora DSQL's limit on rows modified by one transaction (the local DSQL enforces it)."""
BLOCK_FILL = PG_FILL.replace("generate_series(1, %s::bigint)", "generate_series(%s, %s::bigint)")
WAYS = ("floor", "tls", "tls bounded", "dsql-local")


def load_dsql(dsql: DsqlLocal, rows: int) -> float:
    """``t`` with ``rows`` rows in the local DSQL, written through its guard in transactions
    of DSQL's size; then frozen and analysed behind it. Seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(guarded(dsql), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS t")
        conn.execute(PG_TABLE)
        for lo in range(1, rows + 1, DSQL_ROWS_PER_TRANSACTION):
            hi = min(lo + DSQL_ROWS_PER_TRANSACTION - 1, rows)
            conn.execute(BLOCK_FILL, (lo, hi))  # autocommit: one transaction each
    vacuum_behind(dsql)
    return time.perf_counter() - started


def guarded(dsql: DsqlLocal) -> str:
    """A session through the guard, with a freshly signed admin token."""
    return dsql.conninfo("admin", password=dsql.token("admin"))


def vacuum_behind(dsql: DsqlLocal) -> None:
    with psycopg.connect(dsql.cluster.conninfo(), autocommit=True) as conn:
        conn.execute("VACUUM (FREEZE, ANALYZE) t")


def targets(cluster: PostgresCluster, target_dsn: str, dsql: DsqlLocal) -> dict[str, Any]:
    """The three targets' connectors (the harness's own, as a plan resolves them)."""
    dbname = psycopg.conninfo.conninfo_to_dict(target_dsn)["dbname"]
    front = psycopg.conninfo.make_conninfo(
        "", host="127.0.0.1", port=cluster.tls_port, dbname=dbname, user="postgres"
    )
    front += " sslmode=require"
    plain = {"role": "target", "dialect": "postgres", "address": front}
    return {
        "tls": {**plain, "kind": "postgres", "display": "target (TLS front)"},
        "tls bounded": {**plain, "kind": "dsql", "display": "target (TLS front, bounded)"},
        "dsql-local": {
            "role": "target",
            "kind": "dsql-local",
            "dialect": "postgres",
            "address": dsql.conninfo("admin"),
            "display": "target (local DSQL)",
            # No identity_env: the token is signed with the process's AWS credentials, the
            # ones process_identity() gave the local DSQL (children inherit them).
            "token": {
                "hostname": dsql.endpoint,
                "region": dsql.region,
                "admin": True,
                "expires_in": 900,
            },
        },
    }


def state_runs(
    state: str,
    rows: int,
    source: str,
    target: str,
    ways: dict[str, Any],
    repeat: int,
) -> dict[str, Any]:
    floor = {"postgres": [source, target], "md5": True}  # no other row hash on DSQL
    jobs: dict[str, tuple[str, dict[str, Any]]] = {"floor": ("floor", floor)}
    for way, target_connector in ways.items():
        spec = {"source": connector("source", source, sqlite=False), "target": target_connector}
        jobs[way] = ("cutover", spec)
    runs: dict[str, list[dict[str, Any]]] = {way: [] for way in jobs}
    for _ in range(repeat):
        for way, (tool, spec) in jobs.items():
            runs[way].append(run_job(tool, **spec))
    best = {way: median_run(found) for way, found in runs.items()}
    seconds = {way: best[way].get("seconds") for way in jobs}
    result: dict[str, Any] = {"scenario": f"PG→DSQL {state}", "rows": rows}
    for way in jobs:
        key = way.replace(" ", "_").replace("-", "_")
        result[f"{key}_s"] = None if seconds[way] is None else round(seconds[way], 3)
        result[f"{key}_runs_s"] = best[way].get("runs_s")
        result[f"{key}_rss_mb"] = best[way].get("peak_rss_mb")
        if way != "floor":
            result[f"{key}_round_trips"] = best[way].get("round_trips")
            result[f"{key}_diff_lines"] = best[way].get("diff_lines")
            result[f"{key}_error"] = best[way].get("error")
    result["tls_over_floor"] = ratio(seconds["tls"], seconds["floor"])
    result["tls_bounded_over_tls"] = ratio(seconds["tls bounded"], seconds["tls"])
    result["dsql_local_over_tls_bounded"] = ratio(seconds["dsql-local"], seconds["tls bounded"])
    result["dsql_local_over_tls"] = ratio(seconds["dsql-local"], seconds["tls"])
    return result


def print_result(r: dict[str, Any]) -> None:
    cells = []
    for way in WAYS:
        key = way.replace(" ", "_").replace("-", "_")
        trips = r.get(f"{key}_round_trips")
        lines = r.get(f"{key}_diff_lines")
        extra = "" if way == "floor" else f" lines {lines} trips {trips}"
        error = r.get(f"{key}_error")
        cells.append(f"{way} {r[f'{key}_s']}s{extra}" + (f" ERROR {error}" if error else ""))
    print(f"{r['rows']:>9,} {r['scenario']:<24} " + " | ".join(cells), flush=True)
    print(
        f"{'':>9} ratios: tls bounded / tls {r['tls_bounded_over_tls']}x, dsql-local / tls "
        f"bounded {r['dsql_local_over_tls_bounded']}x, dsql-local / tls "
        f"{r['dsql_local_over_tls']}x",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="table size")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each way per state, interleaved; the median is reported (default 3)",
    )
    args = parser.parse_args(argv)
    results = []
    with (
        process_identity() as identity,
        PostgresCluster(tcp=True, tls=True) as cluster,
        DsqlLocal(identity=identity) as dsql,
    ):
        started = time.perf_counter()
        source, target = build_postgres(cluster, args.rows)
        built_pg = time.perf_counter() - started
        loaded_dsql = load_dsql(dsql, args.rows)
        print(
            f"built: PostgreSQL {built_pg:.1f} s; local DSQL {loaded_dsql:.1f} s through its "
            f"guard ({-(-args.rows // DSQL_ROWS_PER_TRANSACTION)} transactions)",
            flush=True,
        )
        run_job("floor", postgres=[source, target], md5=True)  # warm the OS cache, untimed
        ways = targets(cluster, target, dsql)
        for state in ("identical", "13 diff lines"):
            if state != "identical":
                plant_differences(target, args.rows)
                plant_differences(guarded(dsql), args.rows, vacuum=False)
                vacuum_behind(dsql)
            results.append(state_runs(state, args.rows, source, target, ways, args.repeat))
            print_result(results[-1])
        server = cluster.server_version()
    print(
        json.dumps(
            {
                "benchmark": "rows_dsql",
                "cpus": os.cpu_count(),
                "postgres": server,
                "rows": args.rows,
                "expected_diff_lines": DIFF_LINES,
                "repeat": args.repeat,
                "build_s": {"postgres": round(built_pg, 1), "dsql_local": round(loaded_dsql, 1)},
                "results": results,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
