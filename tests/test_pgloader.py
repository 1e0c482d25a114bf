"""Acceptance on pgloader: a SQLite database migrated by pgloader's default casts (issue 16).

pgloader (Debian's package; ``.ci/run`` installs it where it can) copies a SQLite file into
PostgreSQL by its default casting rules (``src/sources/sqlite/sqlite-cast-rules.lisp``, the
manual's "Default SQLite Casting Rules"); the test gives no CAST clause. Most rules keep every
value: INTEGER → bigint, TEXT and VARCHAR(n) → text, DOUBLE and FLOAT → double precision,
NUMERIC → numeric, BLOB → bytea, DATETIME → timestamptz, TIMESTAMP → timestamp (the manual's
table says timestamptz; the source and 3.6.7 say timestamp), and types without a rule
(BOOLEAN, DATE) keep their name. Two change values: REAL → ``real`` (SQLite's REAL is a
double, PostgreSQL's a float4, which rounds 1/3, 16777217.0 and 19.99 alike), and
NUMERIC(p,s) or DECIMAL(p,s) → ``numeric(p,s)``, which rounds 19.999, 0.125 or 2.675 (held
by SQLite as doubles) to two places.

Which values changed is found here without cutover: every value is read back with both
drivers and compared as numbers, texts, bytes and instants (:func:`differences`). Then the
test plants five changes of its own in columns pgloader copies faithfully and expects
``cutover verify`` to name exactly those five plus one changed value for each value pgloader's
casts changed, by key and column, and nothing else. Before planting, a run restricted to the
tables whose every value survived is GO with zero differences.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from harness.embedded.provision import PostgresCluster
from tests.conftest import run_cutover, run_once

PGLOADER_TIMEOUT_S = 120

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email VARCHAR(80),
    note TEXT,
    active BOOLEAN,
    signed_up DATETIME,
    birthday DATE,
    avatar BLOB,
    score DOUBLE,
    visits INTEGER
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    placed TIMESTAMP NOT NULL,
    total_cents INTEGER NOT NULL,
    discount FLOAT,
    memo TEXT
);
CREATE TABLE prices (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    price REAL,
    amount NUMERIC(10,2),
    fee DECIMAL(10,2),
    rate NUMERIC
);
"""

# fmt: off
CUSTOMERS = [
    (1, "Ada", "ada@example.com", "plain", 1, "2024-01-15 10:30:00", "1990-12-10",
     b"\x89PNG", 0.1, 0),
    (2, "Bob", "bob@example.com", "tab\there, newline\nthere", 0, "2024-02-29 23:59:59.999999",
     "2000-02-29", b"\x00\\\xff", 1 / 3, -1),
    (3, "Chloé", "chloe@example.com", "back\\slash 'quote' \"double\"", 1,
     "2023-12-31T00:00:00", "1970-01-01", b"", 1e-300, 2**53 + 1),
    # 2**61: pgloader 3.6.7 drops the rest of a table's rows at an integer of 2**62 or more
    (4, "Dmitri", None, "", None, "2024-06-01 08:00:00.5", None, None, -2.5, 2**61),
    (5, "Émile 🚀", "emile@example.com", None, 0, None, "1999-12-31", b"\x00",
     123456789.123456789, 7),
    (6, "Fay", "fay@example.com", "trailing blanks  ", 1, "2024-03-31 02:30:00", "1985-07-04",
     bytes(range(16)), 1e300, 42),
]

ORDERS = [
    (n, 1 + n % 6,
     f"2024-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:{7 * n % 60:02d}:{13 * n % 60:02d}"
     + (f".{n * 12345 % 1000000:06d}" if n % 3 else ""),
     1999 * n, None if n % 4 == 0 else n / 7, None if n % 5 == 0 else f"order {n}")
    for n in range(1, 13)
]

