"""The application's own test suite, run against the source and against the target (each on
a database cutover made for the run), compared test by test: ``app_tests[<command>]``."""

from __future__ import annotations

from collections.abc import Callable

from harness.app.suite import AREA, compare, run_both
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_app_tests(
    app_suite: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    def check() -> CheckResult:
        settings = cutover.plan.app_tests
        assert settings is not None  # the section switches this item on
        runs = run_both(settings, cutover.connectors)
        return compare(app_suite, runs["source"], runs["target"])

    record(cutover.run_check(AREA, app_suite, check))
