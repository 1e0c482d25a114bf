"""The demo data set (:mod:`harness.demo.data`): what the SQLite file holds and what drift does."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from harness.demo.data import (
    DRIFT,
    FACT_ROWS_DEFAULT,
    Drift,
    apply_drift,
    build_demo_sqlite,
)

SMALL = 2_000
TABLES = ("groups", "users", "people", "accounts", "group_members", "events")

NULLABLE = (
    "users.display_name",
    "users.group_id",
    "users.last_login_at",
    "people.user_id",
    "people.nickname",
    "people.birth_date",
    "people.phone",
    "accounts.credit_limit",
    "events.user_id",
    "events.amount",
    "events.payload",
    "events.checksum",
)
TIMESTAMPS = (
    "groups.created_at",
    "users.created_at",
    "users.last_login_at",
    "accounts.opened_at",
    "events.occurred_at",
)
BOOLEANS = ("users.is_active", "accounts.is_frozen", "events.flagged")
EMPTY_STRINGS = ("users.display_name", "people.nickname", "people.phone")
NON_ASCII = ("é", "ø", "ß", "日本")

# The PostgreSQL copy the CLI's migration produces: same names, types mapped one to one.
PG_SCHEMA = """
CREATE TABLE groups (
    id bigint PRIMARY KEY,
    name varchar(80) NOT NULL UNIQUE,
    created_at timestamp NOT NULL
);
CREATE TABLE users (
    id bigint PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    display_name varchar(120),
    password_hash bytea NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    group_id bigint REFERENCES groups(id),
    created_at timestamp NOT NULL,
    last_login_at timestamp
);
CREATE TABLE people (
    id bigint PRIMARY KEY,
    user_id bigint REFERENCES users(id),
    first_name varchar(60) NOT NULL,
    last_name varchar(60) NOT NULL,
    nickname varchar(40),
    birth_date date,
    phone varchar(24)
);
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users(id),
    currency char(3) NOT NULL DEFAULT 'USD',
    balance numeric(12,2) NOT NULL DEFAULT 0,
    credit_limit numeric(12,2) CHECK (credit_limit >= 0),
    is_frozen boolean NOT NULL DEFAULT false,
    opened_at timestamp NOT NULL
);
CREATE TABLE group_members (
    group_id bigint NOT NULL REFERENCES groups(id),
    user_id bigint NOT NULL REFERENCES users(id),
    role text NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE events (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id),
    user_id bigint REFERENCES users(id),
    kind varchar(32) NOT NULL,
    amount numeric(12,2),
    occurred_at timestamp NOT NULL,
    payload text,
    flagged boolean NOT NULL DEFAULT false,
    checksum bytea
);
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A demo file with SMALL fact rows, built once for the module, and build's counts."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    return path, build_demo_sqlite(path, fact_rows=SMALL)