# Prices like 19.99, values float4 cannot hold (1/3, 16777217.0), values it holds exactly
# (19.5, 16777216.0, 0.25), two-place numerics given more places (19.999, 0.125, 2.675,
# 0.005), and an unscaled NUMERIC with doubles of up to 17 significant digits (1/3).
PRICES = [
    (1, "A-1", 19.99, 19.99, 19.99, 0.1),
    (2, "A-2", 19.5, 19.999, 0.125, 2.675),
    (3, "A-3", 1 / 3, 2.675, 2.5, 1 / 3),
    (4, "A-4", 16777217.0, 10, 1234.5, 1e-7),
    (5, "A-5", 16777216.0, 0.5, 100, 12345678.9),
    (6, "A-6", 0.25, 1234.56, 0.005, 7),
    (7, "A-7", None, None, None, None),
]
# fmt: on

TABLES: dict[str, list[tuple[Any, ...]]] = {
    "customers": CUSTOMERS,
    "orders": ORDERS,
    "prices": PRICES,
}

# The five changes planted on the target after the load, each in a column pgloader copies
# faithfully; PLANTED is what they do, by table, kind and key (and column).
PLANT = """
UPDATE customers SET email = 'chloe@example.org' WHERE id = 3;
UPDATE customers SET signed_up = signed_up + interval '1 second' WHERE id = 2;
UPDATE orders SET total_cents = total_cents + 1 WHERE id = 4;
DELETE FROM orders WHERE id = 7;
INSERT INTO orders (id, customer_id, placed, total_cents, discount, memo)
    VALUES (99, 1, '2024-12-24 18:00:00', 4200, NULL, 'not in the source');
"""
PLANTED: dict[str, dict[str, Any]] = {
    "customers": {"missing": [], "extra": [], "changed": {"2": ["signed_up"], "3": ["email"]}},
    "orders": {"missing": ["7"], "extra": ["99"], "changed": {"4": ["total_cents"]}},
}


# -- building the source and migrating it ----------------------------------------------------


def build_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as lite:
        lite.executescript(SCHEMA)
        for table, rows in TABLES.items():
            marks = ", ".join("?" * len(rows[0]))
            lite.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
    lite.close()


def pgloader(
    binary: str, source: Path, cluster: PostgresCluster, database: str, work: Path
) -> None:
    """Run pgloader with its defaults into ``database`` over the cluster's unix socket.

    The fixture cluster trusts local connections, which pgloader reaches as
    ``postgresql://user@unix:SOCKET_DIR:PORT/db``; its logs go under ``work``, not /tmp/pgloader.
    """
    uri = f"postgresql://postgres@unix:{cluster.socket_dir}:{cluster.port}/{database}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    logs = work / "pgloader"
    done = subprocess.run(
        [binary, "--root-dir", str(logs), "--on-error-stop", f"sqlite://{source}", uri],
        env=env,
        capture_output=True,
        text=True,
        timeout=PGLOADER_TIMEOUT_S,
        check=False,
    )
    # pgloader exits 0 even when a batch fails (an integer of 2**62 or more is no SBCL fixnum,
    # and integer-to-string then drops the rest of that table's rows): its log must be clean.
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"pgloader failed:\n{output}"
    assert " ERROR " not in output, f"pgloader reported errors:\n{output}"


# -- what pgloader did, found by reading both sides ------------------------------------------


def target_types(dsn: str) -> dict[str, str]:
    """``table.column`` → the PostgreSQL type pgloader created, as format_type prints it."""
    with psycopg.connect(dsn) as pg:
        rows = pg.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0"
            " AND NOT a.attisdropped"
        ).fetchall()
    return {f"{table}.{column}": kind for table, column, kind in rows}


