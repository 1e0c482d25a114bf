"""The row diff reports exactly the mutated keys and columns, on SQLite → PostgreSQL and on
PostgreSQL → PostgreSQL, for random tables and random mutations (hypothesis)."""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.db import database
from harness.db.database import PostgresDatabase, SqliteDatabase
from harness.embedded.provision import PostgresCluster
from harness.endpoints.resolve import Connector, open_database
from harness.errors import CheckError
from harness.rows.compare import RowOptions, compare_table, plan_columns
from harness.rows.sides import SqliteSide
from harness.rows.sides import postgres as postgres_side

# (column, PostgreSQL type, SQLite declared type)
COLUMNS = (
    ("name", "text", "TEXT"),
    ("amount", "numeric(12,2)", "NUMERIC(12,2)"),
    ("created_at", "timestamp", "DATETIME"),
    ("active", "boolean", "BOOLEAN"),
    ("ratio", "double precision", "REAL"),
    ("payload", "bytea", "BLOB"),
    ("ref", "uuid", "TEXT"),
)
NAMES = [c for c, _, _ in COLUMNS]

values = st.fixed_dictionaries(
    {
        "name": st.none() | st.text("abc XYZ", max_size=6),
        "amount": st.none() | st.decimals(-9999, 9999, places=2),
        "created_at": st.none()
        | st.datetimes(datetime(2000, 1, 1), datetime(2030, 1, 1)).map(
            lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
        ),
        "active": st.none() | st.booleans(),
        "ratio": st.none() | st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 3)),
        "payload": st.none() | st.binary(max_size=4),
        "ref": st.none() | st.uuids(version=4),
    }
)


def _mutate(column: str, value: Any, how: int) -> Any:
    """A small realistic change: NULL↔'', +1 µs, +0.01, trailing space, case change…"""
    if value is None:
        return "" if column == "name" else _fresh(column)
    if column == "name":
        return (value + " ", value.swapcase() if value.swapcase() != value else value + "x", None)[
            how % 3
        ]
    if column == "amount":
        return value + Decimal("0.01")
    if column == "created_at":
        return value + timedelta(microseconds=1)
    if column == "active":
        return not value
    if column == "ratio":
        return value + 1.0
    if column == "payload":
        return value + b"\x00"
    return uuid.uuid4()


def _fresh(column: str) -> Any:
    return {
        "amount": Decimal("1.00"),
        "created_at": datetime(2020, 1, 1),
        "active": True,
        "ratio": 0.5,
        "payload": b"\x01",
        "ref": uuid.UUID(int=7),
    }[column]


@dataclass
class Mutations:
    updates: dict[int, tuple[str, int]]
    deletes: set[int]
    inserts: set[int]


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[int, dict[str, Any]], Mutations]:
    if draw(st.booleans()):  # sparse keys: segments from sampled boundaries
        ids = draw(st.lists(st.integers(1, 5000), min_size=1, max_size=60, unique=True))
    else:  # dense keys: segments by arithmetic
        ids = list(range(1, draw(st.integers(1, 60)) + 1))
    rows = {i: draw(values) for i in ids}
    touched = draw(st.lists(st.sampled_from(ids), max_size=6, unique=True))
    split = draw(st.integers(0, len(touched)))
    updates = {i: (draw(st.sampled_from(NAMES)), draw(st.integers(0, 2))) for i in touched[:split]}
    deletes = set(touched[split:])
    inserts = set(draw(st.lists(st.integers(5001, 6000), max_size=3, unique=True)))
    return rows, Mutations(updates, deletes, inserts)


def _sqlite_value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column == "amount":
        return float(value)  # money as REAL, the affinity quirk the canon must absorb
    if column == "created_at":
        return value.isoformat(sep="T" if value.second % 2 else " ")
    if column == "active":
        return int(value)
    if column == "ref":
        return str(value).upper() if value.int % 2 else str(value)
    return value


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    with PostgresCluster() as pg:
        yield pg


