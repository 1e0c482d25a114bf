"""``cutover demo --to dsql``: the second journey, Aurora PostgreSQL → Aurora DSQL, locally.

The source stands in for the application's Aurora PostgreSQL: an embedded PostgreSQL 16
holding the demo data in PostgreSQL shape, with what DSQL refuses (:data:`AURORA_MIGRATION`).
The demo lints that schema as a team would before the move, starts a local DSQL
(:mod:`harness.dsql_local`), applies the DSQL-ready schema one statement per transaction,
copies the rows in transactions of at most 3,000 rows (DSQL's limit), optionally seeds the
drift a hurried move causes, and verifies through the ``dsql`` endpoint path a real cluster
takes (a fresh IAM token per connection, TLS verified against the endpoint name).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml
from psycopg import sql
from rich.console import Console

from harness.demo.data import FACT_ROWS_DEFAULT, build_demo_sqlite
from harness.demo.dsql_schema import AURORA_MIGRATION, DSQL_SCHEMA
from harness.demo.queries import plan_sections
from harness.dsql_local.endpoint import run_script
from harness.dsql_local.identity import process_identity
from harness.dsql_local.server import DsqlLocal
from harness.embedded.migrate import copy_sqlite
from harness.embedded.provision import PostgresCluster, postgres_bin
from harness.faults.demo import plan_section as fault_section
from harness.verify import ensure_folder, run_scenarios

TRANSACTION_ROWS = 3_000
"""Rows per copy transaction: Aurora DSQL's limit on rows one transaction modifies."""
_TABLES = ("groups", "users", "people", "accounts", "group_members", "events")
"""Copy order: parents first (the foreign keys are NOT VALID, but a reader mid-copy should
never see an orphan)."""


@dataclass(frozen=True)
class DsqlDrift:
    name: str
    description: str
    statement: str
    expect: str
    """The check id the drift must fail."""


DRIFT: tuple[DsqlDrift, ...] = (
    DsqlDrift(
        "missing_rows",
        "a copy transaction of events was lost: every event whose id is a multiple of 1000 "
        "is missing on DSQL",
        "DELETE FROM events WHERE mod(id, 1000) = 0",
        "rows[events]",
    ),
    DsqlDrift(
        "rounded_balances",
        "a transform rounded balances to whole units on accounts whose id is a multiple of 97",
        "UPDATE accounts SET balance = round(balance) WHERE mod(id, 97) = 0"
        " AND balance <> round(balance)",
        "rows[accounts]",
    ),
    DsqlDrift(
        "missing_view",
        "the active_users view failed in the schema script and the run went on without it",
        "DROP VIEW active_users",
        "schema[views]",
    ),
)


def run_dsql_demo(
    report_dir: Path, *, drift: bool = False, fact_rows: int | None = None, workers: str = "0"
) -> int:
    """Run the Aurora PostgreSQL → DSQL demo; the verify exit code (0 GO, 1 NO-GO, 2)."""
    console = Console(stderr=True)
    work = ensure_folder(report_dir / "demo")
    rows = FACT_ROWS_DEFAULT if fact_rows is None else fact_rows
    app_db = work / "app.db"
    console.print(f"building the application's data ({rows:,} events)")
    build_demo_sqlite(app_db, fact_rows=rows)
    with PostgresCluster() as aurora, process_identity() as identity:
        console.print("starting the Aurora PostgreSQL stand-in (embedded PostgreSQL 16)")
        source_dsn = aurora.create_database("app")
        copy_sqlite(app_db, source_dsn)
        with psycopg.connect(source_dsn, autocommit=True) as conn:
            conn.execute(AURORA_MIGRATION)
        lint_dir = _write_schemas(work, source_dsn)
        _show_lint(console, lint_dir / "aurora")
        console.print("starting a local Aurora DSQL")
        with DsqlLocal(identity=identity) as dsql:
            statements = run_script(dsql, lint_dir / "dsql" / "001_schema.sql", "target")
            console.print(f"applied the DSQL-ready schema: {statements} statements, one each")
            copied = copy_rows(
                source_dsn,
                dsql,
                progress=lambda t, n: console.print(
                    f"  copied {t}: {n:,} rows in transactions of at most {TRANSACTION_ROWS:,}"
                ),
            )
            console.print(f"copied {sum(copied.values()):,} rows")
            if drift:
                with psycopg.connect(dsql.conninfo(password=dsql.token()), autocommit=True) as c:
                    for seeded in DRIFT:
                        c.execute(seeded.statement)
                        console.print(f"[yellow]drift:[/] {seeded.description}")
            plan = _write_plan(work, source_dsn, dsql, lint_dir / "dsql", drift=drift)
            console.print(f"verifying with plan {plan}")
            return run_scenarios(plan, report_dir, workers=workers)


