"""Nothing left behind (SC-004): one item per scanned file, and the DSQL target check (SC-001).

Paths come from the plan's ``retired.paths``; each file is one item, named by its root folder
and its path inside it (``after/.env``), so a reviewer sees which file still points at the
retired cluster. Allowlisted references stay visible in the item's findings, marked as waived
with their reason.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.plugin import CutoverRun
from harness.residue.checks import AREA, TARGET_AREA, check_file, check_target
from harness.residue.identifiers import Matcher
from harness.residue.scan import Source
from harness.residue.settings import RetiredSettings
from harness.results.check import CheckResult

NO_SECTION = "the plan has no retired: section with paths to scan"


@pytest.fixture(scope="session")
def retired(cutover: CutoverRun) -> RetiredSettings:
    if cutover.plan.retired is None or not cutover.plan.retired.paths:
        pytest.skip(NO_SECTION)
    return cutover.plan.retired


@pytest.fixture(scope="session")
def matcher(retired: RetiredSettings) -> Matcher:
    """The plan's identifiers compiled once for every file."""
    return Matcher(retired)


def test_residue(
    residue_source: Source,
    retired: RetiredSettings,
    matcher: Matcher,
    cutover: CutoverRun,
    record: Callable[[CheckResult], None],
) -> None:
    record(
        cutover.run_check(
            AREA,
            residue_source.shown,
            lambda: check_file(residue_source, retired, matcher=matcher),
        )
    )


def test_residue_target(
    residue_target: str,
    retired: RetiredSettings,
    cutover: CutoverRun,
    record: Callable[[CheckResult], None],
) -> None:
    """SC-001: with a DSQL target, exactly one AWS::DSQL::Cluster and no RDS cluster."""
    record(
        cutover.run_check(
            TARGET_AREA,
            residue_target,
            lambda: check_target(list(retired.paths), retired, short=True),
        )
    )
