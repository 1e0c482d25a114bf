"""The record of a run whose plan did not load: what ``cutover verify`` leaves for CI.

A plan with bad YAML or a bad field stops ``cutover verify`` before pytest starts (exit 2, one
line). CI still uploads the report folder, so the folder says why: results.json with one
``error`` check ``run[start]`` carrying the plan's error (so NO-GO, never GO), from which
junit.xml and summary.md are derived, as the plugin does for a run that stops at its start.

results.json names each side's endpoint kind, and its schema allows only real kinds, so the
kinds are read from the plan's text as far as it parses. A plan too broken to say which
endpoints it meant (not YAML at all, or no known ``kind`` on a side) gets no folder: writing
one would mean inventing a kind, and evidence must not be made up.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from harness.endpoints.redact import scrub
from harness.results.check import CheckResult, Status
from harness.results.files import RESULTS_SCHEMA
from harness.results.record import NO_SOURCE, build_results, environment, now

RUN_AREA = "run"
"""The area of checks about the run itself (as the plugin's)."""


def recorded_kinds() -> frozenset[str]:
    """The endpoint kinds results.json may name (its schema's list)."""
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    return frozenset(schema["$defs"]["side"]["properties"]["kind"]["enum"])


def _sides(document: Any) -> dict[str, dict[str, Any]] | None:
    if not isinstance(document, dict):
        return None
    sides: dict[str, dict[str, Any]] = {}
    known = recorded_kinds()
    for role in ("source", "target"):
        side = document.get(role)
        if role == "source" and side is None:  # a target-only plan
            sides[role] = dict(NO_SOURCE)
            continue
        kind = side.get("kind") if isinstance(side, dict) else None
        if kind not in known:
            return None
        sides[role] = {
            "kind": str(kind),
            "display": f"{kind} (not reached: the plan did not load)",
            "server_version": "not reached",
        }
    return sides


def plan_error_results(plan_path: Path, message: str) -> dict[str, Any] | None:
    """results.json for a plan that failed to load with ``message``; None when the plan
    does not say which kinds of endpoint it meant (see the module docstring)."""
    started = now()
    try:
        data = plan_path.read_bytes()
        document = yaml.safe_load(data)
    except (OSError, yaml.YAMLError, RecursionError):
        return None
    sides = _sides(document)
    if sides is None:
        return None
    name = document.get("name")
    reason = f"run stopped before any check: {scrub(message)}"
    results = build_results(
        plan={
            "name": name if isinstance(name, str) else plan_path.stem,
            "path": str(plan_path.resolve()),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        checks=[dict(CheckResult(RUN_AREA, "start", Status.ERROR, reason).to_dict(), nodeid="")],
        expected_differences=[],
        env=environment(sides["source"], sides["target"], 0),
        started=started,
        finished=now(),
        area_order=(RUN_AREA,),
    )
    results["verdict_reason"] = reason
    return results
