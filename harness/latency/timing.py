"""The timing loop: warm-up, then timed runs with the parameter sets taken in turn.

Source and target are timed in alternation (one source run, one target run, …) so that a
burst of load on a shared machine falls on both sides alike instead of on whichever side
happened to be running. Each run executes the query and fetches every row, as an
application does; only that is inside the clock. A side that has used up ``max_seconds``
stops early: a query far over budget need not be timed to the end to fail.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from harness.db.database import Database, PostgresDatabase, SqliteDatabase
from harness.queries.answers import QueryFailed

Execute = Callable[[dict[str, Any]], object]


def executor(db: Database, text: str) -> Execute:
    """A function running ``text`` with one parameter set on ``db`` and fetching all rows."""
    if isinstance(db, SqliteDatabase):
        conn = db.conn

        def run_sqlite(params: dict[str, Any]) -> object:
            try:
                return conn.execute(text, params).fetchall()
            except sqlite3.Error as exc:
                raise QueryFailed(str(exc), getattr(exc, "sqlite_errorname", None)) from None

        return run_sqlite
    assert isinstance(db, PostgresDatabase)
    cursor = db.conn.cursor()

    def run_postgres(params: dict[str, Any]) -> object:
        try:
            return db.execute_read_only(cursor, text, params).fetchall()
        except psycopg.Error as exc:
            raise QueryFailed(str(exc).strip().splitlines()[0], exc.sqlstate) from None

    return run_postgres


@dataclass
class Timing:
    """One side's timed runs, in milliseconds, in the order they ran."""

    samples_ms: list[float] = field(default_factory=list)
    stopped_early: bool = False
    """``max_seconds`` ran out before every run was done."""

    def stats(self) -> dict[str, float | int | None]:
        return summary(self.samples_ms)


def time_runs(
    execute: Execute,
    param_sets: Sequence[dict[str, Any]],
    *,
    warmup: int,
    runs: int,
    max_seconds: float,
) -> Timing:
    """Time one side alone (the benchmark compares this loop with a bare one)."""
    return time_pair(
        {"only": execute}, param_sets, warmup=warmup, runs=runs, max_seconds=max_seconds
    )["only"]


def time_pair(
    sides: dict[str, Execute],
    param_sets: Sequence[dict[str, Any]],
    *,
    warmup: int,
    runs: int,
    max_seconds: float,
) -> dict[str, Timing]:
    """Time each side ``runs`` times after ``warmup`` untimed runs, alternating sides."""
    sets = list(param_sets) or [{}]
    clock = time.perf_counter_ns
    for i in range(warmup):
        for execute in sides.values():
            execute(sets[i % len(sets)])
    timings = {name: Timing() for name in sides}
    budget_ns = int(max_seconds * 1e9)
    spent = dict.fromkeys(sides, 0)
    for i in range(runs):
        params = sets[i % len(sets)]
        for name, execute in sides.items():
            if spent[name] >= budget_ns:
                timings[name].stopped_early = True
                continue
            start = clock()
            execute(params)
            elapsed = clock() - start
            spent[name] += elapsed
            timings[name].samples_ms.append(elapsed / 1e6)
    return timings


def percentile(sorted_ms: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) with linear interpolation between ranks (numpy's default)."""
    if not sorted_ms:
        return math.nan
    position = q * (len(sorted_ms) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_ms) - 1)
    return sorted_ms[low] + (sorted_ms[high] - sorted_ms[low]) * (position - low)


def summary(samples_ms: Sequence[float]) -> dict[str, float | int | None]:
    """n, p50, p95, p99 and max of a distribution, rounded to microseconds."""
    ordered = sorted(samples_ms)
    if not ordered:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    return {
        "n": len(ordered),
        "p50": round(percentile(ordered, 0.50), 3),
        "p95": round(percentile(ordered, 0.95), 3),
        "p99": round(percentile(ordered, 0.99), 3),
        "max": round(ordered[-1], 3),
    }
