"""Session settings a database or role can change do not change what is compared.

The row hash and the fetched rows are PostgreSQL's text of values; a target whose database
says ``bytea_output = 'escape'`` or whose role says ``IntervalStyle = 'sql_standard'`` holds
the same values as the source and must compare equal to it, while a real difference still
shows. And a side with ``schema:`` runs the application's queries in that schema.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from harness.embedded.provision import PostgresCluster
from harness.endpoints import resolve
from harness.endpoints.resolve import Connector, open_database
from harness.rows.compare import RowDiff, RowOptions, compare_table
from tests.conftest import run_cutover, run_sql

# Every type whose text PostgreSQL prints differently under some session setting, plus a few
# that do not (numeric, text), each compared raw (same type on both sides).
TABLE = """
CREATE TABLE t (
    id bigint PRIMARY KEY,
    b bytea, ba bytea[], ts timestamp, tz timestamptz, d date, tm time, ttz timetz,
    iv interval, f8 float8, f4 real, fa float8[], m money, n numeric(12,2), note text
);
INSERT INTO t
SELECT i, decode(lpad(to_hex(i), 4, '0') || 'ff00', 'hex'),
       ARRAY[decode('00ff', 'hex'), NULL, '\\x5c'::bytea],
       timestamp '2024-03-01 10:20:30.123456' + i * interval '1 day 1 second',
       timestamptz '2024-03-01 23:30:00+00' + i * interval '7 hours',
       date '2024-12-31' + i, time '13:14:15.5', timetz '13:14:15+02',
       make_interval(months => i, days => 3, secs => i * 61.5) * (1 - 2 * (i % 2)),
       0.1 + i / 3.0, 1.1::real * i, ARRAY[0.1::float8, 1e300, -2.5e-300],
       (i * 1.25)::numeric::money, i * 1.5, 'row ' || i
FROM generate_series(1, 40) i;
INSERT INTO t (id) VALUES (41);
CREATE TABLE keyless (b bytea, iv interval, tz timestamptz);
INSERT INTO keyless
SELECT decode('00ff', 'hex'), interval '1 year 2 mons -3 days 04:05:06',
       timestamptz '2024-01-01 00:00:00+05'
