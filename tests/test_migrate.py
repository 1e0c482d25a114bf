"""copy_sqlite: a SQLite application database recreated in PostgreSQL, checked by the harness."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg

from harness.checks.schema import check_table
from harness.embedded.migrate import copy_sqlite
from harness.endpoints.resolve import Connector, open_database
from harness.plan.model import Plan
from harness.plan.scope import build_scope
from harness.results.check import CheckResult

SOURCE = """
CREATE TABLE Track (
    TrackId INTEGER PRIMARY KEY,
    Name NVARCHAR(200) NOT NULL,
    Composer TEXT,
    Milliseconds INTEGER NOT NULL CHECK (Milliseconds >= 0),
    CHECK (length(Name) > 0)
);
CREATE INDEX IFK_TrackLowerName ON Track (lower(Name));
CREATE UNIQUE INDEX IFK_TrackComposerLive ON Track (Composer) WHERE Milliseconds > 1000;
INSERT INTO Track VALUES (1, 'Intro', 'AC/DC', 343719), (2, 'Outro', NULL, 999);
"""


def test_expression_and_partial_indexes_and_checks_are_recreated_and_then_match(
    tmp_path: Path, pg_database: str
) -> None:
    app = tmp_path / "app.db"
    with sqlite3.connect(app) as conn:
        conn.executescript(SOURCE)
    conn.close()

    assert copy_sqlite(app, pg_database, naming="snake_case") == {"track": 2}

    with psycopg.connect(pg_database) as pg:
        definitions = sorted(
            row[0]
            for row in pg.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'track'")
        )
    assert any("lower((name)::text)" in d for d in definitions)
    assert any("UNIQUE" in d and "WHERE (milliseconds > 1000)" in d for d in definitions)
    with psycopg.connect(pg_database) as pg:
        checks = sorted(
            row[0]
            for row in pg.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = 'track'::regclass AND contype = 'c'"
            )
        )
    assert checks == ["CHECK ((length((name)::text) > 0))", "CHECK ((milliseconds >= 0))"]

    result = schema_check(app, pg_database, "Track", "track", renames={"policy": "snake_case"})
    assert [f.message for f in result.findings] == []
    assert result.evidence["indexes"]["source"] == result.evidence["indexes"]["target"]


def test_a_check_in_sqlites_own_words_stays_behind_and_is_reported_missing(
    tmp_path: Path, pg_database: str
) -> None:
    app = tmp_path / "app.db"
    with closing(sqlite3.connect(app)) as conn:
        conn.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT CHECK (typeof(v) = 'text'),"
            " n INTEGER CHECK (n > 0))"
        )
    assert copy_sqlite(app, pg_database) == {"t": 0}  # the copy goes on without it
    result = schema_check(app, pg_database, "t", "t")
    assert [f.message for f in result.findings] == [
        "CHECK (TYPEOF(v) = 'text') on t is missing on the target: it accepts values the"
        " source refuses"
    ]


def schema_check(
    app: Path, pg_database: str, source_table: str, table_id: str, **plan: Any
) -> CheckResult:
    """The schema check of one table of the SQLite file against its PostgreSQL copy."""
    source = open_database(Connector("source", "sqlite", "sqlite", str(app), "source"))
    target = open_database(
        Connector("target", "postgres", "postgres", pg_database, "target", "public")
    )
    try:
        model = Plan.model_validate(
            {
                "name": "copy",
                "source": {"kind": "sqlite", "path": str(app)},
                "target": {"kind": "postgres", "dsn": pg_database},
                **plan,
            }
        )
        scope = build_scope(model, source.catalog(), target.catalog())
        pair = scope.pair(table_id)
        return check_table(
            pair,
            source.catalog().table(source_table),
            target.catalog().table(pair.target or table_id),
            renamer=scope.renamer,
            source_db=source,
            target_dialect="postgres",
        )
    finally:
        source.close()
        target.close()
