"""Render ``docs/lint.md`` from the rule pack: ``python -m harness.lint.docs > docs/lint.md``."""

from __future__ import annotations

from harness.lint.conventions import CONVENTIONS
from harness.lint.orm import TOOLS
from harness.lint.pack import CROSS_CHECKED_WITH, PACK_VERSION, RULES, SOURCES
from harness.lint.rule import Rule

_HEADER = """\
# `cutover lint` — DSQL compatibility rules

Generated from the rule pack (`harness/lint/pack/`) by `python -m harness.lint.docs`;
`tests/test_lint_docs.py` fails when this file is stale.

Rule pack **{version}**, cross-checked with {cross}. Severity **error**: Aurora DSQL rejects
the statement; **warning**: DSQL accepts it but it behaves differently. Fix kinds:
*faithful* (a rewrite keeps behaviour), *changes-behaviour* (a rewrite exists, review it),
*impossible* (no statement-level rewrite). `--fix` applies the rewrites marked *autofix*.

Suppress one finding with a comment on, or just before, the statement — the reason is
required and shows up in every report:

```sql
CREATE INDEX orders_idx ON orders (customer_id); -- cutover: ignore[DSQL050] tool adds ASYNC
```

`-- cutover: ignore-file[DSQL046] reason` applies to a whole file; in Python or
TypeScript use `# cutover: ignore[…] reason` / `// cutover: ignore[…] reason` on the line of
the SQL string or the line above. Plans waive findings with `lint.waivers` (rule, path glob,
object, reason, reviewer, optional expiry).

In `cutover verify`, a plan with a `lint:` section gets one `dsql_compat` item per linted
file (`lint.paths`: SQL files, migration folders, application code) and, when the source is
PostgreSQL, one per table or view of its live schema (`schema:public.orders`: the catalog
rendered as DDL and linted, findings named by object; `lint.live_schema: false` turns it
off). `results.json` gains a `lint` section (files, schema objects, statements by verdict,
findings by rule, suppressed, rule pack) and lists every linted file with its sha256 under
`inputs`, so the sign-off covers the exact bytes that were linted.

Not rules, on purpose: features DSQL supports today and older advice still calls unsupported
— foreign keys (2026-08-26), sequences and identity columns with an explicit CACHE
(2026-02-13), JSON/JSONB columns (2026-05), expression indexes (2026-08-13), partial indexes
(2026-09-15), DROP COLUMN (2026-08-03), ALTER COLUMN DROP NOT NULL / SET DEFAULT, domains,
views, SET CONSTRAINTS, statistics objects, `UNIQUE … USING INDEX`, `FOR UPDATE` /
`FOR KEY SHARE`, `COPY … FROM STDIN`. Runtime-only limits (5-minute transactions, 128 MiB
query memory) cannot be seen in SQL text and are left to the runtime checks.

The files of one run are read as migrations, in order (names sorted by their numbers'
values, so `V2__…` runs before `V10__…`): a domain, an enum type or a table's primary key
created in an earlier file is known in a later one (DSQL040, DSQL044, DSQL084).

{conventions}
| id | name | severity | fix kind | autofix | as of | confirmed |
|---|---|---|---|---|---|---|
"""


def _conventions() -> str:
    """The migration tools whose transaction convention the linter applies by itself."""
    rows = "".join(f"| {tool} | {layout} | {does} |\n" for tool, layout, does in CONVENTIONS)
    code = "".join(f"| {tool} | {layout} | {does} |\n" for tool, layout, does in TOOLS)
    return (
        "Migration tools' transactions: a SQL file is assumed to run statement by statement "
        "(autocommit) unless `--assume-in-transaction` says otherwise, except in these "
        "layouts, where the tool's own convention is applied and named in the DSQL090/DSQL091 "
        "findings (`harness/lint/conventions.py`):\n\n| tool | layout | convention |\n"
        "|---|---|---|\n" + rows + "\nMigrations written as code are read the same way "
        "(`harness/lint/orm.py`): the SQL they hold (`execute`, `RunSQL`, `op.execute`, "
        "`knex.raw`, Kysely's `sql` template) is linted as SQL, and each call of the tool's "
        "schema API (`add_index`, `migrations.AddField`, `op.create_table`, "
        "`knex.schema.createTable`, `db.schema.createIndex` …) counts as one DDL statement "
        "(a data call such as `RunPython` or `bulk_insert` as DML), in the order written. "
        "Calls whose SQL DSQL is certain to reject are reported: an index built without "
        "ASYNC (DSQL050, or DSQL051 when CONCURRENTLY), a foreign key validated at once "
        "(DSQL029: Rails' `add_foreign_key`, Django's `ForeignKey`, Alembic's "
        "`create_foreign_key`, knex's `.foreign()`), an extension (DSQL067), an enum type "
        "(DSQL044).\n\n| tool | layout | convention |\n|---|---|---|\n" + code
    )


def _answer(r: Rule) -> str:
    """DSQL's refusal as the local DSQL answers it (``…`` where the statement is named)."""
    if r.answer is None:
        return ""
    words = "recorded" if r.answer.recorded else "unconfirmed"
    message = r.answer.message.replace("{detail}", "…")
    return f"DSQL answers: `{r.answer.sqlstate} {message}` ({words}).\n\n"


def markdown() -> str:
    """The rule reference as Markdown."""
    out = [
        _HEADER.format(version=PACK_VERSION, cross=CROSS_CHECKED_WITH, conventions=_conventions())
    ]
    for r in RULES:
        out.append(
            f"| [{r.id}](#{r.id.lower()}) | {r.name} | {r.severity.value} | {r.fix_kind.value} "
            f"| {'yes' if r.autofix else 'no'} | {r.as_of} | {'yes' if r.confirmed else 'no'} |\n"
        )
    for r in RULES:
        sources = "; ".join(f"[{s}] {SOURCES.get(s, s)}" for s in r.sources)
        out.append(
            f"\n## {r.id}\n\n**{r.name}** — {r.severity.value}: {r.summary}.\n\n{r.rationale}\n\n"
            f"{_answer(r)}"
            f"Bad ({r.dialect}):\n\n```sql\n{r.bad}\n```\n\nGood:\n\n```sql\n{r.good}\n```\n\n"
            f"Fix ({r.fix_kind.value}): {r.fix}.\n\nScope: {r.scope}. As of {r.as_of}"
            f"{'' if r.confirmed else ' (unconfirmed on a real cluster)'}. Sources: {sources}\n"
        )
    return "".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
