"""Row-level parity: cutover's row compare against the floor and against reladiff 0.6.0.

    python benchmarks/rows.py [--rows 1000000 --rows 5000000] [--rtt-ms 0,10,50]
                              [--no-reladiff] [--repeat 3]

For each size it builds ``t(id bigint primary key, name text, amount numeric(12,2),
created_at timestamp, active boolean)`` three times — a source and a target database on one
embedded PostgreSQL 16 (TCP on 127.0.0.1, like a real endpoint) and a SQLite file holding the
same rows the way SQLite applications keep them (money as REAL or INTEGER, timestamps as ISO
text, booleans as 0/1) — and times four scenarios: PG→PG and SQLite→PG, first identical,
then with 13 planted diff lines in the target. The 13 are counted as a unified diff counts
them, which is what reladiff prints: 5 updated rows (a ``-`` and a ``+`` line each), 2 deleted
rows (``-``) and 1 inserted row (``+``).

Each scenario times, every tool in a child process of its own (so its peak RSS is its own,
read with ``wait4``; the timer covers connecting and comparing, not Python's start-up):

- **floor** — the least any correct tool must do: one server-side hash-aggregate scan per
  PostgreSQL side, run concurrently; for SQLite a plain fetch of every row, concurrently with
  the target's scan. PostgreSQL plans that scan with two parallel workers a side;
- **floor, serial** — the same without parallel workers (``floor_serial_s``), as cutover's
  grouped first pass runs (the planner sees no gain in a parallel hash aggregate whose group
  count it cannot estimate): the same work, but on a machine shared with other work the
  parallel floor's three processes a side take a larger share of the cores, so
  ``cutover_over_floor_serial`` is the like-for-like ratio there;
- **cutover** — ``harness.rows.compare.compare_table`` with default options, both sides'
  sessions opened at once;
- **reladiff** — 0.6.0 through its Python API with its CLI's defaults (PG→PG only: it has no
  SQLite backend).

Each tool runs ``--repeat`` times per scenario (3 by default), interleaved with the others so a
slow spell on a shared machine hits all of them; the median run is reported, with every run's
time in the JSON. It prints a table with the ratios, and its last line is one JSON object with
every figure.

``--rtt-ms`` (a list, default 0) repeats every scenario over a link of that round-trip time:
every tool reaches PostgreSQL through the fault proxy with a latency toxic of half of it each
way (the proxy holds each chunk from its arrival, as Toxiproxy does, so it costs per round
trip, not per chunk). cutover's statements per PostgreSQL side are counted by the harness
itself (``round_trips``).

``--workers 1,2`` adds, per size and state, PG→PG runs of cutover with the table split into
shards of ``--shard-rows`` rows (the plan option ``rows.shard_rows``; default its default) and
compared by that many worker processes, as ``cutover verify -n N`` spreads shard items over
xdist workers: the controller plans the shards (``harness.rows.shards``), each worker opens
its own sessions once and takes shards from a queue, and the counts are summed.
``--reladiff-python`` runs reladiff under another interpreter (a venv made with
``--system-site-packages`` holding reladiff, so it stays out of the project's dependencies).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from harness.embedded.provision import PostgresCluster
from harness.faults.proxy import FaultProxy

SIZES = (1_000_000, 5_000_000)
COLUMNS = ("id", "name", "amount", "created_at", "active")
DIFF_LINES = 13  # 5 updates x 2 lines + 2 deletes + 1 insert

PG_TABLE = """
CREATE TABLE t (id bigint PRIMARY KEY, name text, amount numeric(12,2),
                created_at timestamp, active boolean)
"""
# Every value is a function of g, so the SQLite file can hold the same rows (%% is psycopg's %).
PG_FILL = """
INSERT INTO t
SELECT g,
       CASE WHEN g %% 97 = 0 THEN NULL ELSE 'customer ' || (g * 7919 %% 1000003) END,
       (g * 37 %% 1000000) / 100.0,
       timestamp '2020-01-01' + g * interval '1 second' + (g * 7 %% 1000000) * interval '1 us',
       g %% 3 = 0
FROM generate_series(1, %s::bigint) AS g
"""
SQLITE_TABLE = """
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC(12,2),
                created_at DATETIME, active BOOLEAN)
