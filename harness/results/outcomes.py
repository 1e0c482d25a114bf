"""The checks a run records about itself: what a pytest report becomes when no check was
recorded, and the ``error`` checks of a run that did not reach its end (items that never
ran, an interruption, a stop before the first check), so results.json's own checks make
such a run NO-GO. Shared by the pytest plugin and the record of a plan that did not load."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from harness.endpoints.redact import scrub

RUN_AREA = "run"
"""The area of the checks about the run itself."""


def run_error(name: str, nodeid: str, summary: str) -> dict[str, Any]:
    """An ``error`` check about the run (``run[start]``, ``run[<nodeid>]``)."""
    return {
        "id": f"{RUN_AREA}[{nodeid or name}]",
        "area": RUN_AREA,
        "name": name,
        "status": "error",
        "summary": scrub(summary),
        "duration_s": 0.0,
        "findings": [],
        "evidence": {},
        "nodeid": nodeid,
    }


def unfinished(
    selected: Iterable[str], reported: Mapping[str, Any], stopped: str | None, ended: object
) -> tuple[list[dict[str, Any]], str | None]:
    """An incomplete run's error checks and verdict reason; ``([], None)`` for a run that
    reached its end with every ``selected`` item ``reported``.

    Each item selected but never reported (the one running when a signal came, those after
    it, those a worker never got to) is an ``error`` check; a run ``stopped`` after every
    item reported gets one error check for the interruption. ``ended`` is pytest's
    ``shouldstop``/``shouldfail`` (``-x``, ``--maxfail``: a message)."""
    chosen = list(selected)
    missing = [nodeid for nodeid in chosen if nodeid not in reported]
    if not missing and stopped is None:
        return [], None
    if stopped is not None:
        head = f"run incomplete, interrupted ({stopped})"
    else:
        head = f"run incomplete ({ended})" if isinstance(ended, str) else "run incomplete"
    if not missing:
        reason = f"{head} before it ended, so its checks are not a verdict"
        return [run_error("interrupted", "", reason)], reason
    names = [nodeid.rsplit("/", 1)[-1] for nodeid in missing]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    reason = f"{head}: {len(missing)} of {len(chosen)} selected items never ran: {shown}"
    checks = [
        run_error(name, nodeid, f"never ran: {head}")
        for name, nodeid in zip(names, missing, strict=True)
    ]
    return checks, reason


def from_report(report: pytest.TestReport) -> dict[str, Any]:
    """A test that recorded nothing (crashed in a fixture, or a team's own plain test)."""
    name = report.nodeid.split("::")[-1]
    if report.passed:
        status, summary = "pass", "passed"
    elif report.skipped:
        status, summary = "skip", _why(report)
    else:
        status = "error" if report.when != "call" else "fail"
        summary = _why(report)
    return {
        "id": f"test[{name}]",
        "area": "tests",
        "name": name,
        "status": status,
        "summary": scrub(summary),
        "duration_s": round(report.duration, 6),
        "findings": [],
        "evidence": {},
        "nodeid": report.nodeid,
    }


def _why(report: pytest.TestReport) -> str:
    """One line saying why a team test did not pass: the exception's message, not its place."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # skips: (file, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or "").strip()
    if message:
        return message.splitlines()[0]
    text = str(report.longreprtext or "").strip().splitlines()
    return next((line.strip() for line in reversed(text) if line.strip()), report.outcome)
