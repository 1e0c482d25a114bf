"""The database that remains is configured safely: one item per posture check and subject.

Facts come from the AWS account through boto3 (read-only Describe/Get calls) or, when the plan
says so or no credentials resolve, from the synthesized templates (``posture.templates``).
Each item's evidence records which (``mode``).
"""

from __future__ import annotations

from collections.abc import Callable

from harness.capabilities import posture_results
from harness.plugin import CutoverRun
from harness.posture.checks import AREA
from harness.results.check import CheckResult


def test_posture(
    posture_check: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    record(cutover.run_check(AREA, posture_check, lambda: posture_results(cutover)[posture_check]))
