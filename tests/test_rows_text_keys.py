"""Text keys are ranged in byte order on both sides, whatever the PostgreSQL column's collation.

SQLite (BINARY) and Aurora DSQL (C) sort text keys by bytes; a PostgreSQL column under a
linguistic collation sorts 'B' before 'a' differently, so its ranges are spelled
``COLLATE "C"``. A column that already sorts by bytes goes without, so its index serves the
range queries. (The embedded PostgreSQL has no ICU or linguistic libc locales, so the
diff runs under C and C.utf8; the collation decision is checked for each.)
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from harness.db.database import PostgresDatabase
from harness.embedded.provision import PostgresCluster
from harness.endpoints.resolve import Connector, open_database
from harness.rows.compare import RowDiff, RowOptions, compare_table, plan_columns
from harness.rows.sides import PostgresSide

# Mixed case, punctuation and non-ASCII: byte order and linguistic orders disagree on these.
KEYS = [f"{prefix}{i:03d}" for prefix in ("a", "B", "z", "_", "é", "Z-") for i in range(90)]
CHANGED, MISSING, EXTRA = "B017", "é042", "Zz-new"


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    with PostgresCluster() as pg:
        yield pg


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (code TEXT PRIMARY KEY, label TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(k, f"label {k}") for k in KEYS])
    conn.close()
    return path


def _target(cluster: PostgresCluster, collation: str) -> str:
    dsn = cluster.create_database(f"k_{uuid.uuid4().hex[:10]}")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE t (code text COLLATE "{collation}" PRIMARY KEY, label text)')
        with conn.cursor().copy("COPY t FROM STDIN") as copy:
            for key in KEYS:
                if key != MISSING:
                    copy.write_row([key, f"label {key}" + (" (edited)" if key == CHANGED else "")])
            copy.write_row([EXTRA, "new"])
    return dsn


def _diff(source: Path, target_dsn: str) -> RowDiff:
    """Table ``t`` of a SQLite file against the same table on PostgreSQL."""
    src = open_database(Connector("source", "sqlite", "sqlite", str(source), "s"))
    tgt = open_database(Connector("target", "postgres", "postgres", target_dsn, "t", "public"))
    try:
        s, t = src.catalog().table("t"), tgt.catalog().table("t")
        assert s is not None
        assert t is not None
        return compare_table(src, tgt, s, t, str, None, RowOptions(segment_rows=100))
    finally:
        src.close()
        tgt.close()


@pytest.mark.parametrize("collation", ["C", "C.utf8"])
def test_text_keys_diff_exactly_under_either_collation(
    cluster: PostgresCluster, source: Path, collation: str
) -> None:
    diff = _diff(source, _target(cluster, collation))
    by_kind = {(x.kind, x.key["code"]) for x in diff.samples}
    assert by_kind == {("changed", CHANGED), ("missing", MISSING), ("extra", EXTRA)}
    assert (diff.changed, diff.missing, diff.extra) == (1, 1, 1)


@pytest.mark.parametrize(
    ("collation", "spelled_c"), [("C", False), ("POSIX", False), ("C.utf8", True)]
)
def test_only_columns_not_sorting_by_bytes_are_spelled_collate_c(
    cluster: PostgresCluster, collation: str, spelled_c: bool
) -> None:
    db = open_database(
        Connector("target", "postgres", "postgres", _target(cluster, collation), "t", "public")
    )
    try:
        table = db.catalog().table("t")
        assert table is not None
        columns = plan_columns(db, table, db, table, str, RowOptions())
        assert isinstance(db, PostgresDatabase)
        side = PostgresSide(db, "target", "t", columns, [0], text_keys=[True], fields=False)
        assert side._collate_c == (spelled_c,)
    finally:
        db.close()


@pytest.mark.parametrize("case", ["lower", "upper"])
def test_uuid_keys_from_sqlite_text_diff_exactly(
    cluster: PostgresCluster, tmp_path: Path, case: str
) -> None:
    """UUID keys stored by SQLite as text (either case) against a uuid column: both sides
    sample boundaries of different Python types, and the ranges still line up."""
    keys = [uuid.UUID(int=(i * 0x9E3779B97F4A7C15) % 2**128) for i in range(1, 301)]
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (ref TEXT PRIMARY KEY, label TEXT)")
        texts = [str(k).upper() if case == "upper" else str(k) for k in keys]
        conn.executemany(
            "INSERT INTO t VALUES (?, ?)", [(t, f"label {i}") for i, t in enumerate(texts)]
        )
    conn.close()
    dsn = cluster.create_database(f"u_{uuid.uuid4().hex[:10]}")
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("CREATE TABLE t (ref uuid PRIMARY KEY, label text)")
        rows = [(k, f"label {i}" + (" (edited)" if i == 17 else "")) for i, k in enumerate(keys)]
        pg.cursor().executemany(
            "INSERT INTO t VALUES (%s, %s)", [r for i, r in enumerate(rows) if i != 42]
        )
    diff = _diff(path, dsn)
    assert (diff.changed, diff.missing, diff.extra) == (1, 1, 0)
    assert {(x.kind, x.key["ref"]) for x in diff.samples} == {
        ("changed", str(keys[17])),
        ("missing", str(keys[42])),
    }
