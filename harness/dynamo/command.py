"""``cutover dynamo snapshot --plan FILE --out FILE`` and ``cutover dynamo compare A B``.

Exit codes: 0 snapshot written / tables unchanged, 1 tables changed, 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.errors import HarnessError
from harness.results.check import Status
from harness.usage import fail

EXIT_SAME, EXIT_CHANGED = 0, 1


@click.group()
def dynamo() -> None:
    """Prove the DynamoDB tables came through the cutover untouched."""


@dynamo.command()
@click.option("--plan", "plan_path", required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bar.")
def snapshot(plan_path: Path, out_path: Path, quiet: bool) -> None:
    """Record each table's item count and digest (no item values) in a JSON file."""
    from harness.dynamo.settings import DynamoSettings
    from harness.dynamo.snapshot import snapshot_with_progress, take_snapshot, write_snapshot
    from harness.plan.load import load_section

    try:
        settings: DynamoSettings = load_section(plan_path, "dynamo")
        snap = take_snapshot(settings) if quiet else snapshot_with_progress(settings)
        write_snapshot(snap, out_path)
    except HarnessError as exc:
        fail(str(exc))
    for name, table in sorted(snap.tables.items()):
        click.echo(f"{name}: {table.items} items, digest {table.digest[:16]}…")
    click.echo(f"wrote {out_path}")


@dynamo.command()
@click.argument("before", type=click.Path(path_type=Path))
@click.argument("after", type=click.Path(path_type=Path))
def compare(before: Path, after: Path) -> None:
    """Compare two snapshots and name every table whose items changed."""
    from harness.dynamo.compare import compare as compare_snapshots
    from harness.dynamo.snapshot import read_snapshot

    try:
        results = compare_snapshots(read_snapshot(before), read_snapshot(after))
    except HarnessError as exc:
        fail(str(exc))
    changed = [r for r in results if r.status is not Status.PASS]
    for result in results:
        click.echo(f"{result.name}: {result.status.value}: {result.summary}")
    if changed:
        click.echo(f"changed: {', '.join(r.name for r in changed)}")
    sys.exit(EXIT_CHANGED if changed else EXIT_SAME)