def _load_pg(dsn: str, rows: dict[int, dict[str, Any]]) -> None:
    cols = ", ".join(f"{c} {t}" for c, t, _ in COLUMNS)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS t")
        conn.execute(f"CREATE TABLE t (id bigint PRIMARY KEY, {cols})")
        with conn.cursor().copy(f"COPY t (id, {', '.join(NAMES)}) FROM STDIN") as copy:
            for i, row in rows.items():
                copy.write_row([i, *(row[c] for c in NAMES)])


def _apply(rows: dict[int, dict[str, Any]], m: Mutations) -> dict[int, dict[str, Any]]:
    out = {i: dict(r) for i, r in rows.items() if i not in m.deletes}
    for i, (column, how) in m.updates.items():
        out[i][column] = _mutate(column, out[i][column], how)
    for i in m.inserts:
        out[i] = {c: None for c in NAMES}
    return out


def _expected_changes(
    rows: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]], m: Mutations
) -> dict[str, set[str]]:
    changed = {}
    for i, (column, _) in m.updates.items():
        if rows[i][column] != after[i][column]:
            changed[str(i)] = {column}
    return changed


# Tiny segments so the bisection, not one fetch, finds the differences.
TINY = RowOptions(segment_rows=8, sample_cap=100)


def _diff(
    source: Connector,
    target_dsn: str,
    key: tuple[str, ...] | None = None,
    options: RowOptions = TINY,
) -> Any:
    src = open_database(source)
    tgt = open_database(Connector("target", "postgres", "postgres", target_dsn, "t", "public"))
    try:
        s, t = src.catalog().table("t"), tgt.catalog().table("t")
        assert s is not None
        assert t is not None
        return compare_table(src, tgt, s, t, str, key, options)
    finally:
        src.close()
        tgt.close()


def _check(diff: Any, rows: dict[int, dict[str, Any]], m: Mutations) -> None:
    after = _apply(rows, m)
    expected = _expected_changes(rows, after, m)
    changed = {s.key["id"]: set(s.columns) for s in diff.samples if s.kind == "changed"}
    assert changed == expected
    assert {s.key["id"] for s in diff.samples if s.kind == "missing"} == {str(i) for i in m.deletes}
    assert {s.key["id"] for s in diff.samples if s.kind == "extra"} == {str(i) for i in m.inserts}
    assert (diff.missing, diff.extra, diff.changed) == (
        len(m.deletes),
        len(m.inserts),
        len(expected),
    )


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(case=tables())
def test_postgres_to_postgres_reports_exactly_the_mutations(
    cluster: PostgresCluster, case: tuple[dict[int, dict[str, Any]], Mutations]
) -> None:
    rows, mutations = case
    source_dsn = cluster.create_database(f"s_{uuid.uuid4().hex[:10]}")
    target_dsn = cluster.create_database(f"t_{uuid.uuid4().hex[:10]}")
    _load_pg(source_dsn, rows)
    _load_pg(target_dsn, _apply(rows, mutations))
    diff = _diff(Connector("source", "postgres", "postgres", source_dsn, "s", "public"), target_dsn)
    _check(diff, rows, mutations)


@SETTINGS
@given(case=tables())
def test_sqlite_to_postgres_reports_exactly_the_mutations(
    cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory, case: Any
) -> None:
    rows, mutations = case
    path: Path = tmp_path_factory.mktemp("rows") / "app.db"
    with sqlite3.connect(path) as conn:
        cols = ", ".join(f"{c} {t}" for c, _, t in COLUMNS)
        conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {cols})")
        conn.executemany(
            f"INSERT INTO t VALUES (?, {', '.join('?' * len(NAMES))})",  # noqa: S608 (fixed names)
            [(i, *(_sqlite_value(c, r[c]) for c in NAMES)) for i, r in rows.items()],
        )
    conn.close()
    target_dsn = cluster.create_database(f"t_{uuid.uuid4().hex[:10]}")
    _load_pg(target_dsn, _apply(rows, mutations))
    diff = _diff(Connector("source", "sqlite", "sqlite", str(path), "s"), target_dsn)
    _check(diff, rows, mutations)


