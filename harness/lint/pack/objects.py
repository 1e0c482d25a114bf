"""Rules for views, functions, triggers, extensions, rules, policies and roles (§1e)."""

from __future__ import annotations

from harness.lint.rule import FixKind, Rule
from harness.results.check import Severity

E, W = Severity.ERROR, Severity.WARNING
SAME, CHANGES, NONE = FixKind.FAITHFUL, FixKind.CHANGES_BEHAVIOUR, FixKind.IMPOSSIBLE

_FIRST = (
    Rule(
        "DSQL061",
        "temp-view",
        E,
        "temporary views are not supported",
        "CREATE TEMP VIEW is rejected (regular views are supported).",
        "CREATE TEMP VIEW recent AS SELECT id FROM orders;",
        "CREATE VIEW recent AS SELECT id FROM orders;",
        "create a regular view",
        CHANGES,
        ("S21",),
        "2026-08-07",
    ),
    Rule(
        "DSQL062",
        "materialized-view",
        E,
        "materialized views are not supported",
        "`0A000 unsupported statement: CreateTableAs`; REFRESH and DROP MATERIALIZED VIEW "
        "are rejected too.",
        "CREATE MATERIALIZED VIEW daily_totals AS SELECT 1 AS n;",
        "CREATE VIEW daily_totals AS SELECT 1 AS n;",
        "a regular view, or a summary table the application maintains",
        CHANGES,
        ("S3", "S23", "S21"),
        "2026-09-18",
    ),
    Rule(
        "DSQL063",
        "function-language",
        E,
        "only LANGUAGE sql functions are supported",
        "`0A000 CREATE FUNCTION with language plpgsql not supported` (any non-SQL language).",
        "CREATE FUNCTION touch() RETURNS INT LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;",
        "CREATE FUNCTION touch() RETURNS INT LANGUAGE sql AS $$ SELECT 1 $$;",
        "rewrite as LANGUAGE sql, or move the logic into the application",
        NONE,
        ("S3", "S23"),
        "2026-09-18",
    ),
    Rule(
        "DSQL064",
        "procedure",
        E,
        "CREATE PROCEDURE is not supported",
        "Not in AWS's supported DDL (only CREATE FUNCTION … LANGUAGE sql); unconfirmed on a "
        "cluster.",
        "CREATE PROCEDURE archive() LANGUAGE sql AS $$ SELECT 1 $$;",
        "CREATE FUNCTION archive() RETURNS INT LANGUAGE sql AS $$ SELECT 1 $$;",
        "move the logic into the application or a LANGUAGE sql function",
        NONE,
        ("S21",),
        "2026-08-07",
        confirmed=False,
    ),
    Rule(
        "DSQL065",
        "do-block",
        E,
        "DO blocks (anonymous PL/pgSQL) are not supported",
        "Follows from PL/pgSQL being unsupported (no direct probe recorded).",
        "DO $$ BEGIN PERFORM 1; END $$;",
        "SELECT 1;",
        "run the statements from the application or as plain SQL",
        NONE,
        ("S3", "S26"),
        "2026-09-18",
        confirmed=False,
    ),
    Rule(
        "DSQL066",
        "trigger",
        E,
        "triggers are not supported",
        "`0A000 CREATE TRIGGER not supported`; DROP TRIGGER is only accepted as DROP "
        "TRIGGER IF EXISTS name ON table; ALTER TABLE … ENABLE/DISABLE TRIGGER is accepted.",
        "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW "
        "EXECUTE FUNCTION touch();",
        "ALTER TABLE orders DISABLE TRIGGER ALL;",
        "move the trigger's logic into the application; set audit columns explicitly",
        NONE,
        ("S3", "S23", "S21"),
        "2026-09-18",
    ),
    Rule(
        "DSQL067",
        "extension",
        E,
        "extensions are not supported",
        "`0A000 unsupported statement: CreateExtension` (also DROP EXTENSION, LOAD): no "
        "PostGIS, pgvector, pgcrypto, pg_trgm, uuid-ossp, pg_cron, postgres_fdw.",
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";',
        "SELECT gen_random_uuid();",
        "use built-ins (gen_random_uuid()) or move the feature to the application",
        NONE,
        ("S3", "S23", "S21"),
        "2026-09-18",
    ),
    Rule(
        "DSQL074",
        "extension-function",
        W,
        "function comes from an extension DSQL does not have",
        "uuid_generate_v4, crypt, gen_salt, digest, hmac, similarity, levenshtein, "
        "earth_distance, ST_* … exist only with their extension; per-function presence on "
        "DSQL is unconfirmed.",
        "INSERT INTO account (id, email) VALUES (uuid_generate_v4(), 'a@example.com');",
        "INSERT INTO account (id, email) VALUES (gen_random_uuid(), 'a@example.com');",
        "use gen_random_uuid() for UUIDs; hash and match in the application",
        CHANGES,
        ("S3", "S23"),
        "2026-09-18",
    ),
    Rule(
        "DSQL068",
        "rule",
        E,
        "rewrite rules (CREATE RULE) are not supported",
        "CREATE RULE and ALTER TABLE … ENABLE/DISABLE RULE are rejected (dsql-lint; weak "
        "fixture, unconfirmed).",
        "CREATE RULE no_delete AS ON DELETE TO orders DO INSTEAD NOTHING;",
        "REVOKE DELETE ON orders FROM app;",
        "enforce the behaviour in the application or with privileges",
        NONE,
        ("S21",),
        "2026-08-07",
        confirmed=False,
    ),
    Rule(
        "DSQL069",
        "row-level-security",
        E,
        "row-level security (policies) is not supported",
        "ALTER TABLE … ENABLE/FORCE ROW LEVEL SECURITY and CREATE/ALTER/DROP POLICY are rejected.",
        "CREATE POLICY tenant_isolation ON orders USING (tenant_id = 1);",
        "CREATE VIEW tenant_orders AS SELECT * FROM orders WHERE tenant_id = 1;",
        "filter by tenant in the application; IAM-mapped roles with GRANTs",
        NONE,
        ("S21", "S26"),
        "2026-08-07",
    ),
    Rule(
        "DSQL070",
        "logical-replication",
        E,
        "logical replication objects are not supported",
        "ALTER TABLE … REPLICA IDENTITY and CREATE/ALTER/DROP PUBLICATION/SUBSCRIPTION are "
        "rejected.",
        "CREATE PUBLICATION all_changes FOR ALL TABLES;",
        "SELECT 1;",
        "use DSQL change data capture streams (5 per cluster)",
        NONE,
        ("S21", "S12"),
        "2026-08-07",
    ),
    Rule(
        "DSQL071",
        "role-options",
        E,
        "role passwords, attributes and per-role settings are not supported",
        "ALTER ROLE … PASSWORD/SUPERUSER/SET and ALTER USER are rejected (dsql-lint; "
        "unconfirmed); authentication is IAM: CREATE ROLE x WITH LOGIN + AWS IAM GRANT.",
        "ALTER ROLE app WITH PASSWORD 'secret';",
        "CREATE ROLE app WITH LOGIN;",
        "CREATE ROLE … WITH LOGIN, then AWS IAM GRANT role TO '<iam-role-arn>'",
        NONE,
        ("S21", "S22"),
        "2026-08-21",
        confirmed=False,
    ),
)

