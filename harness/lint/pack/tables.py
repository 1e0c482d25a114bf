"""Rules for tables, table options, databases and object limits (dsql-compat.md §1a)."""

from __future__ import annotations

from harness.checks.result import Severity
from harness.lint.rule import FixKind, Rule

E, W = Severity.ERROR, Severity.WARNING
SAME, CHANGES, NONE = FixKind.FAITHFUL, FixKind.CHANGES_BEHAVIOUR, FixKind.IMPOSSIBLE

RULES = (
    Rule(
        "DSQL001", "temp-table", E,
        "temporary tables are not supported",
        "DSQL rejects CREATE TEMP/TEMPORARY TABLE: "
        "`0A000 TEMPORARY or TEMP table not supported for CREATE TABLE`.",
        "CREATE TEMP TABLE scratch (id BIGINT PRIMARY KEY);",
        "CREATE TABLE scratch (session_id UUID, id BIGINT, PRIMARY KEY (session_id, id));",
        "use a CTE or subquery, or a regular table keyed by a session id with explicit cleanup",
        NONE, ("S3", "S23", "S21"), "2026-09-18",
    ),
    Rule(
        "DSQL002", "unlogged-table", E,
        "UNLOGGED tables are not supported",
        "DSQL rejects CREATE UNLOGGED TABLE (`0A000 UNLOGGED table not supported`); every "
        "table is durably replicated.",
        "CREATE UNLOGGED TABLE cache (k TEXT PRIMARY KEY, v TEXT);",
        "CREATE TABLE cache (k TEXT PRIMARY KEY, v TEXT);",
        "drop UNLOGGED (the table becomes durable, which is only slower, never less correct)",
        SAME, ("S23",), "2026-09-18", autofix=True,
    ),
    Rule(
        "DSQL003", "on-commit", E,
        "ON COMMIT clauses are not supported",
        "`ON COMMIT {DROP|DELETE ROWS|PRESERVE ROWS}` only means something for temporary "
        "tables, which DSQL does not have; the clause is rejected.",
        "CREATE TABLE staging (id BIGINT PRIMARY KEY) ON COMMIT PRESERVE ROWS;",
        "CREATE TABLE staging (id BIGINT PRIMARY KEY);",
        "remove the ON COMMIT clause",
        SAME, ("S21",), "2026-08-07",
    ),
    Rule(
        "DSQL004", "partition-by", E,
        "declarative partitioning (PARTITION BY) is not supported",
        "DSQL distributes every table by its primary key itself; PARTITION BY is rejected.",
        "CREATE TABLE events (id BIGINT, at DATE, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);",
        "CREATE TABLE events (id BIGINT, at DATE, PRIMARY KEY (id, at));",
        "use one flat table; DSQL shards by primary key automatically",
        CHANGES, ("S3", "S21"), "2026-08-07",
    ),
    Rule(
        "DSQL005", "partition-of", E,
        "partitions (PARTITION OF, ATTACH/DETACH PARTITION) are not supported",
        "Without PARTITION BY there are no partitions: CREATE TABLE … PARTITION OF and "
        "ALTER TABLE … ATTACH/DETACH PARTITION are rejected.",
        "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') "
        "TO ('2027-01-01');",
        "CREATE TABLE events (id BIGINT, at DATE, PRIMARY KEY (id, at));",
        "fold the partitions into the parent table",
        CHANGES, ("S21",), "2026-08-07",
    ),
    Rule(
        "DSQL006", "inherits", E,
        "table inheritance (INHERITS) is not supported",
        "DSQL rejects INHERITS (…).",
        "CREATE TABLE admin_users (level INT) INHERITS (users);",
        "CREATE TABLE admin_users (id BIGINT PRIMARY KEY, email TEXT, level INT);",
        "copy the parent's columns into each child table",
        CHANGES, ("S3", "S21"), "2026-08-07",
    ),
    Rule(
        "DSQL007", "tablespace", E,
        "tablespaces are not supported",
        "Storage is managed by DSQL: `0A000 unsupported statement: CreateTableSpace`, and a "
        "TABLESPACE clause on a table or index is rejected.",
        "CREATE TABLE t (id BIGINT PRIMARY KEY) TABLESPACE fast_ssd;",
        "CREATE TABLE t (id BIGINT PRIMARY KEY);",
        "remove the TABLESPACE clause / statement",
        SAME, ("S3", "S23"), "2026-09-18",
    ),
    Rule(
        "DSQL008", "storage-parameters", E,
        "table storage parameters WITH (…) are not supported",
        "fillfactor, autovacuum_* and other storage parameters are rejected; DSQL has no "
        "heap pages or vacuum to tune.",
        "CREATE TABLE t (id BIGINT PRIMARY KEY) WITH (fillfactor = 70);",
        "CREATE TABLE t (id BIGINT PRIMARY KEY);",
        "remove the WITH (…) clause",
        SAME, ("S21",), "2026-08-07", autofix=True,
    ),
    Rule(
        "DSQL009", "create-table-as", E,
        "CREATE TABLE … AS / SELECT … INTO is not supported",
        "`0A000 unsupported statement: CreateTableAs`.",
        "CREATE TABLE active_users AS SELECT * FROM users WHERE active;",
        "CREATE TABLE active_users (id BIGINT PRIMARY KEY, email TEXT);",
        "create the table with explicit columns, then INSERT … SELECT in batches of ≤3,000 rows",
        CHANGES, ("S3", "S23"), "2026-09-18",
    ),
    Rule(
        "DSQL010", "column-collation", E,
        "column COLLATE clauses are not supported",
        "The database collation is fixed to C (UTF-8); a COLLATE clause on a column is "
        "rejected. Removing `C`/`POSIX` is faithful; any other collation changes ORDER BY "
        "and comparison results.",
        'CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT COLLATE "de_DE");',
        "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT);",
        "remove the COLLATE clause (review sorting if the collation was not C)",
        CHANGES, ("S3", "S21"), "2026-08-07", autofix=True,
    ),
    Rule(
        "DSQL017", "collate-in-query", W,
        "COLLATE in an expression requests a non-C ordering",
        "DSQL only has the C collation; an expression-level COLLATE other than C/POSIX "
        "does not give the requested order.",
        'SELECT name FROM users ORDER BY name COLLATE "en_US";',
        "SELECT name FROM users ORDER BY name;",
        "sort in the application, or store a sort key column",
        CHANGES, ("S3",), "2026-08-07",
    ),
    Rule(
        "DSQL011", "multiple-databases", E,
        "a DSQL cluster has exactly one database",
        "`0A000 unsupported statement: Createdb`; the single database is `postgres` and "
        "cannot be renamed or dropped. SQLite ATTACH DATABASE has no counterpart.",
        "CREATE DATABASE reporting;",
        "CREATE SCHEMA reporting;",
        "use schemas (at most 10) or separate clusters",
        NONE, ("S3", "S12", "S23"), "2026-09-18",
    ),
    Rule(
        "DSQL012", "foreign-data", E,
        "foreign tables, servers and data wrappers are not supported",
        "No FDWs on DSQL: CREATE FOREIGN TABLE / SERVER / FOREIGN DATA WRAPPER / USER "
        "MAPPING are rejected.",
        "CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw;",
        "CREATE TABLE legacy_copy (id BIGINT PRIMARY KEY);",
        "access external data from the application",
        NONE, ("S23", "S21"), "2026-09-18",
    ),
    Rule(
        "DSQL015", "table-shape-limit", E,
        "table exceeds a DSQL shape limit",
        "At most 255 columns per table (`54011`), 8 key columns per primary key or index "
        "(`54011`) and 24 indexes per table (`54000`).",
        "CREATE TABLE wide (a1 INT, a2 INT, a3 INT, a4 INT, a5 INT, a6 INT, a7 INT, a8 INT, "
        "a9 INT, PRIMARY KEY (a1, a2, a3, a4, a5, a6, a7, a8, a9));",
        "CREATE TABLE wide (id BIGINT PRIMARY KEY, a1 INT, a2 INT);",
        "use narrower keys (UUID/BIGINT), split wide tables",
        NONE, ("S12",), "2026-09-18", scope="script",
    ),
    Rule(
        "DSQL016", "object-count-limit", E,
        "script creates more objects than a DSQL cluster allows",
        "At most 10 schemas, 1,000 tables, 5,000 views and 5,000 sequences per cluster "
        "(`54000`; the sequence quota is unconfirmed on the official quota page).",
        "CREATE SCHEMA s1; CREATE SCHEMA s2; CREATE SCHEMA s3; CREATE SCHEMA s4; "
        "CREATE SCHEMA s5; CREATE SCHEMA s6; CREATE SCHEMA s7; CREATE SCHEMA s8; "
        "CREATE SCHEMA s9; CREATE SCHEMA s10; CREATE SCHEMA s11;",
        "CREATE SCHEMA s1; CREATE SCHEMA s2;",
        "consolidate objects or split across clusters",
        NONE, ("S12", "S19"), "2026-09-18", scope="script",
    ),
)