def test_keyless_tables_are_compared_as_multisets(cluster: PostgresCluster, tmp_path: Path) -> None:
    """No key on either side: duplicates count, a changed row is one missing plus one extra,
    and the samples show the rows as PostgreSQL writes records, whichever side they are on."""
    rows = [("a b", 1.5, 1), ("a b", 1.5, 1), ("c", None, 0), ("d,e", 2.25, 1)]
    changed = [("a b", 1.5, 1), ("c", None, 0), ("d,e", 2.5, 1), ("new", 0.0, 0)]
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (name TEXT, amount NUMERIC(12,2), active BOOLEAN)")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    conn.close()
    pg_rows = [(n, a, bool(b)) for n, a, b in rows]
    source_dsn = cluster.create_database(f"s_{uuid.uuid4().hex[:10]}")
    target_dsn = cluster.create_database(f"t_{uuid.uuid4().hex[:10]}")
    for dsn, data in (
        (source_dsn, pg_rows),
        (target_dsn, [(n, a, bool(b)) for n, a, b in changed]),
    ):
        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute("CREATE TABLE t (name text, amount numeric(12,2), active boolean)")
            pg.cursor().executemany("INSERT INTO t VALUES (%s, %s, %s)", data)
    sources = {
        "sqlite": Connector("source", "sqlite", "sqlite", str(path), "s"),
        "postgres": Connector("source", "postgres", "postgres", source_dsn, "s", "public"),
    }
    for name, source in sources.items():
        diff = _diff(source, target_dsn)
        assert diff.state == "mismatched", name
        assert (diff.missing, diff.extra, diff.changed) == (2, 2, 0), name
        shown = sorted((s.kind, s.key["row"]) for s in diff.samples)
        assert shown == [
            ("extra", '("d,e",2.50,t)'),
            ("extra", "(new,0.00,f)"),
            ("missing", '("a b",1.50,t)'),
            ("missing", '("d,e",2.25,t)'),
        ], name


@pytest.mark.parametrize("key", ["n", "code"])
def test_a_sqlite_key_without_an_index_is_read_in_one_scan(
    cluster: PostgresCluster, tmp_path: Path, key: str
) -> None:
    """A plan's key that SQLite has no index for: segments come from one ordered scan (a
    query per segment would scan the table each time) and hash to what PostgreSQL computes."""
    rows = [(n, f"k{n:04d}", f"name {n}" if n % 7 else None) for n in range(1, 121)]
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (n INTEGER, code TEXT, name TEXT)")  # no key, no index
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    conn.close()
    changed = [r for r in rows if r[0] not in (5, 77)] + [(500, "k0500", "new")]
    changed[40] = (changed[40][0], changed[40][1], "edited")
    target_dsn = cluster.create_database(f"t_{uuid.uuid4().hex[:10]}")
    with psycopg.connect(target_dsn, autocommit=True) as pg:
        pg.execute('CREATE TABLE t (n bigint, code text COLLATE "C", name text)')
        pg.cursor().executemany("INSERT INTO t VALUES (%s, %s, %s)", changed)
    src = open_database(Connector("source", "sqlite", "sqlite", str(path), "s"))
    tgt = open_database(Connector("target", "postgres", "postgres", target_dsn, "t", "public"))
    try:
        s, t = src.catalog().table("t"), tgt.catalog().table("t")
        assert s is not None
        assert t is not None
        assert isinstance(src, SqliteDatabase)
        columns = plan_columns(src, s, tgt, t, str, RowOptions())
        index = [c.source for c in columns].index(key)
        assert not SqliteSide(src, "t", columns, [index])._seekable
        diff = compare_table(src, tgt, s, t, str, (key,), RowOptions(segment_rows=8))
    finally:
        src.close()
        tgt.close()
    assert (diff.missing, diff.extra, diff.changed) == (2, 1, 1)
    assert diff.changed_columns == {"name": 1}
    assert diff.rows_fetched < 100  # found by bisection, not by fetching everything