def copy_rows(
    source_dsn: str, dsql: DsqlLocal, *, progress: Callable[[str, int], None]
) -> dict[str, int]:
    """Copy every demo table in key order, each block of rows in its own transaction."""
    copied: dict[str, int] = {}
    with (
        psycopg.connect(source_dsn) as source,
        psycopg.connect(dsql.conninfo(password=dsql.token()), autocommit=True) as target,
    ):
        for table in _TABLES:
            columns = [
                r[0]
                for r in source.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
                    " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                    (table,),
                )
            ]
            names = sql.SQL(", ").join(map(sql.Identifier, columns))
            select = sql.SQL("SELECT {} FROM {} ORDER BY 1, 2").format(names, sql.Identifier(table))
            copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
            count = 0
            with source.cursor(name=f"copy_{table}") as rows:
                rows.execute(select)
                while block := rows.fetchmany(TRANSACTION_ROWS):
                    with target.cursor() as cursor, cursor.copy(copy) as out:
                        for row in block:
                            out.write_row(row)  # an enum value reads as its text
                    count += len(block)
            copied[table] = count
            progress(table, count)
    return copied


def _write_schemas(work: Path, source_dsn: str) -> Path:
    """The schemas a team reviews: Aurora's (pg_dump of the source plus its migration) and
    the DSQL-ready rewrite, under ``work/schemas``."""
    root = work / "schemas"
    (root / "aurora").mkdir(parents=True, exist_ok=True)
    (root / "dsql").mkdir(parents=True, exist_ok=True)
    dump = subprocess.run(
        [
            str(postgres_bin("pg_dump")),
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "-d",
            source_dsn,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    (root / "aurora" / "001_schema.sql").write_text(dump.stdout, encoding="utf-8")
    (root / "aurora" / "002_roles_ids_and_audit.sql").write_text(AURORA_MIGRATION, "utf-8")
    (root / "dsql" / "001_schema.sql").write_text(DSQL_SCHEMA, encoding="utf-8")
    return root


def _show_lint(console: Console, folder: Path) -> None:
    """What ``cutover lint`` says of the Aurora schema: why the move needs a rewrite."""
    from harness.lint.api import lint_paths
    from harness.lint.settings import LintSettings

    report = lint_paths([folder], LintSettings(paths=(folder,)), jobs=1)
    by_rule = Counter(f"{f.rule_id} {f.name}" for f in report.findings)
    console.print(f"cutover lint {folder}: {sum(by_rule.values())} findings DSQL would refuse")
    for rule, count in sorted(by_rule.items()):
        console.print(f"  {count:3d}  {rule}")


def _write_plan(work: Path, source_dsn: str, dsql: DsqlLocal, schema: Path, *, drift: bool) -> Path:
    sections = plan_sections()
    sections["queries"]["dialect"] = "sqlite"  # written once in SQLite's dialect, transpiled
    plan = {
        "name": "demo: Aurora PostgreSQL → Aurora DSQL" + (" (with drift)" if drift else ""),
        "source": {"kind": "postgres", "dsn": source_dsn},
        "target": {
            "kind": "dsql",
            "endpoint": dsql.endpoint,
            "hostaddr": "127.0.0.1",
            "port": dsql.port,
            "sslmode": "verify-full",
            "sslrootcert": str(dsql.ca_file),
        },
        # The DSQL schema the target was built from; the Aurora source's own schema is what
        # the console's lint showed before the move (DSQL refuses it, hence the rewrite).
        "lint": {"paths": [str(schema.relative_to(work))], "live_schema": False},
        **sections,
        # On a local DSQL of their own (the bed restarts it and makes it conflict), except
        # reset_during_rows, which compares this target through a resetting proxy.
        "faults": fault_section(bed="dsql-local"),
    }
    path = work / "plan.yaml"
    path.write_text(
        "# Written by `cutover demo --to dsql`; both servers are gone after the demo.\n"
        + yaml.safe_dump(plan, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return path