def same(source: Any, target: Any, kind: str) -> bool:
    """Whether a SQLite value and the PostgreSQL value pgloader made of it are one value.

    Floats compare exactly (a float4 widened to float8 is exact, see :func:`differences`), as
    PostgreSQL compares ``float8`` with ``real``; a double in a numeric column stands for the
    shortest decimal that reads back as it (what SQLite prints and pgloader sends) and
    compares with the numeric as decimals; SQLite's text timestamps without an offset are UTC
    (the cluster's TimeZone, under which pgloader's text became a timestamptz).
    """
    if source is None or target is None:
        return source is None and target is None
    if kind in ("real", "double precision"):
        return isinstance(source, int | float) and float(source) == float(target)
    if kind.startswith("numeric"):
        written = Decimal(repr(source)) if isinstance(source, float) else Decimal(source)
        return written == Decimal(target)
    if kind == "bigint":
        return isinstance(source, int) and source == int(target)
    if kind == "text":
        return isinstance(source, str) and source == str(target)
    if kind == "bytea":
        return isinstance(source, bytes) and source == bytes(target)
    if kind == "boolean":
        return source in (0, 1) and bool(source) is target
    if kind == "date":
        return isinstance(source, str) and date.fromisoformat(source) == target
    if kind == "timestamp without time zone":
        return isinstance(source, str) and datetime.fromisoformat(source) == target
    if kind == "timestamp with time zone":
        stamp = datetime.fromisoformat(source)
        return bool(stamp.replace(tzinfo=stamp.tzinfo or UTC) == target)
    raise AssertionError(f"no comparison for PostgreSQL type {kind}: extend same()")


def differences(sqlite_path: Path, dsn: str, types: dict[str, str]) -> dict[str, Any]:
    """Every row and value the target differs in, by table: ``missing`` and ``extra`` keys,
    ``changed`` key → sorted columns (keys as text, as cutover's results show them)."""
    found: dict[str, Any] = {}
    lite = sqlite3.connect(f"{sqlite_path.as_uri()}?mode=ro", uri=True)
    try:
        with psycopg.connect(dsn) as pg:
            for table in TABLES:
                columns = [row[1] for row in lite.execute(f"PRAGMA table_info({table})")]
                # A real read as float8 is its exact value, not the shortest text of a float4.
                read = [f"{c}::float8" if types[f"{table}.{c}"] == "real" else c for c in columns]
                source = {
                    row[0]: row
                    for row in lite.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608
                }
                target = {
                    row[0]: row
                    for row in pg.execute(f"SELECT {', '.join(read)} FROM {table}")  # noqa: S608
                }
                changed = {}
                for key in sorted(source.keys() & target.keys()):
                    differ = [
                        column
                        for column, a, b in zip(columns, source[key], target[key], strict=True)
                        if not same(a, b, types[f"{table}.{column}"])
                    ]
                    if differ:
                        changed[str(key)] = sorted(differ)
                entry = {
                    "missing": [str(k) for k in sorted(source.keys() - target.keys())],
                    "extra": [str(k) for k in sorted(target.keys() - source.keys())],
                    "changed": changed,
                }
                if entry != {"missing": [], "extra": [], "changed": {}}:
                    found[table] = entry
    finally:
        lite.close()
    return found


def merge(*parts: dict[str, Any]) -> dict[str, Any]:
    """The union of :func:`differences`-shaped dicts."""
    merged: dict[str, Any] = {}
    for part in parts:
        for table, entry in part.items():
            into = merged.setdefault(table, {"missing": [], "extra": [], "changed": {}})
            into["missing"] = sorted({*into["missing"], *entry["missing"]}, key=int)
            into["extra"] = sorted({*into["extra"], *entry["extra"]}, key=int)
            for key, columns in entry["changed"].items():
                into["changed"][key] = sorted({*into["changed"].get(key, []), *columns})
    return merged


# -- the run, once per session ---------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """What pgloader made of the source, what differed, and the two `cutover verify` runs."""

    types: dict[str, str]
    lossy: dict[str, Any]  # differences right after pgloader
    after: dict[str, Any]  # differences once the five changes are planted
    faithful_tables: list[str]
    go: dict[str, Any]  # {code, output, report_dir} of the restricted run before planting
    nogo: dict[str, Any]  # the same for the full run after planting