@pytest.fixture
def db(small: tuple[Path, dict[str, int]]) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the small demo file."""
    conn = sqlite3.connect(f"file:{small[0]}?mode=ro", uri=True)
    yield conn
    conn.close()


def _column(dotted: str) -> tuple[str, str]:
    """Split ``table.column`` and quote both halves for SQLite."""
    table, column = dotted.split(".")
    return f'"{table}"', f'"{column}"'


def _values(conn: sqlite3.Connection, dotted: str) -> list[Any]:
    table, column = _column(dotted)
    # Names come from this module's constants, quoted; there is no user input here.
    return [row[0] for row in conn.execute(f"SELECT {column} FROM {table}")]  # noqa: S608


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])  # noqa: S608


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


class TestBuild:
    def test_returns_the_row_count_of_every_table(
        self, small: tuple[Path, dict[str, int]], db: sqlite3.Connection
    ) -> None:
        _, counts = small
        assert list(counts) == list(TABLES)
        assert counts == {table: _count(db, table) for table in TABLES}
        assert counts == {
            "groups": 50,
            "users": 5_000,
            "people": 5_000,
            "accounts": 8_000,
            "group_members": 10_000,
            "events": SMALL,
        }

    def test_builds_the_default_size_reporting_progress_every_20k_rows(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        calls: list[tuple[int, int]] = []
        started = time.perf_counter()
        counts = build_demo_sqlite(
            tmp_path / "demo.sqlite", progress=lambda done, total: calls.append((done, total))
        )
        elapsed = time.perf_counter() - started
        with capsys.disabled():
            print(f"\nbuilt {FACT_ROWS_DEFAULT:,} fact rows in {elapsed:.2f}s")  # not asserted

        assert counts["events"] == FACT_ROWS_DEFAULT == 200_000
        assert calls == [(done, FACT_ROWS_DEFAULT) for done in range(20_000, 200_001, 20_000)]

    def test_reports_progress_for_a_partial_last_chunk(self, tmp_path: Path) -> None:
        calls: list[tuple[int, int]] = []
        build_demo_sqlite(
            tmp_path / "d.sqlite", fact_rows=45_000, progress=lambda *c: calls.append(c)
        )
        assert calls == [(20_000, 45_000), (40_000, 45_000), (45_000, 45_000)]

    def test_overwrites_an_existing_file(self, tmp_path: Path) -> None:
        path = tmp_path / "demo.sqlite"
        path.write_bytes(b"not a database")
        path.with_name("demo.sqlite-wal").write_bytes(b"stale")

        build_demo_sqlite(path, fact_rows=10)

        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert _count(conn, "events") == 10
        finally:
            conn.close()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.sqlite"]

    def test_rejects_a_negative_row_count(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="fact_rows must be zero or more, got -1"):
            build_demo_sqlite(tmp_path / "demo.sqlite", fact_rows=-1)


class TestSchema:
    def test_tables_are_declared_as_an_application_would(self, db: sqlite3.Connection) -> None:
        declared = {
            table: [(r[1], r[2], bool(r[3])) for r in db.execute(f"PRAGMA table_info({table})")]
            for table in ("accounts", "events")
        }
        assert declared["accounts"] == [
            ("id", "INTEGER", False),
            ("user_id", "INTEGER", True),
            ("currency", "CHAR(3)", True),
            ("balance", "NUMERIC(12,2)", True),
            ("credit_limit", "NUMERIC(12,2)", False),
            ("is_frozen", "BOOLEAN", True),
            ("opened_at", "TIMESTAMP", True),
        ]
        assert declared["events"] == [
            ("id", "INTEGER", False),
            ("account_id", "INTEGER", True),
            ("user_id", "INTEGER", False),
            ("kind", "VARCHAR(32)", True),
            ("amount", "NUMERIC(12,2)", False),
            ("occurred_at", "TIMESTAMP", True),
            ("payload", "TEXT", False),
            ("flagged", "BOOLEAN", True),
            ("checksum", "BLOB", False),
        ]

    def test_nullable_column_list_above_is_complete(self, db: sqlite3.Connection) -> None:
        nullable = {
            f"{table}.{r[1]}"
            for table in TABLES
            for r in db.execute(f"PRAGMA table_info({table})")
            if not r[3] and not r[5]
        }
        assert nullable == set(NULLABLE)

    def test_indexes_are_plain_and_on_the_expected_columns(self, db: sqlite3.Connection) -> None:
        rows = db.execute(
            "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        columns = {
            (table, tuple(r[2] for r in db.execute(f"PRAGMA index_info({name})")))
            for table, name, _ in rows
        }
        assert columns == {
            ("users", ("group_id",)),
            ("accounts", ("user_id",)),
            ("events", ("account_id", "occurred_at")),
            ("events", ("kind",)),
        }
        assert not [text for _, _, text in rows if "WHERE" in text.upper()]

    def test_active_users_view_lists_exactly_the_active_users(self, db: sqlite3.Connection) -> None:
        view = db.execute("SELECT id, email, display_name FROM active_users ORDER BY id").fetchall()
        active = db.execute(
            "SELECT id, email, display_name FROM users WHERE is_active ORDER BY id"
        ).fetchall()
        assert view == active
        assert 0 < len(view) < _count(db, "users")

    def test_every_declared_foreign_key_holds(self, db: sqlite3.Connection) -> None:
        declared = sum(
            len(db.execute(f"PRAGMA foreign_key_list({table})").fetchall()) for table in TABLES
        )
        assert declared == 7
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


class TestValues:
    @pytest.mark.parametrize("column", NULLABLE)
    def test_nullable_columns_hold_some_nulls(self, db: sqlite3.Connection, column: str) -> None:
        values = _values(db, column)
        share = sum(v is None for v in values) / len(values)
        assert 0.08 <= share <= 0.35, f"{column}: {share:.1%} NULL"

    @pytest.mark.parametrize("column", EMPTY_STRINGS)
    def test_empty_strings_are_distinct_from_null(
        self, db: sqlite3.Connection, column: str
    ) -> None:
        values = _values(db, column)
        assert "" in values
        assert None in values

    @pytest.mark.parametrize("fragment", NON_ASCII)
    def test_names_include_non_ascii_text(self, db: sqlite3.Connection, fragment: str) -> None:
        names = _values(db, "people.first_name") + _values(db, "people.last_name")
        names += _values(db, "groups.name")
        assert any(fragment in name for name in names)

    def test_password_hashes_are_32_byte_blobs(self, db: sqlite3.Connection) -> None:
        hashes = _values(db, "users.password_hash")
        assert {type(h) for h in hashes} == {bytes}
        assert {len(h) for h in hashes} == {32}
        assert len(set(hashes)) == len(hashes)

    def test_event_checksums_are_blobs_or_null(self, db: sqlite3.Connection) -> None:
        assert {type(c) for c in _values(db, "events.checksum")} == {bytes, type(None)}

    @pytest.mark.parametrize("column", TIMESTAMPS)
    def test_timestamps_are_iso_text_some_with_fractional_seconds(
        self, db: sqlite3.Connection, column: str
    ) -> None:
        stamps = [v for v in _values(db, column) if v is not None]
        pattern = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?")
        assert [s for s in stamps if not pattern.fullmatch(s)] == []
        assert any("." in s for s in stamps)
        assert any("." not in s for s in stamps)

    def test_birth_dates_are_iso_dates(self, db: sqlite3.Connection) -> None:
        dates = [v for v in _values(db, "people.birth_date") if v is not None]
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", d) for d in dates)

    @pytest.mark.parametrize("column", BOOLEANS)
    def test_booleans_are_stored_as_0_or_1(self, db: sqlite3.Connection, column: str) -> None:
        assert set(_values(db, column)) == {0, 1}

    def test_money_is_real_or_integer_and_some_balances_overflow_numeric_10_2(
        self, db: sqlite3.Connection
    ) -> None:
        kinds = {r[0] for r in db.execute("SELECT DISTINCT typeof(balance) FROM accounts")}
        assert kinds == {"real", "integer"}
        balances = _values(db, "accounts.balance")
        assert sum(b >= 100_000_000 for b in balances) >= 5  # lost by the narrowing drift
        assert 99_999_999.99 in balances  # exactly at the numeric(10,2) limit
        assert max(abs(b) for b in balances) < 10**10  # but all fit numeric(12,2)
        assert all(abs(round(b * 100) - b * 100) < 1e-6 for b in balances)

    def test_event_payloads_are_small_json_objects(self, db: sqlite3.Connection) -> None:
        payloads = [p for p in _values(db, "events.payload") if p is not None]
        assert all(isinstance(json.loads(p), dict) for p in payloads)
        assert max(len(p) for p in payloads) < 200


class TestDeterminism:
    def test_the_same_seed_gives_identical_contents(
        self, small: tuple[Path, dict[str, int]], tmp_path: Path
    ) -> None:
        again = tmp_path / "again.sqlite"
        build_demo_sqlite(again, fact_rows=SMALL, seed=7)
        assert _dump(again) == _dump(small[0])

    def test_another_seed_gives_different_contents(
        self, small: tuple[Path, dict[str, int]], tmp_path: Path
    ) -> None:
        other = tmp_path / "other.sqlite"
        build_demo_sqlite(other, fact_rows=SMALL, seed=8)
        assert _dump(other) != _dump(small[0])


@pytest.fixture
def pg_uri(pg_database: str) -> str:
    """A fresh, empty database in the worker's harness cluster (conftest's ``pg_database``):
    its folder is outside pytest's temp dir, which another pytest session on the machine resets
    to 0700 under root, out from under a server running as an unprivileged user."""
    return pg_database


def _load_postgres(uri: str, source: Path) -> None:
    """Create the mapped schema and copy every demo table into it, as the migration would."""
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with psycopg.connect(uri) as conn, conn.cursor() as cur:
            cur.execute(PG_SCHEMA)
            for table in TABLES:
                columns = [r[1] for r in lite.execute(f"PRAGMA table_info({table})")]
                copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with cur.copy(copy_sql) as copy:
                    for row in lite.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                        copy.write_row(row)
    finally:
        lite.close()


def _pg_scalar(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def _people_columns(conn: psycopg.Connection[Any]) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'people' ORDER BY ordinal_position"
        )
    ]


def _balance_type(conn: psycopg.Connection[Any]) -> str:
    return str(
        _pg_scalar(
            conn,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = 'accounts'::regclass AND attname = 'balance'",
        )
    )


class TestDrift:
    def test_there_are_exactly_four_with_unique_names(self) -> None:
        assert [d.name for d in DRIFT] == [
            "dropped_column",
            "narrowed_numeric",
            "missing_rows",
            "dropped_check",
        ]
        assert [d.expect for d in DRIFT] == [
            "people.nickname",
            "accounts.balance",
            "events",
            "accounts.credit_limit",
        ]

    @pytest.mark.parametrize("drift", DRIFT, ids=lambda d: d.name)
    def test_every_drift_is_documented(self, drift: Drift) -> None:
        assert drift.description.strip()
        assert drift.statements
        assert all(s.strip() and ";" not in s for s in drift.statements)
        assert drift.expect.split(".")[0] in " ".join(drift.statements)

    def test_applies_cleanly_to_a_migrated_postgres_copy(
        self, pg_uri: str, small: tuple[Path, dict[str, int]]
    ) -> None:
        _load_postgres(pg_uri, small[0])
        with psycopg.connect(pg_uri) as check:
            overflowing = _pg_scalar(check, "SELECT count(*) FROM accounts WHERE balance >= 1e8")
            assert overflowing >= 5
            at_or_over = _pg_scalar(
                check, "SELECT count(*) FROM accounts WHERE balance >= 99999999.99"
            )
            assert "nickname" in _people_columns(check)

        # Checked from a second connection while the first is still open: apply_drift commits.
        with psycopg.connect(pg_uri) as conn, psycopg.connect(pg_uri) as check:
            assert apply_drift(conn) == list(DRIFT)
            assert "nickname" not in _people_columns(check)
            assert _balance_type(check) == "numeric(10,2)"
            cap = Decimal("99999999.99")
            assert _pg_scalar(check, "SELECT max(balance) FROM accounts") == cap
            capped = _pg_scalar(check, "SELECT count(*) FROM accounts WHERE balance = 99999999.99")
            assert capped == at_or_over
            assert _pg_scalar(check, "SELECT count(*) FROM events") == SMALL - SMALL // 1000
            assert _pg_scalar(check, "SELECT count(*) FROM events WHERE mod(id, 1000) = 0") == 0

    def test_is_all_or_nothing(self, pg_uri: str) -> None:
        # No events table: the last drift fails, and the two before it must not stick.
        with psycopg.connect(pg_uri) as conn:
            conn.execute("CREATE TABLE people (id bigint PRIMARY KEY, nickname varchar(40))")
            conn.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric(12,2))")
            conn.execute("INSERT INTO accounts VALUES (1, 123456789.50)")
        with psycopg.connect(pg_uri) as conn, pytest.raises(psycopg.errors.UndefinedTable):
            apply_drift(conn)

        with psycopg.connect(pg_uri) as check:
            assert _people_columns(check) == ["id", "nickname"]
            assert _balance_type(check) == "numeric(12,2)"
            assert _pg_scalar(check, "SELECT balance FROM accounts") == Decimal("123456789.50")