RULES = (
    *_FIRST,
    Rule(
        "DSQL075",
        "unsupported-object-kind",
        E,
        "object kind is not in DSQL's supported DDL",
        "Aggregates, operators, casts, collations, conversions, languages and access methods "
        "are not among the statements AWS lists as supported (only CREATE FUNCTION … "
        "LANGUAGE sql for user code); unconfirmed by a recorded probe.",
        "CREATE AGGREGATE total (NUMERIC) (SFUNC = numeric_add, STYPE = NUMERIC);",
        "CREATE FUNCTION total2(a NUMERIC(12,2), b NUMERIC(12,2)) RETURNS NUMERIC(12,2) "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;",
        "compute it in a query or a LANGUAGE sql function",
        NONE,
        ("S4",),
        "2026-09-18",
        confirmed=False,
    ),
    Rule(
        "DSQL115",
        "newer-function",
        W,
        "a function newer than PostgreSQL 16",
        "DSQL is PostgreSQL 16-compatible; functions added in 17 (json_scalar, "
        "json_serialize, to_bin, to_oct, uuid_extract_timestamp, …) and 18 (uuidv7, uuidv4, "
        "casefold, array_sort, array_reverse, crc32, …) do not exist there. Unconfirmed by "
        "a recorded probe.",
        "CREATE TABLE ticket (id uuid PRIMARY KEY DEFAULT uuidv7());",
        "CREATE TABLE ticket (id uuid PRIMARY KEY DEFAULT gen_random_uuid());",
        "use a PostgreSQL 16 function (gen_random_uuid(), lower(), …) or compute it in the app",
        CHANGES,
        ("S29",),
        "2026-12-03",
        confirmed=False,
    ),
)
