"""What reaching Aurora and DSQL the harness's way costs per connection, side by side.

One embedded PostgreSQL 16 on 127.0.0.1 with a SCRAM password and the TLS front; each round
connects once in every way, in rotating order, and runs ``SELECT 1``:

- ``plain``: psycopg straight to the server, no TLS (the floor);
- ``tls``: psycopg through the TLS front, ``sslmode=require``;
- ``aurora``: :func:`harness.endpoints.connect_postgres` on a resolved ``aurora`` connector
  (TLS, session options, the retry wrapper and its log line);
- ``dsql``: the same on a ``dsql`` connector against a local DSQL (harness.dsql_local): a
  fresh IAM token (boto3 client + SigV4 presign) for every connection, TLS through
  ``hostaddr``, the token checked by the guard, then DSQL's session rules.

Also timed alone: ``token`` (:func:`harness.endpoints.dsql.make_token`). Medians in ms and
ratios to ``plain``; the last line is one JSON object.

    python benchmarks/connect.py            # 200 rounds
    python benchmarks/connect.py --rounds 20
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack

import boto3
import psycopg
from moto import mock_aws

from harness.dsql_local import DsqlLocal
from harness.dsql_local.tokens import SigningIdentity
from harness.embedded.provision import PostgresCluster
from harness.endpoints.dsql import make_token
from harness.endpoints.resolve import Connector, connect_postgres, resolve
from harness.endpoints.settings import AuroraEndpoint, DsqlEndpoint

DSQL_HOST = "abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws"


def _timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY="x" * 40)
    password = secrets.token_urlsafe(16)
    with (
        PostgresCluster(tcp=True, password=password, tls=True, tls_names=(DSQL_HOST,)) as pg,
        mock_aws(),  # sets credentials of its own: the local DSQL checks tokens against them
        DsqlLocal(endpoint=DSQL_HOST, identity=SigningIdentity.from_environment()) as local,
        ExitStack() as resources,
    ):
        sm = boto3.client("secretsmanager", region_name="us-east-2")
        sm.create_secret(
            Name="bench", SecretString=json.dumps({"username": "postgres", "password": password})
        )
        aurora = resolve(
            AuroraEndpoint.model_validate(
                {"kind": "aurora", "secret": "bench", "region": "us-east-2",
                 "host": "127.0.0.1", "port": pg.tls_port}
            ),
            "target",
            resources,
        )  # fmt: skip
        dsql = resolve(
            DsqlEndpoint.model_validate(
                {"kind": "dsql", "endpoint": DSQL_HOST, "hostaddr": "127.0.0.1",
                 "port": local.port, "sslmode": "verify-full",
                 "sslrootcert": str(local.ca_file)}
            ),
            "target",
            resources,
        )  # fmt: skip
        pg_plain = pg.conninfo("postgres")
        pg_tls = (
            f"host=127.0.0.1 port={pg.tls_port} dbname=postgres user=postgres "
            f"password={password} sslmode=require"
        )
        signing = dsql.token
        assert signing is not None

        def via(dsn: str) -> Callable[[], None]:
            def run() -> None:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("SELECT 1").fetchone()

            return run

        def harness_way(connector: Connector) -> Callable[[], None]:
            def run() -> None:
                with connect_postgres(connector) as conn:
                    conn.execute("SELECT 1").fetchone()

            return run

        def token_only() -> None:
            make_token(signing, "target")

        ways: dict[str, Callable[[], None]] = {
            "plain": via(pg_plain),
            "tls": via(pg_tls),
            "aurora": harness_way(aurora),
            "dsql": harness_way(dsql),
        }
        ways_alone = {"token": token_only}
        samples: dict[str, list[float]] = {name: [] for name in [*ways, *ways_alone]}
        names = list(ways)
        for _ in range(3):  # warm-up: imports, models, TLS session setup
            for fn in [*ways.values(), *ways_alone.values()]:
                fn()
        for i in range(args.rounds):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                samples[name].append(_timed(ways[name]))
            samples["token"].append(_timed(ways_alone["token"]))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["plain"]
    print(f"{'way':<8} {'median ms':>10} {'p90 ms':>8} {'x plain':>8}")
    for name, values in samples.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<8} {medians[name]:>10.2f} {p90:>8.2f} {medians[name] / floor:>8.2f}")
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "median_ms": {k: round(v, 3) for k, v in medians.items()},
                "ratio_to_plain": {k: round(v / floor, 3) for k, v in medians.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
