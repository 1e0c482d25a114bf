"""Rules for column data types (dsql-compat.md §1c)."""

from __future__ import annotations

from harness.lint.rule import Answer, FixKind, Rule
from harness.results.check import Severity

E, W = Severity.ERROR, Severity.WARNING
SAME, CHANGES, NONE = FixKind.FAITHFUL, FixKind.CHANGES_BEHAVIOUR, FixKind.IMPOSSIBLE

RULES = (
    Rule(
        "DSQL040",
        "unsupported-column-type",
        E,
        "column type is not in DSQL's supported list",
        "Stored columns may only use smallint, integer, bigint, real, double precision, "
        "numeric, char, varchar, bpchar, text, date, time, timetz, timestamp, timestamptz, "
        "interval, boolean, bytea, uuid, json and jsonb (`0A000 datatype X not supported`). "
        "User-defined types (enums, domains over them, citext, ltree …) are rejected too, "
        "and so is a call of a function named after a geometric type (`line(…)`, "
        "`circle(…)`: recorded `0A000 datatype line not supported`).",
        "CREATE TABLE page (id BIGINT PRIMARY KEY, path ltree);",
        "CREATE TABLE page (id BIGINT PRIMARY KEY, path TEXT);",
        "map the type onto the supported list",
        CHANGES,
        ("S10", "S23", "S21"),
        "2026-09-18",
        answer=Answer("0A000", "datatype {detail} not supported", True),
    ),
    Rule(
        "DSQL041",
        "array-column",
        E,
        "array columns are not supported",
        "`0A000 datatype text[] not supported`. Arrays still work at query time "
        "(ARRAY[…], unnest, ::int[] casts).",
        "CREATE TABLE post (id BIGINT PRIMARY KEY, tags TEXT[]);",
        "CREATE TABLE post (id BIGINT PRIMARY KEY, tags JSONB);",
        "store a JSONB array, delimited TEXT, or a child table",
        CHANGES,
        ("S10", "S23"),
        "2026-09-18",
        answer=Answer("0A000", "datatype {detail} not supported", True),
    ),
    Rule(
        "DSQL042",
        "rejected-column-type",
        E,
        "column type is rejected on DSQL (recorded on a real cluster)",
        "money, xml, inet, cidr, macaddr, geometric types, tsvector/tsquery, range types, "
        "bit/varbit and pg_lsn columns are rejected: `0A000 datatype X not supported`.",
        "CREATE TABLE login (id BIGINT PRIMARY KEY, ip INET);",
        "CREATE TABLE login (id BIGINT PRIMARY KEY, ip VARCHAR(45));",
        "money→numeric(19,4); inet/cidr/macaddr→varchar + CHECK; xml→text; ranges→two "
        "columns; tsvector→external search; geometric→numeric columns",
        CHANGES,
        ("S23",),
        "2026-09-18",
        answer=Answer("0A000", "datatype {detail} not supported", True),
    ),
    Rule(
        "DSQL044",
        "user-defined-type",
        E,
        "CREATE/ALTER/DROP TYPE (enum, composite, range) is not supported",
        "`0A000 CREATE TYPE not supported` (composite: `unsupported statement: CompositeType`).",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');",
        "CREATE TABLE person (id BIGINT PRIMARY KEY, mood VARCHAR(5) CHECK (mood IN "
        "('sad', 'ok', 'happy')));",
        "enum → VARCHAR + CHECK (col IN (…)); composite → JSONB or separate columns",
        CHANGES,
        ("S3", "S23", "S22"),
        "2026-09-18",
        answer=Answer("0A000", "{detail}", True),
    ),
    Rule(
        "DSQL046",
        "numeric-default-precision",
        W,
        "NUMERIC without precision means numeric(18,6) on DSQL",
        "PostgreSQL's unconstrained numeric becomes numeric(18,6): values are silently "
        "rounded to 6 decimals and overflow above 12 integer digits.",
        "CREATE TABLE price (id BIGINT PRIMARY KEY, amount NUMERIC);",
        "CREATE TABLE price (id BIGINT PRIMARY KEY, amount NUMERIC(20,6));",
        "declare an explicit (precision, scale); precision may be up to 1000",
        CHANGES,
        ("S10",),
        "2026-08-25",
    ),
    Rule(
        "DSQL047",
        "char-length-limit",
        W,
        "declared length exceeds DSQL's char/varchar limit",
        "char is limited to 4,096 bytes and varchar to 65,535 bytes (enforced on write; "
        "the page revision is older, so unconfirmed as current).",
        "CREATE TABLE doc (id BIGINT PRIMARY KEY, body VARCHAR(100000));",
        "CREATE TABLE doc (id BIGINT PRIMARY KEY, body TEXT);",
        "use TEXT and keep values under 1 MiB",
        SAME,
        ("S10",),
        "2026-08-07",
        confirmed=False,
    ),
    Rule(
        "DSQL048",
        "full-text-search",
        E,
        "full-text search functions fail on DSQL",
        '`42704 text search configuration "english" does not exist` (geometric functions '
        "are DSQL040: DSQL answers them as a type it does not have).",
        "SELECT id FROM doc WHERE to_tsvector('english', body) @@ to_tsquery('english', 'x');",
        "SELECT id FROM doc WHERE body LIKE '%x%';",
        "use an external search service (OpenSearch) or LIKE for small tables",
        NONE,
        ("S23",),
        "2026-09-18",
        answer=Answer("42704", 'text search configuration "{detail}" does not exist', True),
    ),
    Rule(
        "DSQL118",
        "virtual-generated-column",
        E,
        "VIRTUAL generated columns are PostgreSQL 18",
        "DSQL is PostgreSQL 16-compatible, where a generated column is always STORED; "
        "`GENERATED ALWAYS AS (…) VIRTUAL` is a syntax error there.",
        "CREATE TABLE line (id uuid PRIMARY KEY, qty integer, "
        "total integer GENERATED ALWAYS AS (qty * 2) VIRTUAL);",
        "CREATE TABLE line (id uuid PRIMARY KEY, qty integer, "
        "total integer GENERATED ALWAYS AS (qty * 2) STORED);",
        "make it STORED (computed on write instead of on read)",
        SAME,
        ("S29",),
        "2026-12-03",
    ),
    Rule(
        "DSQL119",
        "newer-syntax",
        W,
        "syntax newer than PostgreSQL 16",
        "DSQL is PostgreSQL 16-compatible; PostgreSQL 18's temporal keys (`WITHOUT OVERLAPS`, "
        "`PERIOD`), `NOT ENFORCED` constraints and `NOT NULL … NO INHERIT` are syntax errors "
        "there. Unconfirmed by a recorded probe.",
        "CREATE TABLE booking (id bigint PRIMARY KEY, room bigint, "
        "CONSTRAINT booking_room_check CHECK (room > 0) NOT ENFORCED);",
        "CREATE TABLE booking (id bigint PRIMARY KEY, room bigint, "
        "CONSTRAINT booking_room_check CHECK (room > 0));",
        "write it in PostgreSQL 16 syntax (a plain key; an enforced constraint, or none)",
        CHANGES,
        ("S29",),
        "2026-12-03",
        confirmed=False,
    ),
)
