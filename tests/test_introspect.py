"""Specification of harness.db.introspect: a live SQLite file and a live PostgreSQL schema read into
the same dialect-neutral Catalog, holding exactly what was declared."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from harness.db.catalog import Catalog, Check, Column, ForeignKey, Index, Table
from harness.db.database import PostgresDatabase, SqliteDatabase
from harness.db.introspect import postgres as pg_introspect
from harness.db.introspect import sqlite as sqlite_introspect
from harness.embedded.provision import PostgresCluster
from harness.endpoints.resolve import Connector, open_database
from harness.errors import EndpointError
from tests.conftest import run_sql

# One script, valid in both dialects, so both catalogs describe the same logical schema.
SCHEMA = """
CREATE TABLE artist (
    artist_id INTEGER PRIMARY KEY,
    name VARCHAR(120) NOT NULL,
    country CHAR(2) DEFAULT 'NZ',
    UNIQUE (name, country)
);
CREATE TABLE album (
    artist_id INTEGER NOT NULL REFERENCES artist (artist_id),
    album_no INTEGER,
    title VARCHAR(160) NOT NULL,
    price NUMERIC(10,2) NOT NULL DEFAULT 0.99,
    added TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (artist_id, album_no)
);
CREATE TABLE track (
    track_id INTEGER PRIMARY KEY,
    artist_id INTEGER NOT NULL,
    album_no INTEGER NOT NULL,
    name VARCHAR(200) NOT NULL,
    milliseconds INTEGER NOT NULL DEFAULT 0,
    sku VARCHAR(20),
    FOREIGN KEY (artist_id, album_no) REFERENCES album
);
CREATE UNIQUE INDEX track_sku_key ON track (sku);
CREATE INDEX track_name_idx ON track (name);
CREATE INDEX track_long_idx ON track (milliseconds) WHERE milliseconds > 300000;
CREATE INDEX track_lower_name_idx ON track (lower(name));
CREATE VIEW long_track AS SELECT track_id, name FROM track WHERE milliseconds > 300000;
"""

# Same names, other shape, in another PostgreSQL schema: none of it may leak into 'public'.
ELSEWHERE = """
CREATE SCHEMA archive;
CREATE TABLE archive.track (track_id bigint, extra text UNIQUE);
CREATE TABLE archive.track_2019 (id integer PRIMARY KEY);
CREATE INDEX ON archive.track (extra, track_id);
CREATE VIEW archive.old_track AS SELECT track_id FROM archive.track;
"""


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("introspect") / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
    conn.close()
    return path


@pytest.fixture(scope="module")
def pg_dsn(pg_cluster: PostgresCluster) -> Iterator[str]:
    name = f"introspect_{uuid.uuid4().hex[:8]}"
    dsn = pg_cluster.create_database(name)
    run_sql(dsn, SCHEMA + ELSEWHERE)
    yield dsn
    pg_cluster.drop_database(name)


@pytest.fixture(scope="module")
def sqlite_catalog(sqlite_file: Path) -> Catalog:
    conn = sqlite3.connect(sqlite_file)
    try:
        return sqlite_introspect.read_catalog(conn)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def postgres_catalog(pg_dsn: str) -> Catalog:
    with psycopg.connect(pg_dsn) as conn:
        return pg_introspect.read_catalog(conn, "public")


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest) -> Catalog:
    """Each assertion about the logical schema holds for both dialects."""
    return request.getfixturevalue(f"{request.param}_catalog")


def table(catalog: Catalog, name: str) -> Table:
    found = catalog.table(name)
    assert found is not None, f"{name} not in {catalog.table_names}"
    return found


class TestBothDialects:
    def test_every_table_and_view_is_read_and_nothing_else(self, catalog: Catalog) -> None:
        assert catalog.table_names == ("album", "artist", "track")
        assert [(v.name, v.columns) for v in catalog.views] == [
            ("long_track", ("track_id", "name"))
        ]

    def test_columns_keep_their_declared_order(self, catalog: Catalog) -> None:
        track = table(catalog, "track")
        assert [c.name for c in track.columns] == [
            "track_id",
            "artist_id",
            "album_no",
            "name",
            "milliseconds",
            "sku",
        ]
        assert [c.position for c in track.columns] == [1, 2, 3, 4, 5, 6]

    def test_types_are_normalised(self, catalog: Catalog) -> None:
        album = table(catalog, "album")
        assert {c.name: c.type for c in album.columns} == {
            "artist_id": "bigint" if catalog.dialect == "sqlite" else "integer",
            "album_no": "bigint" if catalog.dialect == "sqlite" else "integer",
            "title": "varchar(160)",
            "price": "numeric(10,2)",
            "added": "timestamp",
        }

    def test_not_null_is_read_and_key_columns_are_never_nullable(self, catalog: Catalog) -> None:
        album = table(catalog, "album")
        nullable = {c.name: c.nullable for c in album.columns}
        # album_no is declared without NOT NULL but is part of the primary key.
        assert nullable == {
            "artist_id": False,
            "album_no": False,
            "title": False,
            "price": False,
            "added": True,
        }

    def test_a_composite_primary_key_keeps_its_column_order(self, catalog: Catalog) -> None:
        assert table(catalog, "album").primary_key == ("artist_id", "album_no")
        assert table(catalog, "track").primary_key == ("track_id",)

    def test_a_unique_constraint_is_a_unique_constraint_not_an_index(
        self, catalog: Catalog
    ) -> None:
        artist = table(catalog, "artist")
        assert artist.unique_constraints == (("name", "country"),)
        assert artist.indexes == ()

    def test_a_foreign_key_with_explicit_columns(self, catalog: Catalog) -> None:
        (fk,) = table(catalog, "album").foreign_keys
        assert (fk.columns, fk.ref_table, fk.ref_columns) == (
            ("artist_id",),
            "artist",
            ("artist_id",),
        )

    def test_a_foreign_key_without_columns_references_the_parents_primary_key(
        self, catalog: Catalog
    ) -> None:
        (fk,) = table(catalog, "track").foreign_keys
        assert (fk.columns, fk.ref_table, fk.ref_columns) == (
            ("artist_id", "album_no"),
            "album",
            ("artist_id", "album_no"),
        )

    def test_indexes_are_read_with_uniqueness_and_partiality(self, catalog: Catalog) -> None:
        indexes = {i.name: i for i in table(catalog, "track").indexes}
        assert set(indexes) == {
            "track_sku_key",
            "track_name_idx",
            "track_long_idx",
            "track_lower_name_idx",
        }
        assert indexes["track_sku_key"] == Index("track_sku_key", ("sku",), unique=True)
        assert indexes["track_name_idx"] == Index("track_name_idx", ("name",), unique=False)
        long_idx = indexes["track_long_idx"]
        assert (long_idx.columns, long_idx.unique, long_idx.expressions) == (
            ("milliseconds",),
            False,
            (),
        )
        assert long_idx.partial
        assert "milliseconds > 300000" in str(long_idx.predicate)
        assert not indexes["track_lower_name_idx"].unique
        assert not indexes["track_lower_name_idx"].partial
        assert indexes["track_lower_name_idx"].expressions == (0,)

    def test_an_expression_index_is_not_mistaken_for_a_column_index(self, catalog: Catalog) -> None:
        (key,) = next(
            i for i in table(catalog, "track").indexes if i.name == "track_lower_name_idx"
        ).columns
        assert key not in {c.name for c in table(catalog, "track").columns}

    def test_the_primary_key_index_is_not_listed_as_an_index(self, catalog: Catalog) -> None:
        assert table(catalog, "album").indexes == ()


class TestSqliteCatalog:
    def test_columns_hold_exactly_what_was_declared(self, sqlite_catalog: Catalog) -> None:
        assert table(sqlite_catalog, "artist").columns == (
            Column("artist_id", "INTEGER", "bigint", nullable=False, default=None, position=1),
            Column(
                "name", "VARCHAR(120)", "varchar(120)", nullable=False, default=None, position=2
            ),
            Column("country", "CHAR(2)", "char(2)", nullable=True, default="'NZ'", position=3),
        )

    def test_defaults_are_the_declared_text(self, sqlite_catalog: Catalog) -> None:
        defaults = {c.name: c.default for c in table(sqlite_catalog, "album").columns}
        assert defaults["price"] == "0.99"
        assert defaults["added"] == "CURRENT_TIMESTAMP"

    def test_foreign_keys_have_no_name(self, sqlite_catalog: Catalog) -> None:
        assert [fk.name for t in sqlite_catalog.tables for fk in t.foreign_keys] == [None, None]

    def test_an_expression_index_key_is_marked_as_an_expression(
        self, sqlite_catalog: Catalog
    ) -> None:
        index = next(
            i for i in table(sqlite_catalog, "track").indexes if i.name == "track_lower_name_idx"
        )
        # SQLite keeps only the index's SQL text; the key is read back from it.
        assert (index.columns, index.expressions) == (("LOWER(name)",), (0,))

    def test_the_view_keeps_its_definition(self, sqlite_catalog: Catalog) -> None:
        (view,) = sqlite_catalog.views
        assert view.definition.startswith("CREATE VIEW long_track AS SELECT track_id, name")

    def test_checks_are_read_from_the_table_text(self, tmp_path: Path) -> None:
        path = tmp_path / "checks.db"
        with closing(sqlite3.connect(path)) as conn:
            conn.execute(
                "CREATE TABLE m (id INTEGER PRIMARY KEY, Role TEXT CHECK (role IN ('a', 'b')),"
                " lo INT, hi INT, CHECK (HI > lo), CONSTRAINT pos CHECK (lo >= 0))"
            )
            checks = sqlite_introspect.read_catalog(conn).tables[0].checks
        # each with the columns it reads, spelled as declared, in declared order
        assert checks == (
            Check(("Role",), "role IN ('a', 'b')"),
            Check(("lo", "hi"), "HI > lo"),
            Check(("lo",), "lo >= 0", "pos"),
        )

    def test_the_catalog_is_of_the_main_database_without_a_schema(
        self, sqlite_catalog: Catalog
    ) -> None:
        assert (sqlite_catalog.dialect, sqlite_catalog.schema) == ("sqlite", None)


class TestPostgresCatalog:
    def test_columns_hold_exactly_what_was_declared(self, postgres_catalog: Catalog) -> None:
        assert table(postgres_catalog, "artist").columns == (
            Column("artist_id", "integer", "integer", nullable=False, default=None, position=1),
            Column("name", "character varying(120)", "varchar(120)", False, None, 2),
            Column("country", "character(2)", "char(2)", True, "'NZ'::bpchar", 3),
        )

    def test_defaults_are_what_postgresql_reports(self, postgres_catalog: Catalog) -> None:
        defaults = {c.name: c.default for c in table(postgres_catalog, "album").columns}
        assert defaults["price"] == "0.99"
        assert defaults["added"] == "CURRENT_TIMESTAMP"

    def test_foreign_keys_keep_their_constraint_names(self, postgres_catalog: Catalog) -> None:
        assert table(postgres_catalog, "track").foreign_keys == (
            ForeignKey(
                "track_artist_id_album_no_fkey",
                ("artist_id", "album_no"),
                "album",
                ("artist_id", "album_no"),
            ),
        )

    def test_an_expression_index_key_is_the_expression(self, postgres_catalog: Catalog) -> None:
        index = next(
            i for i in table(postgres_catalog, "track").indexes if i.name == "track_lower_name_idx"
        )
        assert index.columns == ("lower(name::text)",)

    def test_nothing_from_another_schema_is_read(self, postgres_catalog: Catalog) -> None:
        assert postgres_catalog.schema == "public"
        assert "track_2019" not in postgres_catalog.table_names
        assert [v.name for v in postgres_catalog.views] == ["long_track"]
        track = table(postgres_catalog, "track")
        assert "extra" not in {c.name for c in track.columns}
        assert track.unique_constraints == ()
        assert ("extra", "track_id") not in {i.columns for i in track.indexes}

    def test_another_schema_is_read_when_asked_for(self, pg_dsn: str) -> None:
        with psycopg.connect(pg_dsn) as conn:
            archive = pg_introspect.read_catalog(conn, "archive")
        assert archive.table_names == ("track", "track_2019")
        assert [v.name for v in archive.views] == ["old_track"]
        track = table(archive, "track")
        assert [c.name for c in track.columns] == ["track_id", "extra"]
        assert track.unique_constraints == (("extra",),)
        assert [i.columns for i in track.indexes] == [("extra", "track_id")]

    def test_generated_keys_are_described_not_hidden(self, pg_database: str) -> None:
        run_sql(pg_database, "CREATE TABLE t (a bigserial, b bigint GENERATED ALWAYS AS IDENTITY)")
        with psycopg.connect(pg_database) as conn:
            columns = table(pg_introspect.read_catalog(conn, "public"), "t").columns
        assert [c.default for c in columns] == [
            "nextval('t_a_seq'::regclass)",
            "generated always as identity",
        ]

    def test_enum_labels_checks_and_domains_are_read(self, pg_database: str) -> None:
        run_sql(
            pg_database,
            "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');"
            "CREATE DOMAIN code AS varchar(4) CHECK (VALUE ~ '^[A-Z]+$');"
            "CREATE TABLE t (m mood, r text, c code, lo int, hi int, CHECK (hi > lo));"
            "ALTER TABLE t ADD CONSTRAINT r_listed CHECK (r IN ('x', 'y')) NOT VALID",
        )
        with psycopg.connect(pg_database) as conn:
            t = table(pg_introspect.read_catalog(conn, "public"), "t")
        columns = {c.name: c for c in t.columns}
        assert (columns["m"].labels, columns["r"].labels) == (("sad", "ok", "happy"), ())
        assert t.checks == (
            Check(("r",), "((r = ANY (ARRAY['x'::text, 'y'::text])))", "r_listed"),
            Check(("hi", "lo"), "((hi > lo))", "t_check"),
        )
        assert (columns["c"].base_type, t.checks_on(columns["c"])) == (
            "character varying(4)",
            ("(((VALUE)::text ~ '^[A-Z]+$'::text))",),
        )
        assert t.checks_on(columns["r"]) == ("((r = ANY (ARRAY['x'::text, 'y'::text])))",)


class TestOpeningDatabases:
    def test_a_sqlite_connector_opens_a_read_only_session_with_the_same_catalog(
        self, sqlite_file: Path, sqlite_catalog: Catalog
    ) -> None:
        connector = Connector("source", "sqlite", "sqlite", str(sqlite_file), "sqlite:shop.db")
        db = open_database(connector)
        try:
            assert isinstance(db, SqliteDatabase)
            assert db.catalog() == sqlite_catalog
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                db.conn.execute("CREATE TABLE intruder (x)")
        finally:
            db.close()

    def test_a_postgres_connector_opens_a_read_only_session_on_its_schema(
        self, pg_dsn: str, postgres_catalog: Catalog
    ) -> None:
        connector = Connector("target", "postgres", "postgres", pg_dsn, "pg", schema="public")
        db = open_database(connector)
        try:
            assert isinstance(db, PostgresDatabase)
            assert db.catalog() == postgres_catalog
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                db.conn.execute("CREATE TABLE intruder (x int)")
        finally:
            db.close()

    def test_a_connector_for_another_schema_reads_only_that_schema(self, pg_dsn: str) -> None:
        db = open_database(Connector("target", "postgres", "postgres", pg_dsn, "pg", "archive"))
        try:
            assert db.catalog().table_names == ("track", "track_2019")
        finally:
            db.close()

    def test_a_schema_that_does_not_exist_is_an_endpoint_error(self, pg_dsn: str) -> None:
        connector = Connector("target", "postgres", "postgres", pg_dsn, "pg-shown", "sales")
        with pytest.raises(
            EndpointError,
            match=r"^target: schema 'sales' does not exist in pg-shown \(check target\.schema",
        ):
            open_database(connector)
