"""The way back: PostgreSQL → SQLite (a rollback file), compared with the same canon.

A real PostgreSQL holds the application's rows in its own types; a real SQLite file holds
them as a rollback script writes them with Python's ``sqlite3`` — a ``numeric(12,2)`` as a
REAL under NUMERIC affinity, a boolean as 0/1, a ``timestamptz`` as ISO text with another
offset, ``bytea`` as a BLOB. The canon compares each in the PostgreSQL source's type, so what
denotes the same value is equal, and one planted change is found exactly, by key and column.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from harness.endpoints.resolve import Connector, open_database
from harness.rows.compare import RowDiff, RowOptions, compare_table
from tests.conftest import run_cutover

PG_SCHEMA = """
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    balance numeric(12,2),
    active boolean,
    opened timestamptz,
    avatar bytea,
    rating double precision,
    born date
);
INSERT INTO accounts VALUES
    (1, 'ada', 12.50, true, '2026-01-01 10:00:00+02', '\\x00ff10', 4.25, '1990-05-01'),
    (2, 'bob', 0.00, false, '2026-03-28 23:30:00.123456+00', '', 0.1, NULL),
    (3, 'cy', -7.05, NULL, NULL, NULL, NULL, '2000-02-29');
"""

SQLITE_SCHEMA = (
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance NUMERIC,"
    " active BOOLEAN, opened TEXT, avatar BLOB, rating REAL, born DATE)"
)

# What a rollback script writes for the rows above: other forms, the same values.
ROLLED_BACK = [
    (1, "ada", 12.5, 1, "2026-01-01T08:00:00Z", b"\x00\xff\x10", 4.25, "1990-05-01"),
    (2, "bob", 0, 0, "2026-03-28 23:30:00.123456+00:00", b"", 0.1, None),
    (3, "cy", -7.05, None, None, None, None, "2000-02-29"),
]


@pytest.fixture
def source(pg_database: str) -> Iterator[Connector]:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(PG_SCHEMA)  # type: ignore[arg-type]
    return Connector("source", "postgres", "postgres", pg_database, "pg", "public")


def rollback_file(folder: Path, rows: list[tuple[Any, ...]]) -> Path:
    path = folder / "rollback.db"
    with sqlite3.connect(path) as conn:
        conn.execute(SQLITE_SCHEMA)
        conn.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    return path


def diff(source: Connector, path: Path) -> RowDiff:
    src = open_database(source)
    tgt = open_database(Connector("target", "sqlite", "sqlite", str(path), "rollback"))
    try:
        s, t = src.catalog().table("accounts"), tgt.catalog().table("accounts")
        assert s is not None
        assert t is not None
        return compare_table(src, tgt, s, t, str, None, RowOptions(segment_rows=2))
    finally:
        src.close()
        tgt.close()


class TestTheWayBack:
    def test_values_sqlite_stores_in_other_forms_compare_equal(
        self, source: Connector, tmp_path: Path
    ) -> None:
        found = diff(source, rollback_file(tmp_path, ROLLED_BACK))
        assert (found.missing, found.extra, found.changed) == (0, 0, 0)
        assert found.keyed

    @pytest.mark.parametrize(
        ("column", "value"),
        [
            ("balance", 12.51),
            ("active", 0),
            ("opened", "2026-01-01T10:00:00Z"),  # the same wall time, another instant
            ("avatar", b"\x00\xff\x11"),
            ("rating", 4.26),
            ("born", "1990-05-02"),
            ("name", "ada "),
        ],
    )
    def test_one_planted_change_is_found_exactly(
        self, source: Connector, tmp_path: Path, column: str, value: Any
    ) -> None:
        columns = ["id", "name", "balance", "active", "opened", "avatar", "rating", "born"]
        planted = list(ROLLED_BACK)
        first = list(planted[0])
        first[columns.index(column)] = value
        planted[0] = tuple(first)
        found = diff(source, rollback_file(tmp_path, planted))
        assert (found.missing, found.extra, found.changed) == (0, 0, 1)
        assert found.changed_columns == {column: 1}
        assert [(s.kind, s.key, list(s.columns)) for s in found.samples] == [
            ("changed", {"id": "1"}, [column])
        ]

    def test_a_row_the_rollback_lost_is_missing(self, source: Connector, tmp_path: Path) -> None:
        found = diff(source, rollback_file(tmp_path, ROLLED_BACK[:2]))
        assert (found.missing, found.extra, found.changed) == (1, 0, 0)


class TestAVerifyRun:
    """`cutover verify` with a SQLite target: schema, counts and rows all run and decide."""

    @staticmethod
    def run(source: Connector, folder: Path, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
        rollback_file(folder, rows)
        plan = {
            "name": "rollback",
            "source": {"kind": "postgres", "dsn": source.address},
            "target": {"kind": "sqlite", "path": "rollback.db"},
        }
        (folder / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
        done = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=folder)
        results: dict[str, Any] = json.loads((folder / "out" / "results.json").read_text())
        results["exit"] = done.returncode
        return results

    def test_a_faithful_rollback_is_go_on_every_check(
        self, source: Connector, tmp_path: Path
    ) -> None:
        results = self.run(source, tmp_path, ROLLED_BACK)
        statuses = {c["id"]: c["status"] for c in results["checks"]}
        assert results["exit"] == 0
        assert {"schema[accounts]", "row_count[accounts]", "rows[accounts]"} <= statuses.keys()
        assert set(statuses.values()) == {"pass"}

    def test_a_planted_difference_is_no_go_naming_the_row_and_column(
        self, source: Connector, tmp_path: Path
    ) -> None:
        planted = [(*ROLLED_BACK[0][:2], 12.05, *ROLLED_BACK[0][3:]), *ROLLED_BACK[1:]]
        results = self.run(source, tmp_path, planted)
        rows = next(c for c in results["checks"] if c["id"] == "rows[accounts]")
        assert results["exit"] == 1
        assert rows["status"] == "fail"
        assert [(f["kind"], f["column"]) for f in rows["findings"]] == [("row_changed", "balance")]
