"""The DSQL rule pack: every rule as data, versioned and dated.

DSQL ships compatibility changes roughly monthly, so the pack carries a version (the date of
its newest evidence) and each rule an as-of date and its sources. Rules about features DSQL
now supports (foreign keys, sequences and identity with CACHE, JSON/JSONB columns, partial and
expression indexes, DROP COLUMN, domains, views, SET CONSTRAINTS, STATISTICS …) are
deliberately absent: they must never fire. ``docs/lint.md`` is generated from this registry
(``python -m harness.lint.docs``), and so are SARIF ``rules[]`` and the example tests.
"""

from __future__ import annotations

from harness.lint.pack import alter, indexes, keys, meta, objects, tables, transactions, types
from harness.lint.rule import Rule

PACK_VERSION = "dsql-2026.12.03"
"""Bumped whenever a rule is added, removed or changes meaning."""
TARGET = "dsql"
CROSS_CHECKED_WITH = "dsql-lint 0.2.22"

SOURCES: dict[str, str] = {
    "S1": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/release-notes.html",
    "S3": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/"
    "working-with-postgresql-compatibility-unsupported-features.html",
    "S4": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/"
    "working-with-postgresql-compatibility-supported-sql-features.html",
    "S5": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/alter-table-syntax-support.html",
    "S7": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/working-with-create-index-async.html",
    "S8": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/sequences-identity-columns.html",
    "S9": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/"
    "working-with-foreign-key-constraints.html",
    "S10": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/"
    "working-with-postgresql-compatibility-supported-data-types.html",
    "S11": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/"
    "working-with-concurrency-control.html",
    "S12": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/CHAP_quotas.html",
    "S16": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/known-issues.html",
    "S17": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/working-with-ddl.html",
    "S18": "https://docs.aws.amazon.com/aurora-dsql/latest/userguide/working-with.html",
    "S19": "https://aws.amazon.com/blogs/database/"
    "working-with-identity-columns-and-sequences-in-aurora-dsql",
    "S20": "https://aws.amazon.com/blogs/database/"
    "working-with-foreign-key-constraints-in-aurora-dsql/",
    "S21": "https://github.com/awslabs/aurora-dsql-tools (dsql-lint 0.2.14 source, 0.2.22 wheel)",
    "S22": "https://github.com/awslabs/mcp (aurora-dsql-mcp-server steering)",
    "S23": "https://github.com/Dreamescaper/dsql-emulator (golden files recorded on a real "
    "cluster 2026-09-15/18)",
    "S26": "https://mantle-framework.dev/wiki/DSQL-Incompatibility-Reference.html (partly stale)",
    "S27": "dsql-lint grammar/dsql_grammar.json in S21",
    "S28": "cutover's own experiments (sqlglot 30.30.0, dsql-lint 0.2.22)",
    "S29": "https://www.postgresql.org/docs/release/ (PostgreSQL 17 and 18 release notes)",
}

RULES: tuple[Rule, ...] = (
    *meta.RULES,
    *tables.RULES,
    *keys.RULES,
    *types.RULES,
    *indexes.RULES,
    *objects.RULES,
    *alter.RULES,
    *transactions.RULES,
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    """The rule with this id (KeyError for an unknown id: ids are written by us, not users)."""
    return RULES_BY_ID[rule_id]
