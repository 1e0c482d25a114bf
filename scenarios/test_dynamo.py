"""DynamoDB untouched: each table of ``dynamo.tables`` holds the same items as the baseline.

The baseline is a ``cutover dynamo snapshot`` taken before the cutover (``dynamo.baseline``);
the scenario takes a fresh snapshot (counts and digests only, never item values) and compares
them table by table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

from harness.dynamo.compare import AREA, compare_table
from harness.dynamo.snapshot import read_snapshot, take_snapshot
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_dynamo(
    dynamo_table: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    settings = cutover.plan.dynamo
    assert settings is not None  # collection skipped otherwise

    def compute() -> CheckResult:
        baseline_path = settings.baseline
        assert baseline_path is not None  # collection deselected the items otherwise
        before, now = cutover.memo(
            "dynamo.snapshots",
            lambda: (read_snapshot(baseline_path), take_snapshot(settings)),
        )
        result = compare_table(dynamo_table, before, now)
        assert settings.baseline is not None  # collection skipped otherwise
        baseline = {
            "path": str(settings.baseline),
            "sha256": hashlib.sha256(settings.baseline.read_bytes()).hexdigest(),
            "kind": "snapshot",
        }
        return replace(result, evidence={**result.evidence, "inputs": [baseline]})

    record(cutover.run_check(AREA, dynamo_table, compute))
