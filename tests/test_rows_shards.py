"""Specification of row shards: a large table cut into key ranges, one item each, merged back.

The ranges are checked against real PostgreSQL: every key of either side — keys the plan
sampled, target-only keys below, between and above them, the type's extreme values — falls
in exactly one shard, for integer, composite, text and UUID keys.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.checks.rows import check_rows, merge_shards, shard_table
from harness.db.database import Database, PostgresDatabase
from harness.embedded.provision import PostgresCluster
from harness.endpoints.resolve import Connector, open_database
from harness.plan.scope import TablePair
from harness.results.check import Status
from harness.rows import shards
from harness.rows.compare import RowOptions, compare_table, pairing
from harness.rows.segments import Range
from harness.rows.settings import RowSettings
from harness.rows.shards import Shard
from tests.conftest import run_cutover

BIG = 2**63 - 1
TYPES = {
    "integer": "bigint",
    "text": "text",
    "uuid": "uuid",
}
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)
KEYS: dict[str, st.SearchStrategy[Any]] = {
    "integer": st.integers(-(2**63), BIG),
    "text": TEXT,
    "uuid": st.uuids(),
    "composite": st.tuples(st.integers(-3, 3), TEXT),
}
EDGES: dict[str, list[Any]] = {
    "integer": [-(2**63), BIG, 0, -1],
    "text": ["", "\x01", "\U0010ffff", "Z", "a"],
    "uuid": [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)],
    "composite": [(-(2**31), ""), (2**31 - 1, "\U0010ffff"), (0, "")],
}


class TestCut:
    @given(st.lists(st.integers(), unique=True).map(sorted), st.integers())
    def test_every_key_is_in_exactly_one_shard(self, bounds: list[int], key: int) -> None:
        cut = shards.cut([(b,) for b in bounds], 1000)
        holding = [s for s in cut if _inside((key,), s.within)]
        assert len(holding) == 1
        assert [s.number for s in cut] == list(range(1, len(cut) + 1))
        assert all(s.of == len(cut) for s in cut)

    @given(st.integers(-(2**63), BIG), st.integers(0, 2**20), st.integers(1, 64))
    def test_integer_boundaries_are_ascending_and_inside_the_keys(
        self, lo: int, span: int, count: int
    ) -> None:
        hi = lo + span
        found = shards.integer_boundaries(lo, hi, count)
        assert found == sorted(set(found))
        assert all(lo < b[0] <= hi for b in found)
        assert len(found) <= count - 1

    def test_a_shard_crosses_to_a_worker_and_back_unchanged(self) -> None:
        shard = Shard(2, 3, Range((uuid.UUID(int=5), 7), (None, "x")), 10)
        back = Shard.from_dict(shard.to_dict())
        assert back.within == Range((str(uuid.UUID(int=5)), 7), (None, "x"))
        assert (back.number, back.of, back.rows) == (2, 3, 10)
        assert shard.label("events") == "events#2/3"
        assert shards.WHOLE.label("events") == "events"


def _inside(key: tuple[Any, ...], within: Range) -> bool:
    return (within.lo is None or key >= within.lo) and (within.hi is None or key < within.hi)


# -- against PostgreSQL ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dsn(pg_cluster: PostgresCluster) -> Iterator[str]:
    name = f"shards_{uuid.uuid4().hex[:10]}"
    yield pg_cluster.create_database(name)
    pg_cluster.drop_database(name)


def _load(dsn: str, kind: str, source: list[Any], target: list[Any]) -> None:
    if kind == "composite":
        columns = "a integer, b text, v integer, PRIMARY KEY (a, b)"
    else:
        columns = f"k {TYPES[kind]} PRIMARY KEY, v integer"
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table, keys in (("s", source), ("t", target)):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} ({columns})")
            with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                for n, key in enumerate(keys):
                    copy.write_row([*(key if kind == "composite" else (key,)), n])
            conn.execute(f"ANALYZE {table}")


def _open(dsn: str, role: str) -> Database:
    return open_database(Connector(role, "postgres", "postgres", dsn, role, "public"))


def _covered(dsn: str, kind: str, source: list[Any], target: list[Any], parts: int) -> None:
    """Plan shards of ``s`` against ``t`` and fetch each shard's rows from both: every row of
    either side is fetched once, by exactly one shard."""
    _load(dsn, kind, source, target)
    src, tgt = _open(dsn, "source"), _open(dsn, "target")
    try:
        s, t = src.catalog().table("s"), tgt.catalog().table("t")
        assert s is not None
        assert t is not None
        pair = pairing(src, tgt, s, t, str, None, RowOptions())
        rows = max(len(source), len(target))
        cut = shards.plan(
            pair.src, pair.tgt, integer_key=pair.integer_key, shard_rows=max(1, rows // parts)
        )
        if rows > max(1, rows // parts):
            assert len(cut) > 1 or len(set(source)) < 2
        for side, keys in ((pair.src, source), (pair.tgt, target)):
            seen: Counter[tuple[str | None, ...]] = Counter()
            for shard in cut:
                seen.update(side.fetch(shard.within).keys())
            assert sum(seen.values()) == len(keys)
            assert max(seen.values(), default=1) == 1
    finally:
        src.close()
        tgt.close()


@pytest.mark.parametrize("kind", sorted(KEYS))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_shards_cover_every_key_exactly_once(dsn: str, kind: str, data: st.DataObject) -> None:
    keys = KEYS[kind]
    source = data.draw(st.lists(keys, min_size=2, max_size=40, unique=True), label="source")
    extra = data.draw(st.lists(keys, max_size=10), label="target only")
    target = list(dict.fromkeys([*source[1:], *extra, *EDGES[kind]]))  # one source key missing
    parts = data.draw(st.integers(2, 6), label="parts")
    _covered(dsn, kind, source, target, parts)


@pytest.mark.parametrize("kind", sorted(KEYS))
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_shards_find_what_the_whole_table_finds(dsn: str, kind: str, data: st.DataObject) -> None:
    """Rows missing, extra and changed anywhere — at a shard's edges included — are counted
    once across the shards, exactly as one comparison of the whole table counts them."""
    keys = KEYS[kind]
    source = data.draw(st.lists(keys, min_size=2, max_size=60, unique=True), label="source")
    dropped = set(data.draw(st.lists(st.sampled_from(source), max_size=5), label="missing"))
    edited = set(data.draw(st.lists(st.sampled_from(source), max_size=5), label="changed"))
    extra = data.draw(st.lists(keys, max_size=5), label="extra")
    target = [k for k in dict.fromkeys([*source, *extra, *EDGES[kind]]) if k not in dropped]
    _load(dsn, kind, source, target)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for key in edited - dropped:
            where = "a = %s AND b = %s" if kind == "composite" else "k = %s"
            query = f"UPDATE t SET v = -1 WHERE {where}"  # noqa: S608
            conn.execute(query, key if kind == "composite" else (key,))
    parts = data.draw(st.integers(2, 6), label="parts")
    src, tgt = _open(dsn, "source"), _open(dsn, "target")
    try:
        s, t = src.catalog().table("s"), tgt.catalog().table("t")
        assert s is not None
        assert t is not None
        options = RowOptions(segment_rows=8, fetch_rows=2, early_fetch_rows=4)
        pair = pairing(src, tgt, s, t, str, None, options)
        rows = max(len(source), len(target))
        cut = shards.plan(
            pair.src, pair.tgt, integer_key=pair.integer_key, shard_rows=max(1, rows // parts)
        )
        whole = compare_table(src, tgt, s, t, str, None, options)
        found = [compare_table(src, tgt, s, t, str, None, options, shard=x) for x in cut]
    finally:
        src.close()
        tgt.close()
    for field in ("source_rows", "target_rows", "missing", "extra", "changed"):
        assert sum(getattr(d, field) for d in found) == getattr(whole, field), field
    assert whole.missing == len(dropped)


def test_bounded_sampling_reads_a_bounded_number_of_keys_per_statement(dsn: str) -> None:
    """On a server whose transactions end after five minutes (Aurora DSQL), shard boundaries
    are sampled one short statement at a time, each reading at most ``bounded_rows`` keys
    along the index, and land where the one-statement sampling puts them."""
    keys = [f"k{n:05d}" for n in range(2000)]
    _load(dsn, "text", keys, keys)
    src, tgt = _open(dsn, "source"), _open(dsn, "target")
    try:
        s, t = src.catalog().table("s"), tgt.catalog().table("t")
        assert s is not None
        assert t is not None
        assert isinstance(src, PostgresDatabase)
        pair = pairing(src, tgt, s, t, str, None, RowOptions())
        free = shards.plan(pair.src, pair.tgt, integer_key=False, shard_rows=500)
        src.bounded = True
        before = src.round_trips
        bounded = shards.plan(
            pair.src, pair.tgt, integer_key=False, shard_rows=500, bounded_rows=100
        )
        assert [x.within for x in bounded] == [x.within for x in free]
        assert len(bounded) == 4
        assert src.round_trips - before >= 2000 // 100  # one statement per 100 keys read
    finally:
        src.close()
        tgt.close()


# -- a table compared in shards, merged back ----------------------------------------------------


@pytest.fixture(scope="module")
def events(dsn: str) -> str:
    """``events`` (3,500 rows) on the source; on the target one row missing, one extra above
    the source's last key, and the rows either side of the first shard boundary (877)
    changed."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("events_s", "events_t"):
            conn.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, note text)")
            conn.execute(
                f"INSERT INTO {table} SELECT g, 'note ' || g FROM generate_series(1, 3500) g"  # noqa: S608
            )
        conn.execute("DELETE FROM events_t WHERE id = 17")
        conn.execute("INSERT INTO events_t VALUES (3501, 'extra')")
        conn.execute("UPDATE events_t SET note = 'edited' WHERE id IN (876, 877)")
        conn.execute("ANALYZE events_s; ANALYZE events_t")
    return dsn


