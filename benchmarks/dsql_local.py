"""What the local DSQL's guard costs beside the plain TLS front, measured side by side.

Two embedded PostgreSQL 16 servers of the same build: one behind the TLS front the other
endpoint tests use, one behind the local DSQL's guard (harness.dsql_local). Each way is timed
in rotating order within one run:

- ``connect``: open a TLS session (the guard also checks an IAM token) and run ``SELECT 1``;
- ``round trip``: ``SELECT 1`` on an open session (the guard parses and classifies it);
- ``bulk``: ``SELECT`` of a table of about 8 MB on an open session (rows relayed in chunks).

Medians in ms and the guard's ratio to the front (goal: under 1.5x per round trip); the last
line is one JSON object.

    python benchmarks/dsql_local.py              # 200 rounds
    python benchmarks/dsql_local.py --rounds 20
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import time
from collections.abc import Callable

import psycopg

from harness.dsql_local import DsqlLocal
from harness.dsql_local.tokens import SigningIdentity
from harness.embedded.provision import PostgresCluster

BULK_ROWS = 80_000  # x ~100 bytes of text each: about 8 MB on the wire
_TABLE = "CREATE TABLE bulk (id int PRIMARY KEY, v text)"
_FILL = "INSERT INTO bulk SELECT g, repeat(md5(g::text), 3) FROM generate_series({lo}, {hi}) g"


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    password = secrets.token_urlsafe(16)
    identity = SigningIdentity("AKIABENCHLOCAL", secrets.token_urlsafe(30))
    with (
        PostgresCluster(tcp=True, password=password, tls=True) as pg,
        DsqlLocal(identity=identity) as dsql,
    ):
        front = (
            f"host=127.0.0.1 port={pg.tls_port} dbname=postgres user=postgres "
            f"password={password} sslmode=require"
        )
        token = dsql.token("admin")
        guard = dsql.conninfo("admin", password=token)
        with psycopg.connect(front, autocommit=True) as conn:
            conn.execute(_TABLE)
            conn.execute(_FILL.format(lo=1, hi=BULK_ROWS))  # type: ignore[arg-type]
        with psycopg.connect(guard, autocommit=True) as conn:
            conn.execute(_TABLE)
            for lo in range(1, BULK_ROWS + 1, 3000):  # DSQL: at most 3,000 rows a transaction
                hi = min(lo + 2999, BULK_ROWS)
                conn.execute(_FILL.format(lo=lo, hi=hi))  # type: ignore[arg-type]
        sessions = {
            "front": psycopg.connect(front, autocommit=True),
            "guard": psycopg.connect(guard, autocommit=True),
        }
        dsns = {"front": front, "guard": guard}

        def connect(name: str) -> Callable[[], object]:
            def run() -> object:
                with psycopg.connect(dsns[name], autocommit=True) as conn:
                    return conn.execute("SELECT 1").fetchone()

            return run

        def round_trip(name: str) -> Callable[[], object]:
            return lambda: sessions[name].execute("SELECT 1").fetchone()

        def bulk(name: str) -> Callable[[], object]:
            return lambda: sessions[name].execute("SELECT id, v FROM bulk").fetchall()

        ways = {
            f"{kind} {side}": make(side)
            for kind, make in (("connect", connect), ("round trip", round_trip), ("bulk", bulk))
            for side in ("front", "guard")
        }
        samples: dict[str, list[float]] = {name: [] for name in ways}
        names = list(ways)
        for fn in ways.values():  # warm-up
            fn()
        for i in range(args.rounds):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                if name.startswith("bulk") and i % 10:  # bulk reads every tenth round only
                    continue
                samples[name].append(_timed(ways[name]))
        for conn in sessions.values():
            conn.close()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ratios = {
        kind: medians[f"{kind} guard"] / medians[f"{kind} front"]
        for kind in ("connect", "round trip", "bulk")
    }
    print(f"{'way':<18} {'median ms':>10} {'samples':>8}")
    for name, values in samples.items():
        print(f"{name:<18} {medians[name]:>10.3f} {len(values):>8}")
    for kind, ratio in ratios.items():
        print(f"guard / front, {kind}: {ratio:.2f}x")
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "median_ms": {k: round(v, 3) for k, v in medians.items()},
                "guard_over_front": {k: round(v, 3) for k, v in ratios.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
