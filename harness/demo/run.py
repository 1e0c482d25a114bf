"""``cutover demo``: build a SQLite application database, migrate it, verify it.

The demo performs a real migration into an embedded PostgreSQL 16 (started here, owned here,
deleted at the end), optionally seeds the drift a hurried cutover causes, writes the plan it
verifies to the report folder, and runs the same scenarios as ``cutover verify``.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.demo.data import FACT_ROWS_DEFAULT, apply_drift, build_demo_sqlite
from harness.demo.queries import apply_query_drift, plan_sections
from harness.embedded.migrate import copy_sqlite
from harness.embedded.provision import PostgresCluster
from harness.faults.demo import plan_section as fault_section
from harness.verify import ensure_folder, run_scenarios

TARGET_DATABASE = "app"


def run_demo(
    report_dir: Path, *, drift: bool = False, fact_rows: int | None = None, workers: str = "0"
) -> int:
    """Run the demo end to end; return the verify exit code (0 GO, 1 NO-GO, 2 error)."""
    console = Console(stderr=True)
    work = ensure_folder(report_dir / "demo")
    app_db = work / "app.db"
    rows = FACT_ROWS_DEFAULT if fact_rows is None else fact_rows
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("build SQLite app database", total=rows)
        build_demo_sqlite(
            app_db,
            fact_rows=rows,
            progress=lambda done, total: progress.update(task, completed=done),
        )
        progress.update(task, completed=rows)
        boot = progress.add_task("start embedded PostgreSQL 16", total=1)
        with PostgresCluster() as cluster:
            progress.update(boot, completed=1)
            dsn = cluster.create_database(TARGET_DATABASE)
            copying = progress.add_task("migrate into PostgreSQL", total=None)
            copy_sqlite(
                app_db,
                dsn,
                progress=lambda table, done, total: progress.update(
                    copying,
                    description=f"migrate into PostgreSQL ({table})",
                    completed=done,
                    total=total,
                ),
            )
            progress.update(copying, description="migrate into PostgreSQL")
            if drift:
                with psycopg.connect(dsn) as conn:
                    for seeded in apply_drift(conn):
                        console.print(f"[yellow]drift:[/] {seeded.description}")
                    for seeded in apply_query_drift(conn):
                        console.print(f"[yellow]drift:[/] {seeded.description}")
            plan_path = _write_plan(work, app_db, dsn, drift=drift)
            progress.stop()
            console.print(f"verifying with plan {plan_path}")
            return run_scenarios(plan_path, report_dir, workers=workers)


def _write_plan(work: Path, app_db: Path, dsn: str, *, drift: bool) -> Path:
    """The plan the demo verifies: the SQLite file against the embedded server's database."""
    plan = {
        "name": "demo: SQLite app → PostgreSQL 16" + (" (with drift)" if drift else ""),
        "source": {"kind": "sqlite", "path": app_db.name},
        # A unix-socket DSN with no password: the server lives only as long as the demo.
        "target": {"kind": "postgres", "dsn": dsn},
        **plan_sections(),
        "faults": fault_section(),
    }
    path = work / "plan.yaml"
    path.write_text(
        "# Written by `cutover demo`; the target server is gone after the demo.\n"
        + yaml.safe_dump(plan, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return path