"""
# NUMERIC affinity stores 12.34 as REAL and 12.0 as INTEGER: the quirks canon must absorb.
SQLITE_FILL = """
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ?)
INSERT INTO t
SELECT g,
       CASE WHEN g % 97 = 0 THEN NULL ELSE 'customer ' || (g * 7919 % 1000003) END,
       (g * 37 % 1000000) / 100.0,
       printf('%s.%06d', datetime(1577836800 + g, 'unixepoch'), g * 7 % 1000000),
       g % 3 = 0
FROM s
"""
# The floor's per-row work: hash the whole row to 64 bits and sum them (numeric: no overflow),
# with the cheapest row hash PostgreSQL has, which cutover sums where both servers agree on it
# (harness.rows.encode); MD5's where a tool must do without it (Aurora DSQL: rows_dsql.py).
HASH_SCAN = 'SELECT count(*), sum(hashtextextended(t::text COLLATE "C", 0)) FROM t'
MD5_HASH_SCAN = "SELECT count(*), sum(('x' || left(md5(t::text), 16))::bit(64)::bigint) FROM t"


# -- building the data -----------------------------------------------------------------------


def build_postgres(cluster: PostgresCluster, rows: int) -> tuple[str, str]:
    """Source and target databases holding the same ``rows`` rows; returns their DSNs."""
    source, target = f"src_{rows}", f"tgt_{rows}"
    for name in (source, target):
        cluster.drop_database(name)
    dsn = cluster.create_database(source)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(PG_TABLE)
        conn.execute(PG_FILL, (rows,))
        # Frozen and analysed up front, so no timed scan pays for hint bits or statistics.
        conn.execute("VACUUM (FREEZE, ANALYZE) t")
    return dsn, cluster.create_database(target, template=source)  # a file copy: fast


def build_sqlite(folder: Path, rows: int) -> Path:
    path = folder / f"source_{rows}.sqlite"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute(SQLITE_TABLE)
        conn.execute(SQLITE_FILL, (rows,))
        conn.commit()
    finally:
        conn.close()
    return path


def plant_differences(dsn: str, rows: int, *, vacuum: bool = True) -> None:
    """5 updates (one column each), 2 deletes and 1 insert, spread over the key range
    (``vacuum``: then freeze and analyse, which DSQL's SQL has no statement for)."""

    def at(fraction: float) -> int:
        key = int(rows * fraction)
        return key + 1 if key % 97 == 0 else key  # a row whose name is not NULL

    updates = (
        ("name = name || ' (edited)'", at(0.1)),
        ("amount = amount + 0.01", at(0.3)),
        ("created_at = created_at + interval '1 us'", at(0.5)),
        ("active = NOT active", at(0.7)),
        ("name = upper(name)", at(0.9)),
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        for assignment, key in updates:
            conn.execute(f"UPDATE t SET {assignment} WHERE id = %s", (key,))  # noqa: S608 -- constants
        conn.execute("DELETE FROM t WHERE id IN (%s, %s)", (at(0.2), at(0.6)))
        conn.execute(
            "INSERT INTO t VALUES (%s, 'new customer', 1.00, '2030-01-01', true)", (rows + 1,)
        )
        if vacuum:
            conn.execute("VACUUM (FREEZE, ANALYZE) t")


# -- the timed jobs (each runs in a child process) -------------------------------------------


def job_floor(spec: dict[str, Any]) -> dict[str, Any]:
    # ``serial``: no parallel workers (a startup option: no round trip of its own).
    options = "-c max_parallel_workers_per_gather=0" if spec.get("serial") else ""

    scan_sql = MD5_HASH_SCAN if spec.get("md5") else HASH_SCAN

    def scan(dsn: str) -> None:
        with psycopg.connect(dsn, options=options) as conn:
            conn.execute(scan_sql).fetchone()

    def fetch_sqlite(path: str) -> None:
        conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True)
        try:
            for _ in conn.execute("SELECT * FROM t"):
                pass
        finally:
            conn.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        work = [pool.submit(scan, dsn) for dsn in spec["postgres"]]
        if spec.get("sqlite"):
            work.append(pool.submit(fetch_sqlite, spec["sqlite"]))
        for future in work:
            future.result()
    return {"seconds": time.perf_counter() - start}


def open_both(spec: dict[str, Any]) -> list[tuple[Any, Any]]:
    """Both sides' sessions and their table ``t``, opened at once (each connect and catalog
    read is a round trip or two over a link: both sides in flight, as the scans are)."""
    from harness.endpoints.resolve import Connector, open_database  # imported: untimed

    def side(connector: dict[str, Any]) -> tuple[Any, Any]:
        db = open_database(Connector(**connector))
        table = db.catalog().table("t")
        assert table is not None
        return db, table

    with ThreadPoolExecutor(max_workers=2) as pool:
        opened = [pool.submit(side, spec[role]) for role in ("source", "target")]
        failed = [f.exception() for f in opened if f.exception() is not None]
        if failed:
            for future in opened:
                if future.exception() is None:
                    future.result()[0].close()
            raise failed[0]  # type: ignore[misc]
        return [future.result() for future in opened]


def job_cutover(spec: dict[str, Any]) -> dict[str, Any]:
    try:
        import harness.endpoints.resolve  # noqa: F401 -- start-up (~0.5 s of pydantic), untimed
        from harness.rows.compare import RowOptions, compare_table
    except ImportError:
        return {"error": "cutover engine not available"}
    if any(spec[role].get("token") for role in ("source", "target")):
        import boto3  # noqa: F401 -- the token signer's import is start-up (~0.8 s), not connecting
    start = time.perf_counter()
    (source, source_table), (target, target_table) = open_both(spec)
    try:
        diff = compare_table(
            source, target, source_table, target_table, lambda name: name, ("id",), RowOptions()
        )
    finally:
        source.close()
        target.close()
    return {
        "seconds": time.perf_counter() - start,
        "missing": diff.missing,
        "extra": diff.extra,
        "changed": diff.changed,
        "diff_lines": 2 * diff.changed + diff.missing + diff.extra,
        "rows_fetched": diff.rows_fetched,
        "segments": diff.segments,
        "round_trips": {  # every statement of the run, catalog reads included
            role: db.round_trips
            for role, db in (("source", source), ("target", target))
            if hasattr(db, "round_trips")
        },
    }


_WORKER: dict[str, Any] = {}


def _open_worker(source: dict[str, Any], target: dict[str, Any]) -> None:
    """A worker process's sessions, opened once as an xdist worker's are."""
    from harness.endpoints.resolve import Connector, open_database

    _WORKER["dbs"] = [open_database(Connector(**source)), open_database(Connector(**target))]


def _compare_shard(shard: dict[str, Any]) -> dict[str, Any]:
    from harness.rows.compare import RowOptions, compare_table
    from harness.rows.shards import Shard

    source, target = _WORKER["dbs"]
    tables = source.catalog().table("t"), target.catalog().table("t")
    assert tables[0] is not None
    assert tables[1] is not None
    diff = compare_table(
        source, target, *tables, lambda n: n, ("id",), RowOptions(), shard=Shard.from_dict(shard)
    )
    return {
        "missing": diff.missing,
        "extra": diff.extra,
        "changed": diff.changed,
        "rows_fetched": diff.rows_fetched,
        "segments": diff.segments,
        "source_rows": diff.source_rows,
        "round_trips": diff.round_trips,
    }


def job_shards(spec: dict[str, Any]) -> dict[str, Any]:
    """Plan the shards on the controller's sessions, compare them in ``workers`` processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import harness.endpoints.resolve  # noqa: F401 -- start-up, untimed
    from harness.rows.compare import RowOptions, pairing
    from harness.rows.shards import plan

    start = time.perf_counter()
    (source, source_table), (target, target_table) = open_both(spec)
    try:
        both = pairing(
            source, target, source_table, target_table, lambda n: n, ("id",), RowOptions()
        )
        cut = plan(both.src, both.tgt, integer_key=both.integer_key, shard_rows=spec["shard_rows"])
    finally:
        source.close()
        target.close()
    planned = time.perf_counter() - start
    context = multiprocessing.get_context("spawn")  # fresh workers, as xdist's are
    with ProcessPoolExecutor(
        spec["workers"],
        context,
        initializer=_open_worker,
        initargs=(spec["source"], spec["target"]),
    ) as pool:
        parts = list(pool.map(_compare_shard, [s.to_dict() for s in cut]))
    total = {k: sum(p[k] for p in parts) for k in ("missing", "extra", "changed")}
    return {
        "seconds": time.perf_counter() - start,
        "plan_s": round(planned, 3),
        **total,
        "diff_lines": 2 * total["changed"] + total["missing"] + total["extra"],
        "rows_fetched": sum(p["rows_fetched"] for p in parts),
        "segments": sum(p["segments"] for p in parts),
        "shards": len(cut),
        "round_trips": {
            role: sum(p["round_trips"].get(role, 0) for p in parts) for role in ("source", "target")
        },
    }


def job_reladiff(spec: dict[str, Any]) -> dict[str, Any]:
    import reladiff

    threads = spec["threads"]
    start = time.perf_counter()
    tables = [
        reladiff.connect_to_table(url, "t", "id", thread_count=threads, extra_columns=COLUMNS[1:])
        for url in (spec["source"], spec["target"])
    ]
    # threaded and 2x the connection threads, as reladiff's own CLI sets them.
    with reladiff.diff_tables(*tables, threaded=True, max_threadpool_size=threads * 2) as diff:
        lines = list(diff)
    for table in tables:
        table.database.close()
    return {
        "seconds": time.perf_counter() - start,
        "missing": sum(1 for sign, _ in lines if sign == "-"),
        "extra": sum(1 for sign, _ in lines if sign == "+"),
        "diff_lines": len(lines),
    }


def job_floor_serial(spec: dict[str, Any]) -> dict[str, Any]:
    return job_floor({**spec, "serial": True})


JOBS = {
    "floor": job_floor,
    "floor_serial": job_floor_serial,
    "cutover": job_cutover,
    "shards": job_shards,
    "reladiff": job_reladiff,
}
PYTHON = {"reladiff": sys.executable}
"""The interpreter each job runs under (``--reladiff-python`` sets reladiff's)."""


def run_job(tool: str, **spec: Any) -> dict[str, Any]:
    """Run one job in a fresh interpreter; add its peak RSS (MB) from the kernel's rusage."""
    child = subprocess.Popen(
        [PYTHON.get(tool, sys.executable), __file__, "--job", tool],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    child.stdin.write(json.dumps(spec))
    child.stdin.close()
    output = child.stdout.read()  # one short line; read before reaping so the pipe never fills
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the max of all
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        return {"error": f"{tool} exited with {child.returncode}"}
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux reports KiB
    return result


# -- one run ---------------------------------------------------------------------------------


def connector(role: str, address: str, *, sqlite: bool) -> dict[str, Any]:
    dialect = "sqlite" if sqlite else "postgres"
    return {
        "role": role,
        "kind": dialect,
        "dialect": dialect,
        "address": address,
        "display": f"{role} ({dialect})",
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def scenario(
    name: str,
    rows: int,
    source: str,
    target: str,
    *,
    sqlite: bool,
    reladiff_threads: int | None,
    rtt_ms: int,
    repeat: int,
    workers: int | None = None,
    shard_rows: int | None = None,
) -> dict[str, Any]:
    """Time the floor, cutover and (PG→PG) reladiff on one source/target pair, ``repeat``
    times each, interleaved so that a slow spell on a shared machine hits every tool; each
    figure is the median run's. ``workers``: cutover in shards over that many processes
    (:func:`job_shards`), without reladiff."""
    jobs: dict[str, dict[str, Any]] = {
        "floor": {
            "postgres": [target] if sqlite else [source, target],
            "sqlite": source if sqlite else None,
        },
        "cutover": {
            "source": connector("source", source, sqlite=sqlite),
            "target": connector("target", target, sqlite=False),
        },
    }
    jobs["floor_serial"] = jobs["floor"]
    if workers:
        jobs["shards"] = {**jobs.pop("cutover"), "workers": workers, "shard_rows": shard_rows}
    elif reladiff_threads and not sqlite:
        jobs["reladiff"] = {
            "source": url(source),
            "target": url(target),
            "threads": reladiff_threads,
        }
    runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in jobs}
    for _ in range(repeat):
        for tool, spec in jobs.items():
            runs[tool].append(run_job(tool, **spec))
    floor, cut = median_run(runs["floor"]), median_run(runs["shards" if workers else "cutover"])
    rel = median_run(runs["reladiff"]) if "reladiff" in runs else {}
    serial = median_run(runs["floor_serial"])
    fetched = cut.get("rows_fetched")
    return {
        "scenario": name,
        "rows": rows,
        "rtt_ms": rtt_ms,
        "round_trips": cut.get("round_trips"),
        "shards": cut.get("shards", 1),
        "workers": workers or 1,
        "cutover_plan_s": cut.get("plan_s"),
        "floor_s": round(floor["seconds"], 3),
        "floor_runs_s": floor.get("runs_s"),
        "floor_serial_s": round(serial["seconds"], 3),
        "floor_serial_runs_s": serial.get("runs_s"),
        "cutover_runs_s": cut.get("runs_s"),
        "reladiff_runs_s": rel.get("runs_s"),
        "floor_rss_mb": floor.get("peak_rss_mb"),
        "cutover_s": _round(cut.get("seconds")),
        "cutover_rss_mb": cut.get("peak_rss_mb"),
        "cutover_diff_lines": cut.get("diff_lines"),
        "cutover_missing": cut.get("missing"),
        "cutover_extra": cut.get("extra"),
        "cutover_changed": cut.get("changed"),
        "cutover_rows_fetched": fetched,
        "cutover_fetched_pct": round(100 * fetched / rows, 4) if fetched is not None else None,
        "cutover_segments": cut.get("segments"),
        "cutover_error": cut.get("error"),
        "reladiff_s": _round(rel.get("seconds")),
        "reladiff_rss_mb": rel.get("peak_rss_mb"),
        "reladiff_diff_lines": rel.get("diff_lines"),
        "reladiff_error": rel.get("error"),
        "cutover_over_floor": ratio(cut.get("seconds"), floor["seconds"]),
        "reladiff_over_floor": ratio(rel.get("seconds"), floor["seconds"]),
        "reladiff_over_cutover": ratio(rel.get("seconds"), cut.get("seconds")),
        "cutover_over_floor_serial": ratio(cut.get("seconds"), serial["seconds"]),
    }


def median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (a failed run wins: errors are never averaged away), with
    every run's seconds and the largest peak RSS."""
    failed = [r for r in results if "error" in r]
    if failed:
        return failed[0]
    ordered = sorted(results, key=lambda r: float(r["seconds"]))
    median = dict(ordered[(len(ordered) - 1) // 2])
    median["runs_s"] = [round(float(r["seconds"]), 3) for r in results]
    median["peak_rss_mb"] = max(r.get("peak_rss_mb") or 0 for r in results)
    return median


def _round(seconds: float | None) -> float | None:
    return round(seconds, 3) if seconds is not None else None


def url(dsn: str) -> str:
    """reladiff takes URLs; the cluster is trust-auth on 127.0.0.1."""
    parts = conninfo_to_dict(dsn)
    return f"postgresql://postgres@127.0.0.1:{parts['port']}/{parts['dbname']}"


def over_link(proxy: FaultProxy | None, dsn: str) -> str:
    """``dsn`` reached through ``proxy`` (None: directly)."""
    if proxy is None:
        return dsn
    return make_conninfo(dsn, host=proxy.host, hostaddr=proxy.host, port=str(proxy.port))


def link(cluster: PostgresCluster, rtt_ms: int) -> FaultProxy | None:
    """A fault proxy before the cluster adding ``rtt_ms`` per round trip (half each way)."""
    if not rtt_ms:
        return None
    proxy = FaultProxy(("127.0.0.1", cluster.port), name=f"rtt{rtt_ms}").start()
    for stream in ("upstream", "downstream"):
        proxy.add_toxic("latency", stream=stream, latency=rtt_ms / 2)
    return proxy


def run_size(
    cluster: PostgresCluster,
    folder: Path,
    rows: int,
    reladiff_threads: int | None,
    repeat: int,
    rtts: list[int],
    workers: list[int],
    shard_rows: int,
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    started = time.perf_counter()
    source, target = build_postgres(cluster, rows)
    pg_built = time.perf_counter()
    sqlite = str(build_sqlite(folder, rows))
    built = {
        "postgres_s": round(pg_built - started, 1),
        "sqlite_s": round(time.perf_counter() - pg_built, 1),
    }
    run_job("floor", postgres=[source, target], sqlite=sqlite)  # warm the OS cache, untimed
    results = []
    for state in ("identical", "13 diff lines"):
        if state != "identical":
            plant_differences(target, rows)
        for rtt_ms in rtts:
            proxy = link(cluster, rtt_ms)
            try:
                far_source, far_target = over_link(proxy, source), over_link(proxy, target)
                pairs = (("PG→PG", far_source, False), ("SQLite→PG", sqlite, True))
                for pair, src, is_sqlite in pairs:
                    results.append(
                        scenario(
                            f"{pair} {state}" + (f" @{rtt_ms}ms" if rtt_ms else ""),
                            rows,
                            src,
                            far_target,
                            sqlite=is_sqlite,
                            reladiff_threads=reladiff_threads,
                            rtt_ms=rtt_ms,
                            repeat=repeat,
                        )
                    )
                    print_row(results[-1])
                for count in workers:
                    results.append(
                        scenario(
                            f"PG→PG {state} -n {count}" + (f" @{rtt_ms}ms" if rtt_ms else ""),
                            rows,
                            far_source,
                            far_target,
                            sqlite=False,
                            reladiff_threads=None,
                            rtt_ms=rtt_ms,
                            repeat=repeat,
                            workers=count,
                            shard_rows=shard_rows,
                        )
                    )
                    print_row(results[-1])
            finally:
                if proxy is not None:
                    proxy.stop()
    for name in (f"src_{rows}", f"tgt_{rows}"):
        cluster.drop_database(name)
    Path(sqlite).unlink()
    return results, built


def print_row(r: dict[str, Any]) -> None:
    def cell(seconds: float | None, over: float | None, rss: float | None) -> str:
        return "-" if seconds is None else f"{seconds:7.2f}s {over:5.2f}x {rss:5.0f}MB"

    print(
        f"{r['rows']:>9,} {r['scenario']:<26} floor {r['floor_s']:6.2f}s"
        f" (serial {r['floor_serial_s']:.2f}s) | "
        f"cutover {cell(r['cutover_s'], r['cutover_over_floor'], r['cutover_rss_mb'])} "
        f"lines {r['cutover_diff_lines']} fetched {r['cutover_rows_fetched']} "
        f"trips {r['round_trips']} shards {r['shards']} workers {r['workers']} | "
        f"reladiff {cell(r['reladiff_s'], r['reladiff_over_floor'], r['reladiff_rss_mb'])} "
        f"lines {r['reladiff_diff_lines']}",
        flush=True,
    )
    for key in ("cutover_error", "reladiff_error"):
        if r[key]:
            print(f"  {key.split('_')[0]}: {r[key]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="table size (repeatable)")
    parser.add_argument("--no-reladiff", action="store_true", help="skip the reladiff runs")
    parser.add_argument(
        "--rtt-ms",
        default="0",
        help="round-trip times to run over, comma-separated (default 0: no link)",
    )
    parser.add_argument(
        "--reladiff-threads",
        type=int,
        default=1,
        help="reladiff --threads (its CLI's default is 1)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each tool per scenario, interleaved; the median is reported (default 3)",
    )
    parser.add_argument(
        "--workers",
        default="",
        help="also run PG→PG in shards over these worker counts, comma-separated (e.g. 1,2)",
    )
    parser.add_argument(
        "--shard-rows",
        type=int,
        default=None,
        help="rows per shard for --workers (default: the plan option rows.shard_rows' default)",
    )
    parser.add_argument(
        "--reladiff-python",
        default=None,
        help="the interpreter to run reladiff under (a venv holding it); default this one",
    )
    parser.add_argument("--job", choices=sorted(JOBS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:  # a child: read the spec on stdin, print one JSON line
        print(json.dumps(JOBS[args.job](json.loads(sys.stdin.read()))))
        return 0

    engine = importlib.util.find_spec("harness.rows.compare") is not None
    if not engine:
        print("cutover engine not available: timing the floor and reladiff only", flush=True)
    reladiff_threads = None
    reladiff_version = None
    if not args.no_reladiff:
        PYTHON["reladiff"] = args.reladiff_python or sys.executable
        asked = subprocess.run(
            [PYTHON["reladiff"], "-c", "import reladiff; print(reladiff.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if asked.returncode == 0:
            reladiff_threads, reladiff_version = args.reladiff_threads, asked.stdout.strip()
        else:
            print("reladiff not installed (pip install 'reladiff[postgresql]==0.6.0'): skipped")
    from harness.rows.settings import RowSettings

    shard_rows = args.shard_rows or RowSettings().shard_rows
    workers = [int(part) for part in args.workers.split(",") if part]
    rtts = [int(part) for part in args.rtt_ms.split(",")]
    results, builds = [], {}
    with (
        tempfile.TemporaryDirectory(prefix="cutover-bench-") as folder,
        PostgresCluster(tcp=True) as cluster,
    ):
        for rows in args.rows or SIZES:
            size_results, builds[str(rows)] = run_size(
                cluster,
                Path(folder),
                rows,
                reladiff_threads,
                args.repeat,
                rtts,
                workers,
                shard_rows,
            )
            results.extend(size_results)
        server = cluster.server_version()
    print(
        json.dumps(
            {
                "benchmark": "rows",
                "cpus": os.cpu_count(),
                "postgres": server,
                "reladiff": reladiff_version,
                "engine": engine,
                "expected_diff_lines": DIFF_LINES,
                "repeat": args.repeat,
                "shard_rows": shard_rows,
                "build": builds,
                "results": results,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
