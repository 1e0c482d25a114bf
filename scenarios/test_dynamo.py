"""DynamoDB untouched: each table of ``dynamo.tables`` holds the same items as the baseline.

The baseline is a ``cutover dynamo snapshot`` taken before the cutover (``dynamo.baseline``);
the scenario takes a fresh snapshot (counts and digests only, never item values) and compares
them table by table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from harness.dynamo.compare import AREA, compare_table
from harness.dynamo.settings import DynamoSettings
from harness.dynamo.snapshot import Snapshot, read_snapshot, take_snapshot
from harness.plugin import CutoverRun, not_applicable, planned_run
from harness.results.check import CheckResult

_SNAPSHOTS: dict[Path, tuple[Snapshot, Snapshot]] = {}
"""(baseline, now) by plan, taken once per process."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One ``dynamo_table`` per table the plan names."""
    if "dynamo_table" not in metafunc.fixturenames:
        return
    run = planned_run(metafunc, "dynamo_table")
    if run is None:
        return
    settings = run.plan.dynamo
    if settings is None or settings.baseline is None:
        # dynamo: without a baseline serves `cutover dynamo snapshot`, which makes one.
        not_applicable(metafunc, "dynamo_table")
        return
    metafunc.parametrize("dynamo_table", settings.tables, ids=list(settings.tables))


def _snapshots(run: CutoverRun, settings: DynamoSettings) -> tuple[Snapshot, Snapshot]:
    if run.loaded.path not in _SNAPSHOTS:
        assert settings.baseline is not None  # collection skipped otherwise
        _SNAPSHOTS[run.loaded.path] = (read_snapshot(settings.baseline), take_snapshot(settings))
    return _SNAPSHOTS[run.loaded.path]


def test_dynamo(
    dynamo_table: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    settings = cutover.plan.dynamo
    assert settings is not None  # collection skipped otherwise

    def compute() -> CheckResult:
        before, now = _snapshots(cutover, settings)
        result = compare_table(dynamo_table, before, now)
        assert settings.baseline is not None  # collection skipped otherwise
        baseline = {
            "path": str(settings.baseline),
            "sha256": hashlib.sha256(settings.baseline.read_bytes()).hexdigest(),
            "kind": "snapshot",
        }
        return replace(result, evidence={**result.evidence, "inputs": [baseline]})

    record(cutover.run_check(AREA, dynamo_table, compute))
