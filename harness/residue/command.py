"""``cutover residue PATH… --plan FILE``: exit 0 clean, 1 findings, 2 usage error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harness.errors import HarnessError
from harness.residue.checks import AREA
from harness.results.check import CheckResult, Status
from harness.usage import fail

EXIT_CLEAN, EXIT_FINDINGS = 0, 1


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--plan",
    "plan_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Plan whose retired: section names the cluster being retired.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def residue(paths: tuple[Path, ...], plan_path: Path, output_format: str) -> None:
    """Find references to the retired database in infrastructure code (SC-004, SC-001)."""
    from harness.plan.load import load_section
    from harness.residue.checks import check_paths
    from harness.residue.settings import RetiredSettings

    try:
        settings: RetiredSettings = load_section(plan_path, "retired")
        results = check_paths(list(paths), settings, skip=[plan_path])
    except HarnessError as exc:
        fail(str(exc))
    if output_format == "json":
        click.echo(json.dumps(to_json(results), indent=2))
    else:
        click.echo(to_text(results), nl=False)
    bad = any(r.status in (Status.FAIL, Status.ERROR) for r in results)
    sys.exit(EXIT_FINDINGS if bad else EXIT_CLEAN)


def to_json(results: list[CheckResult]) -> dict[str, object]:
    return {
        "format": "cutover-residue",
        "version": 1,
        "summary": _counts(results),
        "results": [r.to_dict() for r in results],
    }


def _counts(results: list[CheckResult]) -> dict[str, int]:
    files = [r for r in results if r.area == AREA]
    return {
        "files": len(files),
        "files_with_findings": sum(bool(r.findings) for r in files),
        "code": sum(len(r.evidence.get("code", [])) for r in files),
        "comments": sum(len(r.evidence.get("comments", [])) for r in files),
        "allowed": sum(f.waived_by is not None for r in files for f in r.findings),
    }


def to_text(results: list[CheckResult]) -> str:
    """Code findings by file, then comment findings, then the target check and a total."""
    lines: list[str] = []
    files = [r for r in results if r.area == AREA]
    for title, key in (("in code", "code"), ("in comments and prose", "comments")):
        section = [(r, hit) for r in files for hit in r.evidence.get(key, [])]
        if not section:
            continue
        lines.append(f"Residue {title}:")
        for result, hit in section:
            allowed = f"  (allowed: {hit['allowed']['reason']})" if hit["allowed"] else ""
            lines.append(
                f"  {result.name}:{hit['line']}:{hit['column']}: {hit['rule']} "
                f"{hit['text']!r}: {hit['message']}{allowed}"
            )
        lines.append("")
    for result in results:
        if result.status is Status.ERROR:
            lines.append(f"error: {result.name}: {result.summary}")
    for result in results:
        if result.area != AREA:
            lines.append(f"{result.id}: {result.status.value}: {result.summary}")
    counts = _counts(results)
    lines.append(
        f"{counts['files']} file(s) scanned, {counts['files_with_findings']} with references: "
        f"{counts['code']} in code, {counts['comments']} in comments, "
        f"{counts['allowed']} allowed"
    )
    return "\n".join(lines) + "\n"