def _results(dsn: str, settings: RowSettings) -> tuple[tuple[Shard, ...], list[dict[str, Any]]]:
    src, tgt = _open(dsn, "source"), _open(dsn, "target")
    pair = TablePair("events", "events_s", "events_t", (("id", "id"), ("note", "note")))
    try:
        cut = shard_table(pair, source_db=src, target_db=tgt, settings=settings)
        checks = [
            {
                **check_rows(
                    pair, source_db=src, target_db=tgt, settings=settings, shard=shard
                ).to_dict(),
                "nodeid": f"test_rows[{shard.label(pair.id)}]",
            }
            for shard in cut
        ]
        return cut, checks
    finally:
        src.close()
        tgt.close()


class TestMergedShards:
    def test_a_table_in_shards_reports_what_it_reports_whole(self, events: str) -> None:
        cut, parts = _results(events, RowSettings(shard_rows=1000))
        (whole,) = _results(events, RowSettings())[1]
        assert [p["name"] for p in parts] == [f"events#{n}/4" for n in range(1, 5)]
        assert len(cut) == 4
        (merged,) = merge_shards(parts)
        assert merged["id"] == "rows[events]"
        assert merged["status"] == whole["status"] == "fail"
        for field in ("source_rows", "target_rows", "missing", "extra", "changed"):
            assert merged["evidence"][field] == whole["evidence"][field], field
        counts = [merged["evidence"][k] for k in ("missing", "extra", "changed")]
        assert counts == [1, 1, 2]
        assert cut[1].within.lo == (877,)
        assert all(p["evidence"]["source_rows"] > 0 for p in parts)
        keys = sorted((s["kind"], s["key"]["id"]) for s in merged["evidence"]["samples"])
        assert keys == [
            ("changed", "876"),
            ("changed", "877"),
            ("extra", "3501"),
            ("missing", "17"),
        ]
        assert {f["message"] for f in merged["findings"]} == {
            f["message"] for f in whole["findings"]
        }
        assert len(merged["evidence"]["shards"]) == 4

    def test_a_shard_that_errored_or_never_reported_makes_the_table_an_error(
        self, events: str
    ) -> None:
        _, parts = _results(events, RowSettings(shard_rows=1000))
        crashed = [*parts[:2], {**parts[2], "status": "error", "summary": "connection lost"}]
        (merged,) = merge_shards([*crashed, parts[3]])
        assert merged["status"] == "error"
        assert "events#3/4: connection lost" in merged["summary"]
        (merged,) = merge_shards(parts[1:])
        assert merged["status"] == "error"
        assert "shard(s) 1 of 4 never reported" in merged["summary"]

    def test_other_checks_keep_their_place(self, events: str) -> None:
        _, parts = _results(events, RowSettings(shard_rows=1000))
        other = {"area": "schema", "name": "events#1/2", "status": "pass"}
        merged = merge_shards([other, *parts, other])
        assert [m["id"] if "id" in m else m["name"] for m in merged] == [
            "events#1/2",
            "rows[events]",
            "events#1/2",
        ]
        assert merged[1]["status"] == Status.FAIL.value


