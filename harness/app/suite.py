"""The application's own test suite, once against each side, compared test by test.

Each run gets its side through the environment (:mod:`harness.app.sides`) and must write a
fresh JUnit report (the previous one is deleted first, so a stale file can never pass for a
run). Per test, by name:

- passed on the source, failed or errored on the target: an error naming the test and the
  target's message — the migration broke it;
- passed on the source, skipped on the target or absent from its report: an error too (a
  suite that skips when it cannot reach its database must not pass for one that ran);
- failed on both: a warning showing both messages — reported, not blamed on the migration;
- failed on the source only, or reported by the target only: shown as information.

A command that cannot start, runs out of time or writes no readable report is an error, and
so is a pair of runs in which no test passed on the target at all (such a suite proves
nothing about it). A target run that exits non-zero while its report shows no failure, after
a source run that exited 0, is an error as well: something the report does not show broke.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.app import process
from harness.app.junit import Outcome, TestOutcome, read_junit
from harness.app.settings import AppTests
from harness.app.sides import Pointed, pointed_at
from harness.endpoints.resolve import Connector
from harness.errors import CheckError
from harness.results.check import CheckResult, Finding, FindingKind, Severity, conclude

AREA = "app_tests"
_SHOWN_TESTS = 50
"""Evidence keeps this many differing tests in full (the counts are always exact)."""


@dataclass(frozen=True)
class SuiteRun:
    """One run of the suite against one side."""

    side: str
    shown: str
    exit_code: int
    seconds: float
    tests: tuple[TestOutcome, ...]
    tail: str

    def counts(self) -> dict[str, int]:
        return {o.value: sum(t.outcome is o for t in self.tests) for o in Outcome}

    def evidence(self) -> dict[str, Any]:
        return {
            "database": self.shown,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "tests": self.counts(),
            "output_tail": self.tail,
        }


def check_name(settings: AppTests) -> str:
    """The item's name: the command as the plan gives it."""
    return settings.command


def run_suite(settings: AppTests, pointed: Pointed) -> SuiteRun:
    """Run the suite once against the side ``pointed`` describes and read its report."""
    report = settings.cwd / settings.junit
    try:
        report.unlink(missing_ok=True)
    except OSError as exc:
        raise CheckError(f"cannot remove the previous JUnit report {report}: {exc}") from None
    start = time.perf_counter()
    finished = process.run(
        settings.argv,
        cwd=settings.cwd,
        env=process.environment(pointed, settings.env),
        timeout_s=settings.timeout_s,
        pointed=pointed,
    )
    seconds = time.perf_counter() - start
    if finished.exit_code is None:
        raise CheckError(
            f"'{settings.command}' against the {pointed.side} did not finish within "
            f"{settings.timeout_s:g} s (app_tests.timeout_s); "
            f"last output: {process.gist(finished.tail)}"
        )
    try:
        tests = read_junit(report)
    except CheckError as exc:
        raise CheckError(
            f"'{settings.command}' against the {pointed.side} exited {finished.exit_code}: "
            f"{pointed.scrub(str(exc))}; last output: {process.gist(finished.tail)}"
        ) from None
    scrubbed = tuple(
        TestOutcome(pointed.scrub(t.name), t.outcome, pointed.scrub(t.message)) for t in tests
    )
    return SuiteRun(
        pointed.side, pointed.shown, finished.exit_code, seconds, scrubbed, finished.tail
    )


def run_both(settings: AppTests, connectors: dict[str, Connector]) -> dict[str, SuiteRun]:
    """The suite against the source, then against the target, each on its own database."""
    runs: dict[str, SuiteRun] = {}
    with tempfile.TemporaryDirectory(prefix="cutover-app-") as workdir:
        for side in ("source", "target"):
            allow = side in settings.allow_writes
            with pointed_at(connectors[side], allow_writes=allow, workdir=Path(workdir)) as pointed:
                runs[side] = run_suite(settings, pointed)
    return runs


def compare(name: str, source: SuiteRun, target: SuiteRun) -> CheckResult:
    """Test by test, as the module docstring says."""
    before = {t.name: t for t in source.tests}
    after = {t.name: t for t in target.tests}
    failing = (Outcome.FAILED, Outcome.ERROR)
    findings: list[Finding] = []
    rows: list[dict[str, Any]] = []
    for test_name in [*before, *(n for n in after if n not in before)]:
        was, now = before.get(test_name), after.get(test_name)
        finding = _judge(test_name, was, now, failing)
        if finding is None:
            continue
        findings.append(finding)
        rows.append(
            {
                "test": test_name,
                "source": was.outcome.value if was else "absent",
                "target": now.outcome.value if now else "absent",
                "source_message": was.message if was else "",
                "target_message": now.message if now else "",
            }
        )
    passed = sum(t.outcome is Outcome.PASSED for t in target.tests)
    if passed == 0:
        findings.append(
            _finding(
                "(the suite)",
                Severity.ERROR,
                "no test passed on the target: the suite proves nothing about it",
            )
        )
    elif target.exit_code != 0 and source.exit_code == 0 and not any(f.blocking for f in findings):
        findings.append(
            _finding(
                "(the suite)",
                Severity.ERROR,
                f"the suite exited {target.exit_code} on the target (0 on the source) though "
                "its report shows no test failing there; see its output",
            )
        )
    evidence: dict[str, Any] = {
        "command": name,
        "source": source.evidence(),
        "target": target.evidence(),
        "differences": rows[:_SHOWN_TESTS],
    }
    if len(rows) > _SHOWN_TESTS:
        evidence["differences_not_shown"] = len(rows) - _SHOWN_TESTS
    total = len(target.tests)
    return conclude(
        AREA,
        name,
        findings,
        evidence,
        ok=f"{passed} of {total} tests pass on the target; none that passed on the source fails",
    )


def _judge(
    name: str, was: TestOutcome | None, now: TestOutcome | None, failing: tuple[Outcome, ...]
) -> Finding | None:
    if was is None:
        assert now is not None
        return _finding(name, Severity.INFO, f"{name}: only the target's run reports it")
    if was.outcome is Outcome.PASSED:
        if now is None:
            return _finding(
                name,
                Severity.ERROR,
                f"{name}: passed on the source, not run on the target (absent from its report)",
            )
        if now.outcome in failing:
            verb = "fails" if now.outcome is Outcome.FAILED else "errors"
            return _finding(
                name,
                Severity.ERROR,
                f"{name}: passed on the source, {verb} on the target: {now.message}",
                source="passed",
                target=f"{now.outcome.value}: {now.message}",
            )
        if now.outcome is Outcome.SKIPPED:
            return _finding(
                name, Severity.ERROR, f"{name}: passed on the source, skipped on the target"
            )
        return None
    if was.outcome in failing:
        if now is not None and now.outcome in failing:
            return _finding(
                name,
                Severity.WARNING,
                f"{name}: fails on both sides (not the migration's doing): {now.message}",
                source=f"{was.outcome.value}: {was.message}",
                target=f"{now.outcome.value}: {now.message}",
            )
        return _finding(
            name,
            Severity.INFO,
            f"{name}: fails on the source ({was.message}), "
            f"{now.outcome.value if now else 'absent'} on the target",
        )
    return None


def _finding(
    test: str,
    severity: Severity,
    message: str,
    *,
    source: str | None = None,
    target: str | None = None,
) -> Finding:
    return Finding(FindingKind.APP_TEST, severity, test, message, source=source, target=target)
