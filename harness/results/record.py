"""The run record: check results in, ``results.json`` (the single source of truth) out.

The controller collects one plain dict per test item — from every pytest-xdist worker — and
:func:`build_results` derives the verdict from them with :func:`verdict` (from
:mod:`harness.results.files`, where every reader of results.json recomputes it).
``schemas/results.schema.json`` describes the document; the HTML report is rendered from the
document alone.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from harness.capabilities import BUILT_IN_AREAS
from harness.install import DISTRIBUTION
from harness.results.files import FORMAT, summary
from harness.results.files import verdict as verdict  # the run writes what readers recompute

NO_SOURCE = {"kind": "none", "display": "no source: a target-only plan", "server_version": None}
"""The run record's ``env.source`` for a plan without a source."""
UNREAD = {"kind": "unknown", "display": "not read: the plan did not load", "server_version": None}
"""A side of a plan that did not load, whose text names no endpoint kind cutover knows."""


def harness_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


def environment(
    source: dict[str, Any],
    target: dict[str, Any],
    workers: int,
    *,
    source_root: str | None = None,
) -> dict[str, Any]:
    """The fingerprint a reviewer needs to trust (or reproduce) the run.

    ``source_root`` is the repository the plan lives in (absolute): results.sarif names files
    relative to it, as code scanning expects."""
    env: dict[str, Any] = {
        "harness_version": harness_version(),
        "python": platform.python_version(),
        "platform": f"{platform.system()}-{platform.machine()}",
        "pytest_workers": workers,
        "source": source,
        "target": target,
    }
    if source_root is not None:
        env["source_root"] = source_root
    return env


def _order(area_order: Sequence[str]) -> Callable[[dict[str, Any]], tuple[int, str, str]]:
    """Checks in the registry's area order (unknown areas after, by name), then by id."""
    rank = {area: i for i, area in enumerate(area_order)}

    def key(check: dict[str, Any]) -> tuple[int, str, str]:
        return rank.get(check["area"], len(rank)), check["area"], check["id"]

    return key


def build_results(
    *,
    plan: dict[str, Any],
    checks: list[dict[str, Any]],
    expected_differences: list[dict[str, Any]],
    env: dict[str, Any],
    started: datetime,
    finished: datetime,
    area_order: Sequence[str] | None = None,
    sections: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The results.json document. ``area_order`` is the report's order of areas (default: the
    built-in capabilities'); ``sections`` are the capabilities' own top-level summaries
    (``lint``), each left out when empty."""
    if area_order is None:
        area_order = BUILT_IN_AREAS
    checks = sorted(checks, key=_order(area_order))
    outcome, reason = verdict(checks)
    optional = {"inputs": _inputs(checks), **(sections or {})}
    return {
        "format": FORMAT,
        "plan": plan,
        "verdict": outcome,
        "verdict_reason": reason,
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "duration_s": round((finished - started).total_seconds(), 3),
        "summary": summary(checks),
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


def now() -> datetime:
    return datetime.now(UTC)