# -- cutover verify: shard items over two workers, one result per table -------------------------


def test_verify_splits_a_large_table_over_workers_and_reports_it_once(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    names = [f"v_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    dsns = [pg_cluster.create_database(name) for name in names]
    try:
        for n, dsn in enumerate(dsns):
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, note text)")
                conn.execute("CREATE TABLE tags (name text PRIMARY KEY)")
                conn.execute("INSERT INTO tags VALUES ('a'), ('b')")
                conn.execute(
                    "INSERT INTO events SELECT g, 'note ' || g FROM generate_series(1, 3500) g"
                )
                if n == 1:
                    conn.execute("DELETE FROM events WHERE id = 17")
                    conn.execute("UPDATE events SET note = 'edited' WHERE id = 2000")
                conn.execute("ANALYZE")
        plan = {
            "name": "shards",
            "source": {"kind": "postgres", "dsn": dsns[0]},
            "target": {"kind": "postgres", "dsn": dsns[1]},
            "rows": {"shard_rows": 1000},
        }
        (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
        done = run_cutover(
            "verify",
            "--plan",
            "plan.yaml",
            "--report-dir",
            "out",
            "-n",
            "2",
            "--",
            "-v",
            cwd=tmp_path,
        )
    finally:
        for name in names:
            pg_cluster.drop_database(name)
    assert done.returncode == 1, done.stdout + done.stderr
    for n in range(1, 5):
        assert f"test_rows[events#{n}/4]" in done.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    rows = {c["id"]: c for c in results["checks"] if c["area"] == "rows"}
    assert sorted(rows) == ["rows[events]", "rows[tags]"]
    events = rows["rows[events]"]
    assert events["status"] == "fail"
    assert (events["evidence"]["missing"], events["evidence"]["changed"]) == (1, 1), json.dumps(
        events["evidence"]
    )
    assert events["evidence"]["source_rows"] == 3500
    assert len(events["evidence"]["shards"]) == 4
    assert rows["rows[tags]"]["status"] == "pass"


@pytest.mark.parametrize("key", ["integer", "text"])
def test_a_sqlite_source_in_shards_finds_what_it_finds_whole(
    dsn: str, tmp_path: Path, key: str
) -> None:
    """SQLite's side clamps the table's key bounds to the shard and digests only its range."""
    import sqlite3

    keys: list[Any] = (
        list(range(1, 3001)) if key == "integer" else [f"k{n:04d}" for n in range(3000)]
    )
    path = tmp_path / "app.db"
    kind = "INTEGER" if key == "integer" else "TEXT"
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE s (k {kind} PRIMARY KEY, v INTEGER)")
        conn.executemany("INSERT INTO s VALUES (?, ?)", [(k, n) for n, k in enumerate(keys)])
    conn.close()
    _load(dsn, "integer" if key == "integer" else "text", keys, keys)
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("DELETE FROM t WHERE k IN (%s, %s)", (keys[0], keys[1500]))
        pg.execute("UPDATE t SET v = -1 WHERE k IN (%s, %s)", (keys[999], keys[1000]))
    src = open_database(Connector("source", "sqlite", "sqlite", str(path), "s"))
    tgt = _open(dsn, "target")
    try:
        s, t = src.catalog().table("s"), tgt.catalog().table("t")
        assert s is not None
        assert t is not None
        options = RowOptions(segment_rows=100)
        both = pairing(src, tgt, s, t, str, None, options)
        cut = shards.plan(both.src, both.tgt, integer_key=both.integer_key, shard_rows=1000)
        found = [compare_table(src, tgt, s, t, str, None, options, shard=x) for x in cut]
    finally:
        src.close()
        tgt.close()
    assert len(cut) == 3
    totals = [sum(getattr(d, f) for d in found) for f in ("source_rows", "missing", "changed")]
    assert totals == [3000, 2, 2]
