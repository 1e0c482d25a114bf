"""Failure injection: one item per (fault x connection path), from the plan's ``faults:``.

Each item injects its fault for real (TCP proxy, server restart, genuine 40001, faulty AWS
answers) into servers the harness starts for the purpose, except ``reset_during_rows``, which
compares the plan's own tables through a resetting proxy (reads only). The evidence of every
item is one row of the fault matrix in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from harness.faults.parity import check_reset_during_rows
from harness.faults.settings import FaultSettings
from harness.faults.suite import AREA, FaultBed, run_item
from harness.plugin import CutoverRun
from harness.results.check import CheckResult

NO_SECTION = "the plan has no faults: section"


@pytest.fixture(scope="module")
def fault_settings(cutover: CutoverRun) -> FaultSettings:
    if cutover.plan.faults is None:
        pytest.skip(NO_SECTION)
    return cutover.plan.faults


@pytest.fixture(scope="module")
def fault_bed(fault_settings: FaultSettings) -> Iterator[FaultBed]:
    """The servers faults are injected into (PostgreSQL, moto), created and deleted here."""
    with FaultBed(fault_settings) as bed:
        yield bed


def test_fault(
    fault_item: tuple[str, str],
    fault_bed: FaultBed,
    cutover: CutoverRun,
    record: Callable[[CheckResult], None],
) -> None:
    path, fault = fault_item
    if fault == "reset_during_rows":
        record(
            cutover.run_check(
                AREA,
                f"{path}:{fault}",
                lambda: check_reset_during_rows(
                    plan=cutover.plan,
                    scope=cutover.scope(),
                    source_db=cutover.database("source"),
                    target_db=cutover.database("target"),
                    target=cutover.connectors["target"],
                ),
            )
        )
        return
    record(
        cutover.run_check(
            AREA, f"{path}:{fault}", lambda: run_item(fault_bed, path, fault).result()
        )
    )
