"""Rules for transactions, locking, session commands and per-transaction limits (§1g, §1h)."""

from __future__ import annotations

from harness.checks.result import Severity
from harness.lint.rule import FixKind, Rule

E, W = Severity.ERROR, Severity.WARNING
SAME, CHANGES, NONE = FixKind.FAITHFUL, FixKind.CHANGES_BEHAVIOUR, FixKind.IMPOSSIBLE
TXN = "transaction"

RULES = (
    Rule(
        "DSQL090", "one-ddl-per-transaction", E,
        "more than one DDL statement in a transaction",
        "`0A000 multiple ddl statements not supported in a transaction`: the second DDL "
        "fails and the transaction aborts. Migration tools must not wrap a whole file in "
        "BEGIN/COMMIT.",
        "BEGIN; CREATE TABLE a (id BIGINT PRIMARY KEY); CREATE TABLE b (id BIGINT PRIMARY KEY); "
        "COMMIT;",
        "BEGIN; CREATE TABLE a (id BIGINT PRIMARY KEY); COMMIT; "
        "BEGIN; CREATE TABLE b (id BIGINT PRIMARY KEY); COMMIT;",
        "one DDL per transaction (autocommit each DDL statement)",
        CHANGES, ("S17", "S23", "S21"), "2026-09-18", scope=TXN,
    ),
    Rule(
        "DSQL091", "ddl-dml-mixed", E,
        "DDL and DML in the same transaction",
        "`0A000 ddl and dml are not supported in the same transaction`.",
        "BEGIN; CREATE TABLE a (id BIGINT PRIMARY KEY); INSERT INTO a VALUES (1); COMMIT;",
        "BEGIN; CREATE TABLE a (id BIGINT PRIMARY KEY); COMMIT; "
        "BEGIN; INSERT INTO a VALUES (1); COMMIT;",
        "separate transactions (atomicity across them is lost: report it)",
        CHANGES, ("S17", "S23", "S21"), "2026-09-18", scope=TXN,
    ),
    Rule(
        "DSQL092", "isolation-level", E,
        "only REPEATABLE READ isolation exists",
        "`0A000 Unsupported isolation level: SERIALIZABLE` (READ COMMITTED likewise).",
        "BEGIN ISOLATION LEVEL SERIALIZABLE;",
        "BEGIN ISOLATION LEVEL REPEATABLE READ;",
        "BEGIN, or BEGIN ISOLATION LEVEL REPEATABLE READ (READ ONLY is allowed)",
        CHANGES, ("S18", "S23", "S4"), "2026-09-18", autofix=True,
    ),
    Rule(
        "DSQL093", "set-transaction", E,
        "SET TRANSACTION is not supported",
        "`0A000 setting configuration parameter \"TRANSACTION\" not supported`, even for READ "
        "ONLY or REPEATABLE READ; it aborts the open transaction.",
        "SET TRANSACTION READ ONLY;",
        "BEGIN READ ONLY;",
        "put the modes on BEGIN",
        CHANGES, ("S23",), "2026-09-18",
    ),
    Rule(
        "DSQL094", "set-isolation-parameter", E,
        "transaction isolation parameters cannot be set",
        "SET default_transaction_isolation / transaction_isolation is rejected (`0A000`).",
        "SET default_transaction_isolation = 'serializable';",
        "SET statement_timeout = '30s';",
        "remove it: DSQL is always REPEATABLE READ",
        SAME, ("S23",), "2026-09-18",
    ),
    Rule(
        "DSQL095", "read-modify-write", W,
        "read-then-write in one transaction without FOR UPDATE",
        "DSQL uses snapshot isolation with commit-time optimistic concurrency, not "
        "PostgreSQL's READ COMMITTED with blocking locks: a row read and then updated can "
        "be changed concurrently, and the conflict surfaces as 40001 at COMMIT.",
        "BEGIN; SELECT balance FROM account WHERE id = 1; "
        "UPDATE account SET balance = 0 WHERE id = 1; COMMIT;",
        "BEGIN; SELECT balance FROM account WHERE id = 1 FOR UPDATE; "
        "UPDATE account SET balance = 0 WHERE id = 1; COMMIT;",
        "SELECT … FOR UPDATE to put the read rows in the conflict set, and retry on 40001",
        CHANGES, ("S11", "S18"), "2026-09-08", scope=TXN,
    ),
    Rule(
        "DSQL096", "savepoint", E,
        "savepoints are not supported",
        "`0A000 unsupported transaction statement: SAVEPOINT` (RELEASE and ROLLBACK TO too).",
        "SAVEPOINT before_update;",
        "COMMIT;",
        "restructure into separate transactions; disable nested transactions in the ORM",
        NONE, ("S3", "S23"), "2026-09-18",
    ),
    Rule(
        "DSQL097", "lock-strength", E,
        "FOR SHARE / FOR NO KEY UPDATE are not supported",
        "`0A000 locking clauses other than FOR UPDATE/FOR KEY SHARE are not supported`.",
        "SELECT * FROM account WHERE id = 1 FOR SHARE;",
        "SELECT * FROM account WHERE id = 1 FOR KEY SHARE;",
        "FOR SHARE → FOR KEY SHARE or FOR UPDATE",
        CHANGES, ("S1", "S23"), "2026-09-18",
    ),
    Rule(
        "DSQL098", "nowait-skip-locked", W,
        "NOWAIT / SKIP LOCKED do not work as a job queue on DSQL",
        "The grammar accepts them, but DSQL never waits on locks: SKIP LOCKED cannot skip "
        "rows other transactions hold, so queue consumers collide at commit (unconfirmed).",
        "SELECT id FROM job WHERE state = 'new' LIMIT 1 FOR UPDATE SKIP LOCKED;",
        "SELECT id FROM job WHERE state = 'new' LIMIT 1 FOR UPDATE;",
        "partition the queue by worker, or a conditional UPDATE with retry",
        NONE, ("S27", "S11"), "2026-08-07", confirmed=False,
    ),
    Rule(
        "DSQL099", "lock-table", E,
        "LOCK TABLE is not supported",
        "Rejected; DSQL is lock-free (optimistic concurrency).",
        "LOCK TABLE account IN EXCLUSIVE MODE;",
        "SELECT 1;",
        "remove it; rely on OCC conflicts and retries",
        NONE, ("S21",), "2026-08-07",
    ),
    Rule(
        "DSQL100", "advisory-lock", W,
        "advisory locks cannot provide mutual exclusion on DSQL",
        "pg_advisory_lock and friends: whether they exist is unconfirmed, and a lock-free "
        "OCC system cannot block other sessions with them.",
        "SELECT pg_advisory_lock(42);",
        "UPDATE app_lock SET holder = 'worker-1' WHERE name = 'nightly';",
        "a lock row updated in its own transaction, or an external lock (DynamoDB)",
        NONE, ("S11",), "2026-09-08", confirmed=False,
    ),
    Rule(
        "DSQL101", "listen-notify", E,
        "LISTEN / NOTIFY / UNLISTEN are not supported",
        "`0A000 unsupported statement: Listen/Notify/Unlisten` (pg_notify() unconfirmed).",
        "LISTEN order_events;",
        "SELECT 1;",
        "SNS/SQS/EventBridge or CDC streams",
        NONE, ("S23",), "2026-09-18",
    ),
    Rule(
        "DSQL102", "cursor", E,
        "DECLARE … CURSOR is not supported",
        "Rejected per dsql-lint (unconfirmed inside a transaction block).",
        "DECLARE big CURSOR FOR SELECT * FROM orders;",
        "SELECT * FROM orders WHERE id > 100 ORDER BY id LIMIT 500;",
        "keyset pagination",
        NONE, ("S21",), "2026-08-07", confirmed=False,
    ),
    Rule(
        "DSQL103", "sql-prepare", E,
        "SQL-level PREPARE / EXECUTE / DEALLOCATE name are not supported",
        "Use protocol-level prepared statements (drivers do); DEALLOCATE ALL is accepted.",
        "PREPARE get_order (BIGINT) AS SELECT * FROM orders WHERE id = $1;",
        "DEALLOCATE ALL;",
        "let the driver prepare statements at the protocol level",
        NONE, ("S21", "S16"), "2026-09-08",
    ),
    Rule(
        "DSQL104", "discard", E,
        "DISCARD is not supported",
        "Rejected per dsql-lint.",
        "DISCARD ALL;",
        "DEALLOCATE ALL;",
        "reconnect instead",
        NONE, ("S21",), "2026-08-07",
    ),
    Rule(
        "DSQL105", "truncate", E,
        "TRUNCATE is not supported",
        "`0A000 unsupported statement: Truncate` (inside a transaction it aborts it).",
        "TRUNCATE TABLE audit_log;",
        "DELETE FROM audit_log WHERE id BETWEEN 1 AND 3000;",
        "DELETE in batches of ≤3,000 rows, or DROP TABLE + CREATE TABLE; reset identity "
        "with ALTER COLUMN … RESTART",
        NONE, ("S3", "S23"), "2026-09-18",
    ),
    Rule(
        "DSQL106", "vacuum", E,
        "VACUUM is not supported",
        "`0A000 unsupported VACUUM statement`; ANALYZE is supported.",
        "VACUUM ANALYZE orders;",
        "ANALYZE orders;",
        "remove VACUUM (ANALYZE alone is fine)",
        SAME, ("S3", "S23"), "2026-09-18",
    ),
    Rule(
        "DSQL107", "alter-system", E,
        "ALTER SYSTEM is not supported",
        "Cluster settings are managed through the console/API.",
        "ALTER SYSTEM SET work_mem = '64MB';",
        "SET work_mem = '64MB';",
        "remove it",
        NONE, ("S3", "S23"), "2026-09-18",
    ),
    Rule(
        "DSQL108", "copy-server-file", E,
        "COPY to/from a server file or PROGRAM is not supported",
        "A managed service has no server-side files; COPY … FROM STDIN / TO STDOUT work.",
        "COPY orders FROM '/var/lib/import/orders.csv' WITH (FORMAT csv);",
        "COPY orders FROM STDIN WITH (FORMAT csv);",
        "client-side \\copy or the driver's COPY FROM STDIN",
        NONE, ("S21",), "2026-08-07",
    ),
    Rule(
        "DSQL109", "tablesample", E,
        "TABLESAMPLE is not supported",
        "`0A000 TABLESAMPLE clause not supported`.",
        "SELECT * FROM orders TABLESAMPLE SYSTEM (1);",
        "SELECT * FROM orders ORDER BY random() LIMIT 100;",
        "ORDER BY random() LIMIT n (costly) or sample in the application",
        CHANGES, ("S23",), "2026-09-18",
    ),
    Rule(
        "DSQL110", "merge", E,
        "MERGE is not supported",
        "`0A000 unsupported statement type: MERGE` per dsql-emulator; not in the supported "
        "DML list (unconfirmed but likely).",
        "MERGE INTO stock s USING delivery d ON s.sku = d.sku "
        "WHEN MATCHED THEN UPDATE SET qty = s.qty + d.qty;",
        "INSERT INTO stock (sku, qty) VALUES ('a', 1) "
        "ON CONFLICT (sku) DO UPDATE SET qty = stock.qty + 1;",
        "INSERT … ON CONFLICT DO UPDATE",
        CHANGES, ("S23", "S4"), "2026-09-18", confirmed=False,
    ),
    Rule(
        "DSQL111", "group-by-all", E,
        "GROUP BY ALL is not supported",
        "`42601` (PostgreSQL 19 syntax; DSQL reports PostgreSQL 16).",
        "SELECT region, COUNT(*) FROM orders WHERE id > 0 GROUP BY ALL;",
        "SELECT region, COUNT(*) FROM orders WHERE id > 0 GROUP BY region;",
        "list the grouping columns",
        SAME, ("S23",), "2026-09-18",
    ),
    Rule(
        "DSQL112", "show-collation", W,
        "SHOW lc_collate / lc_ctype fails on DSQL",
        "`42704 unrecognized configuration parameter`; ORMs and introspection tools ask it.",
        "SHOW lc_collate;",
        "SHOW transaction_isolation;",
        "don't query it: the collation is always C",
        NONE, ("S23",), "2026-09-18",
    ),
    Rule(
        "DSQL113", "unbounded-count", W,
        "COUNT(*) over a whole table may exceed the 5-minute transaction limit",
        "A full scan of a large table can outlive the 300 s transaction age limit.",
        "SELECT COUNT(*) FROM orders;",
        "SELECT COUNT(*) FROM orders WHERE created_at > now() - interval '1 day';",
        "read row estimates from the catalog, or count a bounded range",
        NONE, ("S16",), "2026-09-08",
    ),
    Rule(
        "DSQL120", "row-limit", W,
        "statement may modify more than 3,000 rows in one transaction",
        "`54000 transaction row limit exceeded` past 3,000 modified rows (3,000 is fine), also "
        "in autocommit; static heuristics: UPDATE/DELETE without WHERE, INSERT … SELECT, "
        "more than 3,000 VALUES tuples.",
        "DELETE FROM audit_log;",
        "DELETE FROM audit_log WHERE id BETWEEN 1 AND 3000;",
        "batch by key ranges of ≤3,000 rows",
        NONE, ("S12", "S23", "S22"), "2026-09-18",
    ),
    Rule(
        "DSQL121", "transaction-size", W,
        "statement writes more than 10 MiB in one transaction",
        "`54000 transaction size limit 10mb exceeded`; estimated from the VALUES payload "
        "(string literals plus repeat(…, n) sizes).",
        "INSERT INTO blob (id, body) VALUES (1, repeat('x', 11000000));",
        "INSERT INTO blob (id, body) VALUES (1, 'x');",
        "smaller batches",
        NONE, ("S12",), "2026-09-18",
    ),
)
