"""The run record: check results in, ``results.json`` (the single source of truth) out.

The controller collects one plain dict per test item — from every pytest-xdist worker — and
:func:`build_results` derives the verdict from them. ``schemas/results.schema.json``
describes the document; the HTML report is rendered from the document alone.
"""

from __future__ import annotations

import json
import platform
from collections import Counter
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from harness.lint.summary import results_section

FORMAT = "cutover.results/1"
VERDICTS = ("GO", "GO WITH WAIVERS", "NO-GO")
AREA_ORDER = (
    "connectivity",
    "schema",
    "row_count",
    "rows",
    "queries",
    "latency",
    "dsql_compat",
    "residue",
    "residue_target",
    "posture",
    "dynamo",
    "faults",
)
DEFAULT_REPORT_DIR = Path("reports/out")


def harness_version() -> str:
    try:
        return version("cutover")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


def environment(source: dict[str, Any], target: dict[str, Any], workers: int) -> dict[str, Any]:
    """The fingerprint a reviewer needs to trust (or reproduce) the run."""
    return {
        "harness_version": harness_version(),
        "python": platform.python_version(),
        "platform": f"{platform.system()}-{platform.machine()}",
        "pytest_workers": workers,
        "source": source,
        "target": target,
    }


def verdict(checks: list[dict[str, Any]]) -> tuple[str, str]:
    """GO, GO WITH WAIVERS or NO-GO, and a one-line reason."""
    bad = [c["id"] for c in checks if c["status"] in ("fail", "error")]
    if not checks:
        return "NO-GO", "no check ran, so nothing was proven"
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        return "NO-GO", f"{len(bad)} check(s) failed or could not run: {shown}"
    skipped = sum(1 for c in checks if c["status"] == "skip")
    if skipped == len(checks):  # a skip proves nothing: all skipped is no evidence at all
        return "NO-GO", f"{skipped} of {skipped} checks skipped, so nothing was proven"
    also = f" ({skipped} skipped)" if skipped else ""
    waived = [c["id"] for c in checks if c["status"] == "waived"]
    if waived:
        return "GO WITH WAIVERS", (
            f"all checks pass{also}; {len(waived)} rely on reviewed expected "
            f"differences: {', '.join(waived[:5])}"
        )
    return "GO", f"all {len(checks) - skipped} checks pass{also}"


def _order(check: dict[str, Any]) -> tuple[int, str, str]:
    area = check["area"]
    rank = AREA_ORDER.index(area) if area in AREA_ORDER else len(AREA_ORDER)
    return rank, area, check["id"]


def build_results(
    *,
    plan: dict[str, Any],
    checks: list[dict[str, Any]],
    expected_differences: list[dict[str, Any]],
    env: dict[str, Any],
    started: datetime,
    finished: datetime,
) -> dict[str, Any]:
    checks = sorted(checks, key=_order)
    outcome, reason = verdict(checks)
    counts = Counter(c["status"] for c in checks)
    optional = {"inputs": _inputs(checks), "lint": results_section(checks)}
    return {
        "format": FORMAT,
        "plan": plan,
        "verdict": outcome,
        "verdict_reason": reason,
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "duration_s": round((finished - started).total_seconds(), 3),
        "summary": {s: counts.get(s, 0) for s in ("pass", "fail", "error", "waived", "skip")},
        "environment": env,
        "checks": checks,
        "expected_differences": expected_differences,
        **{key: value for key, value in optional.items() if value},
    }


def _inputs(checks: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The files checks read (``evidence.inputs``: linted SQL, scanned IaC), once each, so
    the sign-off hashes exactly what was checked."""
    seen: dict[str, dict[str, str]] = {}
    for check in checks:
        for entry in (check.get("evidence") or {}).get("inputs") or []:
            seen.setdefault(entry["path"], entry)
    return [seen[path] for path in sorted(seen)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_results(results: dict[str, Any], report_dir: Path) -> tuple[Path, Path]:
    """Write the report folder (results.json, report.html, junit.xml, results.sarif) into
    ``report_dir``; return the paths of results.json and report.html.

    The one write path of a run: :func:`harness.report.folder.write_folder` owns the file
    names and the canonical form, and `cutover report` re-derives the same bytes from it.
    """
    from harness.report.folder import write_folder

    written = write_folder(results, report_dir)
    return written.results, written.html


def read_results(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def now() -> datetime:
    return datetime.now(UTC)
