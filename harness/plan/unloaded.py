"""The record of a run whose plan did not load: what ``cutover verify`` leaves for CI.

A plan with bad YAML or a bad field stops ``cutover verify`` before pytest starts (exit 2, one
line). CI still uploads the report folder, so the folder says why: results.json with one
``error`` check ``run[start]`` carrying the plan's error (so NO-GO, never GO), from which
junit.xml and summary.md are derived, as the plugin does for a run that stops at its start.

results.json names each side's endpoint kind, read from the plan's text as far as it parses;
a side whose kind the text does not say (not YAML at all, or no known ``kind``) is recorded
as ``unknown``, never as a kind made up. Only a plan file that cannot be read at all gets no
folder: there is nothing to name or hash it by.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from harness.endpoints.redact import scrub
from harness.results.files import RESULTS_SCHEMA
from harness.results.outcomes import RUN_AREA, run_error
from harness.results.record import NO_SOURCE, UNREAD, build_results, environment, now


def recorded_kinds() -> frozenset[str]:
    """The endpoint kinds results.json may name (its schema's list)."""
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    return frozenset(schema["$defs"]["side"]["properties"]["kind"]["enum"])


def _sides(document: Any) -> dict[str, dict[str, Any]]:
    """Each side as far as the plan's text says: its kind (not reached), no source at all, or
    ``unknown`` where the text names no kind cutover knows (never a kind made up)."""
    sides: dict[str, dict[str, Any]] = {}
    known = recorded_kinds()
    for role in ("source", "target"):
        side = document.get(role) if isinstance(document, dict) else None
        if role == "source" and isinstance(document, dict) and side is None:
            sides[role] = dict(NO_SOURCE)  # a target-only plan
            continue
        kind = side.get("kind") if isinstance(side, dict) else None
        if kind not in known or kind in (NO_SOURCE["kind"], UNREAD["kind"]):
            sides[role] = dict(UNREAD)
            continue
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
    except OSError:
        return None  # no plan to name or hash: nothing to record it by
    try:
        document = yaml.safe_load(data)
    except (yaml.YAMLError, RecursionError):
        document = None
    sides = _sides(document)
    name = document.get("name") if isinstance(document, dict) else None
    reason = f"run stopped before any check: {scrub(message)}"
    results = build_results(
        plan={
            "name": name if isinstance(name, str) else plan_path.stem,
            "path": str(plan_path.resolve()),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        checks=[run_error("start", "", reason)],
        expected_differences=[],
        env=environment(sides["source"], sides["target"], 0),
        started=started,
        finished=now(),
        area_order=(RUN_AREA,),
    )
    results["verdict_reason"] = reason
    return results