FROM generate_series(1, 3);
INSERT INTO keyless VALUES ('\\x01', interval '-1 day', NULL);
"""

# What a target database and its role may say (ALTER DATABASE / ALTER ROLE … SET).
TARGET_DEFAULTS = {
    "bytea_output": "escape",
    "IntervalStyle": "sql_standard",
    "DateStyle": "SQL, DMY",
    "TimeZone": "Asia/Tokyo",
    "extra_float_digits": "0",
}


@pytest.fixture
def sides(pg_cluster: PostgresCluster) -> Iterator[tuple[Connector, Connector, str]]:
    """Identical data in a source and a target database; the target's database and reading
    role set every output-changing setting away from the defaults. Yields the two
    connectors and the target's DSN as its owner (to plant differences)."""
    tag = uuid.uuid4().hex[:10]
    source_dsn = pg_cluster.create_database(f"s_{tag}")
    target_dsn = pg_cluster.create_database(f"t_{tag}")
    role = f"reader_{tag}"
    run_sql(source_dsn, TABLE)
    run_sql(target_dsn, TABLE)
    with psycopg.connect(target_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
                sql.Identifier(role)
            )
        )
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET bytea_output = 'escape'").format(
                sql.Identifier(f"t_{tag}")
            )
        )
        for name, value in TARGET_DEFAULTS.items():
            conn.execute(
                sql.SQL("ALTER ROLE {} SET {} = {}").format(
                    sql.Identifier(role), sql.SQL(name), sql.Literal(value)
                )
            )
    source = Connector("source", "postgres", "postgres", source_dsn, "source", "public")
    target_as_role = pg_cluster.conninfo(f"t_{tag}", user=role)
    target = Connector("target", "postgres", "postgres", target_as_role, "target", "public")
    yield source, target, target_dsn
    pg_cluster.drop_database(f"s_{tag}")
    pg_cluster.drop_database(f"t_{tag}")
    with psycopg.connect(pg_cluster.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _compare(source: Connector, target: Connector, table: str) -> RowDiff:
    src, tgt = open_database(source), open_database(target)
    try:
        s, t = src.catalog().table(table), tgt.catalog().table(table)
        assert s is not None
        assert t is not None
        options = RowOptions(segment_rows=8, sample_cap=100)  # bisection, then fetches
        return compare_table(src, tgt, s, t, str, None, options)
    finally:
        src.close()
        tgt.close()


def _target_really_differs(target: Connector) -> None:
    """The role's and the database's settings do reach a plain session (else the tests
    below would prove nothing)."""
    with psycopg.connect(target.address, autocommit=True) as conn:
        shown = conn.execute("SELECT '\\x00ff'::bytea::text, current_setting('DateStyle')")
        assert shown.fetchone() == ("\\000\\377", "SQL, DMY")


def test_target_defaults_change_no_row(sides: tuple[Connector, Connector, str]) -> None:
    source, target, _ = sides
    _target_really_differs(target)
    diff = _compare(source, target, "t")
    assert (diff.missing, diff.extra, diff.changed) == (0, 0, 0), diff.samples[:3]
    assert diff.state == "validated"
    keyless = _compare(source, target, "keyless")
    assert keyless.differences == 0, keyless.samples[:3]


def test_a_real_difference_still_shows(sides: tuple[Connector, Connector, str]) -> None:
    source, target, owner_dsn = sides
    run_sql(
        owner_dsn,
        "UPDATE t SET note = 'changed' WHERE id = 7;"
        "UPDATE t SET b = '\\x0001'::bytea WHERE id = 20;"
        "UPDATE t SET iv = iv + interval '1 microsecond' WHERE id = 33;"
        "UPDATE keyless SET b = '\\x02' WHERE iv = interval '-1 day';",
    )
    diff = _compare(source, target, "t")
    assert (diff.missing, diff.extra, diff.changed) == (0, 0, 3)
    assert diff.changed_columns == {"note": 1, "b": 1, "iv": 1}
    by_key = {s.key["id"]: s.columns for s in diff.samples}
    assert by_key["20"]["b"] == ("\\x0014ff00", "\\x0001")  # shown as hex, whatever the side says
    keyless = _compare(source, target, "keyless")
    assert (keyless.missing, keyless.extra) == (1, 1)


def test_settings_hold_when_startup_options_do_not_arrive(
    sides: tuple[Connector, Connector, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooler may drop the startup packet's ``options``: the role's defaults then reach the
    session, and the harness must still see (and pin) the settings it compares under."""
    source, target, _ = sides
    _without_startup_options(monkeypatch)
    diff = _compare(source, target, "t")
    assert diff.differences == 0, diff.samples[:3]
    db = open_database(target)
    try:
        assert db.conn.execute("SHOW IntervalStyle").fetchone() == ("postgres",)
    finally:
        db.close()


# -- the search path follows the side's schema -----------------------------------------------


def _show(connector: Connector, setting: str) -> Any:
    db = open_database(connector)
    try:
        return db.conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(setting))).fetchone()[0]
    finally:
        db.close()


def _without_startup_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connect as through a pooler that drops the startup packet's ``options``."""
    connect = psycopg.connect

    def without_options(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("options", None)
        return connect(*args, **kwargs)

    monkeypatch.setattr(resolve.psycopg, "connect", without_options)


@pytest.mark.parametrize("options", ["sent", "dropped"])
@pytest.mark.parametrize(("schema", "shown"), [("app", "app"), ('Sales Q1 "x"', None)])
def test_a_sides_schema_is_its_search_path(
    pg_database: str,
    monkeypatch: pytest.MonkeyPatch,
    options: str,
    schema: str,
    shown: str | None,
) -> None:
    ident = sql.Identifier(schema).as_string()
    run_sql(
        pg_database, f'CREATE SCHEMA {ident}; CREATE TABLE {ident}."Order" (id int PRIMARY KEY)'
    )
    if options == "dropped":
        _without_startup_options(monkeypatch)
    connector = Connector("target", "postgres", "postgres", pg_database, "t", schema)
    assert _show(connector, "search_path") == (shown or ident)
    db = open_database(connector)
    try:
        assert db.conn.execute('SELECT count(*) FROM "Order"').fetchone() == (0,)
    finally:
        db.close()


def test_the_dsns_own_options_are_kept(pg_database: str) -> None:
    run_sql(pg_database, "CREATE SCHEMA app")
    dsn = f"{pg_database} options='-c search_path=app -c default_transaction_read_only=off'"
    connector = Connector("target", "postgres", "postgres", dsn, "t")
    assert _show(connector, "search_path") == "app"  # no schema: the DSN's search path
    assert _show(connector, "default_transaction_read_only") == "on"  # never writable


ORDERS = """
CREATE SCHEMA app;
CREATE TABLE app."Order" (id bigint PRIMARY KEY, customer text NOT NULL, total numeric(10,2));
INSERT INTO app."Order" VALUES (1, 'ana', 9.50), (2, 'bo', 12.25), (3, 'ana', NULL);
"""


@pytest.mark.slow
def test_queries_run_in_the_plans_schema(tmp_path: Path, pg_cluster: PostgresCluster) -> None:
    tag = uuid.uuid4().hex[:10]
    dsns = [pg_cluster.create_database(f"{side}_{tag}") for side in ("s", "t")]
    try:
        for dsn in dsns:
            run_sql(dsn, ORDERS)  # public stays empty
        plan = {
            "name": "schema",
            "source": {"kind": "postgres", "dsn": dsns[0], "schema": "app"},
            "target": {"kind": "postgres", "dsn": dsns[1], "schema": "app"},
            "queries": {
                "corpus": {
                    "per_customer": {
                        "sql": 'SELECT customer, count(*) AS n, sum(total) AS total FROM "Order"'
                        " WHERE customer = :c GROUP BY customer",
                        "generate": {"c": {"kind": "column", "column": "Order.customer"}},
                    },
                    "all": {"sql": 'SELECT id, total FROM "Order" ORDER BY id'},
                }
            },
            "latency": {"runs": 3, "warmup": 1, "default": {"p95_ms": 60000}},
        }
        (tmp_path / "plan.yaml").write_text(json.dumps(plan), encoding="utf-8")
        run = run_cutover(
            "verify", "--plan", "plan.yaml", "--report-dir", str(tmp_path / "out"), cwd=tmp_path
        )
        results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
        by_id = {c["id"]: c for c in results["checks"]}
        for name in ("per_customer", "all"):
            assert by_id[f"queries[{name}]"]["status"] == "pass", by_id[f"queries[{name}]"]
        assert run.returncode == 0, run.stdout + run.stderr
    finally:
        for side in ("s", "t"):
            pg_cluster.drop_database(f"{side}_{tag}")