def verify(
    work: Path, name: str, source: Path, dsn: str, tables: list[str] | None
) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "name": f"pgloader SQLite → PostgreSQL ({name})",
        "source": {"kind": "sqlite", "path": str(source)},
        "target": {"kind": "postgres", "dsn": dsn},
        "rows": {"sample_cap": 100},
    }
    if tables is not None:
        plan["tables"] = {"include": tables}
    (work / f"{name}.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    done = run_cutover("verify", "--plan", f"{name}.yaml", "--report-dir", name, cwd=work)
    return {
        "code": done.returncode,
        "output": done.stdout + done.stderr,
        "report_dir": str(work / name),
    }


def migrate(binary: str, cluster: PostgresCluster, work: Path) -> Migration:
    source = work / "app.sqlite"
    build_sqlite(source)
    database = f"pgl_{uuid.uuid4().hex[:12]}"
    dsn = cluster.create_database(database)
    try:
        pgloader(binary, source, cluster, database, work)
        types = target_types(dsn)
        lossy = differences(source, dsn, types)
        faithful = [table for table in TABLES if table not in lossy]
        go = verify(work, "faithful", source, dsn, faithful)
        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute(PLANT)
        after = differences(source, dsn, types)
        nogo = verify(work, "planted", source, dsn, None)
    finally:
        cluster.drop_database(database)
    return Migration(types, lossy, after, faithful, go, nogo)


@pytest.fixture(scope="module")
def pgloader_binary() -> str:
    binary = shutil.which("pgloader")
    if binary is None:
        pytest.skip("pgloader is not on PATH (Debian: apt-get install pgloader; .ci/run does)")
    return binary


@pytest.fixture(scope="module")
def migration(request: pytest.FixtureRequest, pgloader_binary: str) -> Migration:
    def produce(work: Path) -> Migration:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        return migrate(pgloader_binary, cluster, work)

    return run_once(request, "pgloader", produce, Migration)


def results(run: dict[str, Any]) -> dict[str, Any]:
    text = (Path(run["report_dir"]) / "results.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def checks(run: dict[str, Any], area: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in results(run)["checks"] if c["area"] == area}


def reported(check: dict[str, Any]) -> dict[str, Any]:
    """A rows check's samples in :func:`differences`' shape."""
    samples = check["evidence"]["samples"]
    keys = [sample["key"] for sample in samples]
    assert all(list(key) == ["id"] for key in keys), keys
    return {
        "missing": sorted((s["key"]["id"] for s in samples if s["kind"] == "missing"), key=int),
        "extra": sorted((s["key"]["id"] for s in samples if s["kind"] == "extra"), key=int),
        "changed": {
            s["key"]["id"]: sorted(s["columns"]) for s in samples if s["kind"] == "changed"
        },
    }


# -- what pgloader's default casts do --------------------------------------------------------


def test_pgloader_casts_sqlite_types_by_its_default_rules(migration: Migration) -> None:
    assert migration.types == {
        "customers.id": "bigint",
        "customers.name": "text",
        "customers.email": "text",
        "customers.note": "text",
        "customers.active": "boolean",
        "customers.signed_up": "timestamp with time zone",
        "customers.birthday": "date",
        "customers.avatar": "bytea",
        "customers.score": "double precision",
        "customers.visits": "bigint",
        "orders.id": "bigint",
        "orders.customer_id": "bigint",
        "orders.placed": "timestamp without time zone",
        "orders.total_cents": "bigint",
        "orders.discount": "double precision",
        "orders.memo": "text",
        "prices.id": "bigint",
        "prices.sku": "text",
        "prices.price": "real",
        "prices.amount": "numeric(10,2)",
        "prices.fee": "numeric(10,2)",
        "prices.rate": "numeric",
    }


def test_only_real_and_scaled_numeric_casts_change_values(migration: Migration) -> None:
    """Read back with both drivers: float4 rounds every price it cannot hold exactly (19.99
    too: ``19.99::float8 = 19.99::real`` is false), numeric(10,2) rounds half away from zero;
    every other column, the unscaled NUMERIC included, holds exactly what SQLite held."""
    assert migration.lossy == {
        "prices": {
            "missing": [],
            "extra": [],
            "changed": {
                "1": ["price"],  # 19.99 → 19.9899997711…
                "2": ["amount", "fee"],  # 19.999 → 20.00, 0.125 → 0.13
                "3": ["amount", "price"],  # 2.675 → 2.68, 1/3 → 0.3333333432…
                "4": ["price"],  # 16777217.0 → 16777216.0
                "6": ["fee"],  # 0.005 → 0.01
            },
        }
    }
    assert migration.faithful_tables == ["customers", "orders"]


def test_the_planted_changes_are_the_only_new_differences(migration: Migration) -> None:
    assert migration.after == merge(migration.lossy, PLANTED)
    planted = sum(
        len(e["missing"]) + len(e["extra"]) + sum(map(len, e["changed"].values()))
        for e in PLANTED.values()
    )
    assert planted == 5


# -- cutover on the faithful tables, before planting: GO -------------------------------------


def test_the_faithful_tables_verify_go_with_zero_differences(migration: Migration) -> None:
    run = migration.go
    assert run["code"] == 0, run["output"]
    data = results(run)
    assert data["verdict"] == "GO", run["output"]
    assert data["summary"]["fail"] == data["summary"]["error"] == 0
    rows = checks(run, "rows")
    assert set(rows) == set(migration.faithful_tables)
    for name, check in rows.items():
        evidence = check["evidence"]
        assert (check["status"], evidence["state"]) == ("pass", "validated"), name
        assert (evidence["missing"], evidence["extra"], evidence["changed"]) == (0, 0, 0), name
        assert evidence["samples"] == [], name
        assert evidence["source_rows"] == len(TABLES[name]), name


# -- cutover on everything, after planting: NO-GO naming exactly what differs ----------------


def test_the_planted_target_verifies_no_go(migration: Migration) -> None:
    run = migration.nogo
    assert run["code"] == 1, run["output"]
    assert results(run)["verdict"] == "NO-GO"


def test_rows_name_the_planted_changes_and_every_value_the_casts_changed(
    migration: Migration,
) -> None:
    rows = checks(migration.nogo, "rows")
    assert set(rows) == set(TABLES)
    named = {name: reported(check) for name, check in rows.items() if check["evidence"]["samples"]}
    assert named == migration.after == merge(migration.lossy, PLANTED)


def test_rows_counts_match_the_named_rows(migration: Migration) -> None:
    rows = checks(migration.nogo, "rows")
    for name in TABLES:
        evidence = rows[name]["evidence"]
        expected = migration.after.get(name, {"missing": [], "extra": [], "changed": {}})
        counted: dict[str, int] = {}
        for columns in expected["changed"].values():
            for column in columns:
                counted[column] = counted.get(column, 0) + 1
        assert (evidence["missing"], evidence["extra"], evidence["changed"]) == (
            len(expected["missing"]),
            len(expected["extra"]),
            len(expected["changed"]),
        ), name
        assert evidence.get("changed_columns", {}) == counted, name
        assert rows[name]["status"] == ("fail" if name in migration.after else "pass"), name


def test_no_faithfully_copied_column_has_a_difference(migration: Migration) -> None:
    planted = {
        f"{table}.{column}"
        for table, entry in PLANTED.items()
        for columns in entry["changed"].values()
        for column in columns
    }
    lossy = {
        f"{table}.{column}"
        for table, entry in migration.lossy.items()
        for columns in entry["changed"].values()
        for column in columns
    }
    shown = {
        f"{name}.{column}"
        for name, check in checks(migration.nogo, "rows").items()
        for column in check["evidence"].get("changed_columns", {})
    }
    assert shown == planted | lossy
    faithful = set(migration.types) - planted - lossy
    assert not shown & faithful