def _sqlite_vs_postgres(
    cluster: PostgresCluster, tmp_path: Path, rows: list[tuple[Any, ...]], changed: list[Any]
) -> tuple[Connector, str]:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (code TEXT PRIMARY KEY, name TEXT)")  # SQLite allows NULLs
        conn.executemany("INSERT INTO t VALUES (?, ?)", rows)
    conn.close()
    target_dsn = cluster.create_database(f"t_{uuid.uuid4().hex[:10]}")
    with psycopg.connect(target_dsn, autocommit=True) as pg:
        pg.execute("CREATE TABLE t (code text, name text)")
        pg.cursor().executemany("INSERT INTO t VALUES (%s, %s)", changed)
    return Connector("source", "sqlite", "sqlite", str(path), "s"), target_dsn


def test_a_null_in_the_key_is_an_error_not_a_skipped_row(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    """SQLite lets a non-integer PRIMARY KEY hold NULL; such rows fall in no key range, so
    they must stop the check rather than go uncompared."""
    rows = [("a", "x"), (None, "orphan"), ("b", "y")]
    source, target_dsn = _sqlite_vs_postgres(cluster, tmp_path, rows, [("a", "x"), ("b", "y")])
    with pytest.raises(CheckError, match=r"1 row\(s\) of t have a NULL in the key \(code\)"):
        _diff(source, target_dsn)


def test_a_key_that_is_not_unique_is_an_error_when_its_rows_differ(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    """Rows are matched by key: two target rows under one key cannot be matched silently."""
    rows = [("a", "x"), ("b", "y")]
    source, target_dsn = _sqlite_vs_postgres(
        cluster, tmp_path, rows, [("a", "x"), ("b", "y"), ("b", "z")]
    )
    with pytest.raises(CheckError, match=r"the key \(code\) of t is not unique \(b twice\)"):
        _diff(source, target_dsn)


def _scanned_rows(plan: Any) -> int:
    """The most rows any scan node of an EXPLAIN ANALYZE (FORMAT JSON) plan read."""
    node = plan if isinstance(plan, dict) else plan[0]["Plan"]
    own = node["Actual Rows"] * node.get("Actual Loops", 1) if "Scan" in node["Node Type"] else 0
    return max([own, *(_scanned_rows(child) for child in node.get("Plans", []))])


@pytest.mark.parametrize("key_type", ["bigint", "text"])
def test_a_server_with_a_transaction_limit_is_read_in_bounded_statements(
    cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch, key_type: str
) -> None:
    """Aurora DSQL ends transactions after five minutes: on such a server (``bounded``) no
    checksum statement covers more than BOUNDED_SEGMENTS segments, key samples are taken a
    few keys at a time, and the diff is the same."""
    monkeypatch.setattr(postgres_side, "BOUNDED_SEGMENTS", 3)
    ids = range(1, 301)
    key = (lambda i: i) if key_type == "bigint" else (lambda i: f"k{i:04d}")
    dsns = []
    for rows in ([(key(i), f"n{i}") for i in ids], [(key(i), f"n{i}") for i in ids if i != 150]):
        dsn = cluster.create_database(f"b_{uuid.uuid4().hex[:10]}")
        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute(
                f'CREATE TABLE t (id {key_type} COLLATE "C" PRIMARY KEY, name text)'
                if key_type == "text"
                else "CREATE TABLE t (id bigint PRIMARY KEY, name text)"
            )
            pg.cursor().executemany("INSERT INTO t VALUES (%s, %s)", rows)
            pg.execute("ANALYZE t")
        dsns.append(dsn)
    statements: list[tuple[Any, list[Any]]] = []
    run = postgres_side.PostgresSide._run

    def spy(self: postgres_side.PostgresSide, query: Any, params: Any = ()) -> Any:
        statements.append((query.as_string(self.db.conn), list(params)))
        return run(self, query, params)

    monkeypatch.setattr(postgres_side.PostgresSide, "_run", spy)
    src = open_database(Connector("source", "postgres", "postgres", dsns[0], "s", "public"))
    tgt = open_database(Connector("target", "postgres", "postgres", dsns[1], "t", "public"))
    try:
        for db in (src, tgt):
            assert isinstance(db, PostgresDatabase)
            db.bounded = True
        s, t = src.catalog().table("t"), tgt.catalog().table("t")
        assert s is not None
        assert t is not None
        diff = compare_table(src, tgt, s, t, str, None, RowOptions(segment_rows=10))
        assert (diff.missing, diff.extra, diff.changed) == (1, 0, 0)
        assert not any("row_number" in text for text, _ in statements)
        assert not any("hashtextextended" in text for text, _ in statements)  # unconfirmed there
        checksums = [(q, p) for q, p in statements if "GROUP BY" in q or "count(*)" in q]
        assert len(checksums) > 10  # the first pass alone takes 300 / 10 / 3 = 10 statements
        for text, params in checksums:
            plan = src.conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {text}", params).fetchone()
            assert plan is not None
            assert _scanned_rows(plan[0]) <= 3 * 10 + 10, text  # 3 segments of ~10 rows
    finally:
        src.close()
        tgt.close()


@pytest.mark.parametrize("alike", [True, False])
def test_the_servers_row_hash_is_summed_only_where_both_servers_hash_alike(
    cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch, alike: bool
) -> None:
    """PostgreSQL's own 64-bit text hash is half the cost of MD5's, but its values follow the
    server's byte order: it is summed when both surveys report the same probe, and MD5 when
    they differ (a big-endian source), with the same diff either way and no fallback to
    fetching every row."""
    dsns = []
    for rows in (
        [(i, f"n{i}") for i in range(1, 2001)],
        [(i, f"n{i}" if i != 700 else "changed") for i in range(1, 2001) if i != 1500],
    ):
        dsn = cluster.create_database(f"h_{uuid.uuid4().hex[:10]}")
        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            pg.cursor().executemany("INSERT INTO t VALUES (%s, %s)", rows)
        dsns.append(dsn)
    statements: list[str] = []
    run, survey = postgres_side.PostgresSide._run, postgres_side.PostgresSide.survey

    def spy(self: postgres_side.PostgresSide, query: Any, params: Any = ()) -> Any:
        statements.append(query.as_string(self.db.conn))
        return run(self, query, params)

    def other_byte_order(self: postgres_side.PostgresSide, **kwargs: Any) -> Any:
        found = survey(self, **kwargs)
        assert found.hash_probe is not None  # PostgreSQL 16, not DSQL: it offers the hash
        if self.role == "target":
            return dataclasses.replace(found, hash_probe=found.hash_probe ^ 1)
        return found

    monkeypatch.setattr(postgres_side.PostgresSide, "_run", spy)
    if not alike:
        monkeypatch.setattr(postgres_side.PostgresSide, "survey", other_byte_order)
    source = Connector("source", "postgres", "postgres", dsns[0], "s", "public")
    diff = _diff(source, dsns[1], options=RowOptions(segment_rows=100))
    assert (diff.missing, diff.extra, diff.changed) == (1, 0, 1)
    assert diff.rows_fetched < 1000
    sums = [text for text in statements if "GROUP BY" in text]
    assert sums
    assert all(("sum(hashtextextended(" in text) is alike for text in sums), sums
    assert all(("md5(" in text) is not alike for text in sums), sums


@pytest.mark.parametrize(
    ("columns", "steps"),
    [
        # 50 rows, 7 a statement: 7 blocks found, an 8th not, then a count of the last row
        ("id bigint PRIMARY KEY, b text", 9),
        ("id bigint, b text, PRIMARY KEY (b, id)", 9),
        ("id bigint, b text", 1),  # no key to step along: one count
    ],
)
def test_row_counts_on_a_bounded_server_step_along_the_primary_key(
    cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch, columns: str, steps: int
) -> None:
    """The row count check's count(*) on Aurora DSQL: a block of rows per statement."""
    monkeypatch.setattr(database, "COUNT_BLOCK", 7)
    dsn = cluster.create_database(f"c_{uuid.uuid4().hex[:10]}")
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute(f"CREATE TABLE t ({columns})")
        pg.cursor().executemany(
            "INSERT INTO t VALUES (%s, %s)", [(i, f"b{i % 9}") for i in range(50)]
        )
    db = open_database(Connector("target", "postgres", "postgres", dsn, "t", "public"))
    try:
        assert isinstance(db, PostgresDatabase)
        db.bounded = True
        db.catalog()  # read before counting statements
        statements: list[str] = []
        one = db._one

        def spy(query: Any, params: Any = ()) -> Any:
            statements.append(query.as_string(db.conn))
            return one(query, params)

        monkeypatch.setattr(db, "_one", spy)
        assert db.count_rows("t") == 50
        assert len(statements) == steps
    finally:
        db.close()


def test_a_plan_key_that_is_not_unique_is_an_error_even_where_the_rows_match(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    """A key the plan names (tables.keys), not a constraint, is checked up front: whether
    matching rows would have hidden the repeat must not depend on how ties happen to sort."""
    rows = [("a", "x"), ("b", "y"), ("c", "y")]
    source, target_dsn = _sqlite_vs_postgres(cluster, tmp_path, rows, rows)
    with pytest.raises(CheckError, match=r"the key \(name\) of t is not unique \(y twice\)"):
        _diff(source, target_dsn, key=("name",))
    assert _diff(source, target_dsn, key=("code", "name")).state == "validated"


def _two_tables(cluster: PostgresCluster, rows: int, changed: tuple[int, ...]) -> list[str]:
    """A source and a target ``t(id, name)`` of ``rows`` rows; ``changed`` ids differ."""
    dsns = []
    for edits in ((), changed):
        dsn = cluster.create_database(f"f_{uuid.uuid4().hex[:10]}")
        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            pg.execute("INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, %s) g", (rows,))
            for key in edits:
                pg.execute("UPDATE t SET name = name || '!' WHERE id = %s", (key,))
            pg.execute("ANALYZE t")
        dsns.append(dsn)
    return dsns


class TestFirstPass:
    def test_where_both_sides_sum_hashes_a_differing_segment_is_fetched_without_a_level(
        self, cluster: PostgresCluster
    ) -> None:
        """PostgreSQL on both sides: segments small enough to fetch, so the survey, the first
        pass and one fetch are the comparison's only statements a side."""
        source, target = _two_tables(cluster, 20_000, changed=(5, 9_999, 19_990))
        src = open_database(Connector("source", "postgres", "postgres", source, "s", "public"))
        tgt = open_database(Connector("target", "postgres", "postgres", target, "t", "public"))
        try:
            s, t = src.catalog().table("t"), tgt.catalog().table("t")
            assert s is not None
            assert t is not None
            diff = compare_table(src, tgt, s, t, str, None, RowOptions())
        finally:
            src.close()
            tgt.close()
        assert (diff.missing, diff.extra, diff.changed) == (0, 0, 3)
        assert diff.segments_split == 0
        assert diff.segments > 20_000 // RowOptions().segment_rows
        assert diff.round_trips == {"source": 3, "target": 3}
        assert diff.rows_fetched <= 2 * 3 * RowOptions().fetch_rows

    def test_a_bounded_side_keeps_segments_of_segment_rows(self, cluster: PostgresCluster) -> None:
        """Aurora DSQL: the first pass goes in statements of BOUNDED_SEGMENTS segments, so
        its segments stay ``segment_rows`` wide and a differing one is bisected."""
        source, target = _two_tables(cluster, 20_000, changed=(9_999,))
        src = open_database(Connector("source", "postgres", "postgres", source, "s", "public"))
        tgt = open_database(Connector("target", "postgres", "postgres", target, "t", "public"))
        try:
            assert isinstance(tgt, PostgresDatabase)
            tgt.bounded = True
            s, t = src.catalog().table("t"), tgt.catalog().table("t")
            assert s is not None
            assert t is not None
            diff = compare_table(src, tgt, s, t, str, None, RowOptions(segment_rows=1_000))
        finally:
            src.close()
            tgt.close()
        assert (diff.missing, diff.extra, diff.changed) == (0, 0, 1)
        assert diff.segments == 20
        assert diff.segments_split == 1
