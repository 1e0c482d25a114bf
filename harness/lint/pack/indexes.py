"""Rules for indexes (dsql-compat.md §1d)."""

from __future__ import annotations

from harness.lint.rule import Answer, FixKind, Rule
from harness.results.check import Severity

E, W = Severity.ERROR, Severity.WARNING
SAME, CHANGES, NONE = FixKind.FAITHFUL, FixKind.CHANGES_BEHAVIOUR, FixKind.IMPOSSIBLE

RULES = (
    Rule(
        "DSQL050",
        "index-async",
        E,
        "CREATE INDEX must be ASYNC",
        "`0A000 unsupported mode. please use CREATE INDEX ASYNC.` The build runs as a "
        "job: the index is not usable (and a UNIQUE build can still fail) until the job "
        "completes. Expression indexes (2026-08-13) and partial indexes (2026-09-15) are "
        "supported.",
        "CREATE INDEX orders_customer_idx ON orders (customer_id);",
        "CREATE INDEX ASYNC orders_customer_idx ON orders (customer_id);",
        "CREATE INDEX ASYNC …, then CALL sys.wait_for_job('<job_id>') before relying on it",
        CHANGES,
        ("S4", "S7", "S23"),
        "2026-09-18",
        autofix=True,
        answer=Answer("0A000", "unsupported mode. please use CREATE INDEX ASYNC.", True),
    ),
    Rule(
        "DSQL051",
        "index-concurrently",
        E,
        "CREATE INDEX CONCURRENTLY is not supported",
        "DSQL has its own non-blocking build: ASYNC.",
        "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);",
        "CREATE INDEX ASYNC orders_customer_idx ON orders (customer_id);",
        "replace CONCURRENTLY with ASYNC",
        CHANGES,
        ("S21",),
        "2026-08-07",
        autofix=True,
        answer=Answer("0A000", "unsupported mode. please use CREATE INDEX ASYNC.", False),
    ),
    Rule(
        "DSQL052",
        "index-name-qualified",
        E,
        "index names cannot be schema-qualified",
        '`42601 syntax error at or near "."`; the index goes into the table\'s schema.',
        "CREATE INDEX ASYNC public.orders_customer_idx ON public.orders (customer_id);",
        "CREATE INDEX ASYNC orders_customer_idx ON public.orders (customer_id);",
        "drop the schema from the index name",
        SAME,
        ("S23",),
        "2026-09-18",
        answer=Answer("42601", 'syntax error at or near "."', True),
    ),
    Rule(
        "DSQL053",
        "index-method",
        E,
        "only B-tree indexes exist on DSQL",
        "USING gin/gist/hash/brin/spgist is rejected, and DSQL's CREATE INDEX grammar has no "
        "USING clause at all, so pg_dump's `USING btree` is flagged too (dsql-lint rejects it; "
        "dropping `USING btree` is faithful and --fix does it).",
        "CREATE INDEX ASYNC doc_body_idx ON doc USING gin (body);",
        "CREATE INDEX ASYNC doc_kind_idx ON doc ((body ->> 'kind'));",
        "drop USING; for JSONB containment, index an extracted key with an expression index",
        CHANGES,
        ("S7", "S21"),
        "2026-08-13",
        answer=Answer("0A000", "index access method not supported", False),
    ),
    Rule(
        "DSQL057",
        "index-key-direction",
        W,
        "ASC/DESC on index keys may be rejected",
        "An older unsupported-features page listed ASC|DESC as unsupported for CREATE "
        "INDEX ASYNC; the current syntax shows only NULLS FIRST/LAST per key (unconfirmed).",
        "CREATE INDEX ASYNC orders_at_idx ON orders (created_at DESC);",
        "CREATE INDEX ASYNC orders_at_idx ON orders (created_at);",
        "omit the direction (a B-tree is scanned both ways)",
        SAME,
        ("S3", "S7"),
        "2026-08-13",
        confirmed=False,
    ),
    Rule(
        "DSQL058",
        "index-maintenance",
        E,
        "ALTER INDEX, REINDEX and CLUSTER are not supported",
        "ALTER INDEX is rejected per dsql-lint (weak fixture); REINDEX and CLUSTER "
        "are unconfirmed but have nothing to act on in DSQL's storage.",
        "REINDEX TABLE orders;",
        "DROP INDEX orders_customer_idx;",
        "drop and recreate the index (ASYNC)",
        NONE,
        ("S21",),
        "2026-08-07",
        confirmed=False,
        answer=Answer("0A000", "unsupported statement: {detail}", False),
    ),
)
