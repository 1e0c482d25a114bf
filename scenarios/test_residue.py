"""Nothing left behind (SC-004): one item per scanned file, and the DSQL target check (SC-001).

Paths come from the plan's ``retired.paths``; each file is one item, named by its root folder
and its path inside it (``after/.env``), so a reviewer sees which file still points at the
retired cluster. Allowlisted references stay visible in the item's findings, marked as waived
with their reason.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.errors import HarnessError
from harness.plugin import CutoverRun, not_applicable, planned_run, usage_error
from harness.residue.checks import AREA, TARGET_AREA, check_file, check_target
from harness.residue.identifiers import Matcher
from harness.residue.scan import Source, discover, short_names
from harness.residue.settings import RetiredSettings
from harness.results.check import CheckResult

NO_SECTION = "the plan has no retired: section with paths to scan"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One ``residue_source`` per file under ``retired.paths``; one ``residue_target``."""
    wanted = {"residue_source", "residue_target"} & set(metafunc.fixturenames)
    if not wanted:
        return
    name = wanted.pop()
    run = planned_run(metafunc, name)
    if run is None:
        return
    settings = run.plan.retired
    if settings is None or not settings.paths:
        not_applicable(metafunc, name)
        return
    if name == "residue_target":
        metafunc.parametrize(name, [settings.target], ids=[settings.target])
        return
    try:
        sources = discover(list(settings.paths), settings, skip=[run.loaded.path])
    except HarnessError as exc:
        raise usage_error(metafunc.config, f"{run.loaded.path}: retired.paths: {exc}") from None
    labelled = short_names(sources)
    metafunc.parametrize("residue_source", labelled, ids=[s.shown for s in labelled])


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
