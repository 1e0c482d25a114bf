"""The database that remains is configured safely: one item per posture check and subject.

Facts come from the AWS account through boto3 (read-only Describe/Get calls) or, when the plan
says so or no credentials resolve, from the synthesized templates (``posture.templates``).
Each item's evidence records which (``mode``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.plugin import CutoverRun, not_applicable, planned_run
from harness.posture.checks import AREA
from harness.posture.mode import posture_results
from harness.posture.settings import PostureSettings
from harness.results.check import CheckResult

_RESULTS: dict[Path, dict[str, CheckResult]] = {}
"""Posture by plan, gathered once per process: the item ids are the checks' names."""


def _results(run: CutoverRun, settings: PostureSettings) -> dict[str, CheckResult]:
    if run.loaded.path not in _RESULTS:
        _RESULTS[run.loaded.path] = {r.name: r for r in posture_results(settings)}
    return _RESULTS[run.loaded.path]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One ``posture_check`` per check and subject (``storage_encrypted:app-db``…)."""
    if "posture_check" not in metafunc.fixturenames:
        return
    run = planned_run(metafunc, "posture_check")
    if run is None:
        return
    settings = run.plan.posture
    if settings is None:
        not_applicable(metafunc, "posture_check")
        return
    names = sorted(_results(run, settings))
    metafunc.parametrize("posture_check", names, ids=names)


def test_posture(
    posture_check: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    settings = cutover.plan.posture
    assert settings is not None  # collection skipped otherwise
    record(
        cutover.run_check(AREA, posture_check, lambda: _results(cutover, settings)[posture_check])
    )
