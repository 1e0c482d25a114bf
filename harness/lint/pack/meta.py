"""Rules about the lint itself (analysis and suppression) and about SQLite-only syntax."""

from __future__ import annotations

from harness.lint.rule import FixKind, Rule
from harness.results.check import Severity

E, W = Severity.ERROR, Severity.WARNING
SAME, CHANGES, NONE = FixKind.FAITHFUL, FixKind.CHANGES_BEHAVIOUR, FixKind.IMPOSSIBLE

RULES = (
    Rule(
        "DSQL000",
        "could-not-analyse",
        E,
        "statement could not be analysed",
        "The lint fails closed: a statement it cannot parse or classify is reported, never "
        "passed silently. Check it by hand (or on a cluster) and suppress with a reason.",
        "CREATE FROBNICATOR spin WITH (speed = 3);",
        "SELECT 1;",
        "check the statement by hand; suppress with `-- cutover: ignore[DSQL000] <reason>`",
        NONE,
        ("S28",),
        "2026-09-18",
    ),
    Rule(
        "LINT001",
        "suppression-without-reason",
        W,
        "suppression comment has no reason, so it suppresses nothing",
        "`-- cutover: ignore[RULE] reason`: the reason is what a reviewer signs off; "
        "without it the comment is ignored.",
        "-- cutover: ignore[DSQL105]\nSELECT 1;",
        "SELECT 1;",
        "write why the finding is acceptable after the bracket",
        SAME,
        ("S28",),
        "2026-09-18",
    ),
    Rule(
        "LINT002",
        "unknown-rule-in-suppression",
        W,
        "suppression names a rule that does not exist",
        "A typo in a suppression would otherwise silently suppress nothing.",
        "-- cutover: ignore[DSQL999] legacy table, dropped next release\nSELECT 1;",
        "SELECT 1;",
        "use an id from docs/lint.md",
        SAME,
        ("S28",),
        "2026-09-18",
    ),
    Rule(
        "DSQL130",
        "sqlite-only-syntax",
        E,
        "SQLite-only syntax has no DSQL counterpart",
        "PRAGMA, INSERT OR REPLACE/IGNORE, WITHOUT ROWID and CREATE VIRTUAL TABLE (FTS) "
        "are SQLite dialect; PostgreSQL and DSQL reject them.",
        "INSERT OR REPLACE INTO kv (k, v) VALUES ('a', 'b');",
        "INSERT INTO kv (k, v) VALUES ('a', 'b') ON CONFLICT (k) DO UPDATE SET v = excluded.v;",
        "INSERT … ON CONFLICT; drop PRAGMA and WITHOUT ROWID; external search for FTS",
        CHANGES,
        ("S28",),
        "2026-09-18",
        dialect="sqlite",
    ),
)
