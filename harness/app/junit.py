"""A test suite's JUnit XML, read with junitparser into one :class:`TestOutcome` per test.

Test runners disagree on the shape: Jest (jest-junit), Vitest, pytest and Surefire put
``testcase`` elements in ``testsuite`` elements under ``testsuites``; Node's built-in
``--test-reporter=junit`` puts top-level tests straight under ``testsuites`` and nests a
``describe`` block's tests in a ``testsuite`` inside another. Every ``testcase`` is found
wherever it sits, and named by the suites around it, so two tests called ``works`` in two
``describe`` blocks stay two tests.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite
from junitparser.junitparser import Element

from harness.errors import CheckError

_SEPARATOR = " > "


class Outcome(enum.Enum):
    """How one test ended."""

    PASSED = "passed"
    """Ran and met every assertion."""
    FAILED = "failed"
    """An assertion did not hold (``<failure>``)."""
    ERROR = "error"
    """The test could not run to its end (``<error>``: a thrown exception, a failed hook)."""
    SKIPPED = "skipped"
    """Not run (``<skipped>``); neither a pass nor a failure."""


@dataclass(frozen=True)
class TestOutcome:
    """One test of one run."""

    __test__ = False  # not a pytest test class, whatever its name

    name: str
    """Its suites and its own name, joined by ``>`` (unique within a run)."""
    outcome: Outcome
    message: str = ""
    """The failure's or error's message (first line of its text when it has none)."""


def read_junit(path: Path) -> list[TestOutcome]:
    """Every test in the report at ``path``; a file that is missing, not JUnit, or holds no
    test is a :class:`CheckError` (a run that reported nothing proves nothing)."""
    if not path.is_file():
        raise CheckError(f"{path}: no JUnit report was written there")
    try:
        xml = JUnitXml.fromfile(str(path))
    except Exception as exc:  # lxml or ElementTree: any parse failure is an unreadable report
        raise CheckError(f"{path}: not a JUnit XML report ({type(exc).__name__}: {exc})") from None
    found: list[TestOutcome] = []
    seen: dict[str, int] = {}
    for suites, case in _cases(xml, ()):
        name = _SEPARATOR.join([*suites, _case_name(case)])
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:  # a runner that repeats a name (a retried or parametrized test)
            name = f"{name} #{seen[name]}"
        found.append(_outcome(name, case))
    if not found:
        raise CheckError(f"{path}: the JUnit report holds no test")
    return found


def _cases(element: Element, suites: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], TestCase]]:
    own = suites
    if isinstance(element, TestSuite) and element.name:
        own = (*suites, str(element.name))
    for child in element._elem:
        tag = child.tag
        if tag == "testcase":
            yield own, TestCase.fromelem(child)  # type: ignore[no-untyped-call]
        elif tag == "testsuite":
            yield from _cases(TestSuite.fromelem(child), own)  # type: ignore[no-untyped-call]


def _case_name(case: TestCase) -> str:
    name = str(case.name or "")
    classname = str(case.classname or "")
    # Node's reporter calls every class "test"; elsewhere the class tells two files apart.
    if classname and classname != "test":
        return f"{classname}{_SEPARATOR}{name}"
    return name


def _outcome(name: str, case: TestCase) -> TestOutcome:
    for result in case.result:
        if isinstance(result, Error | Failure):
            kind = Outcome.ERROR if isinstance(result, Error) else Outcome.FAILED
            return TestOutcome(name, kind, _message(result.message, result.text))
    if any(isinstance(r, Skipped) for r in case.result):
        return TestOutcome(name, Outcome.SKIPPED)
    return TestOutcome(name, Outcome.PASSED)


def _message(message: str | None, text: str | None) -> str:
    if message and message.strip():
        return " ".join(message.split())
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return "no message"
