"""The fault suite: one item per (fault x connection path), each fault injected for real.

:func:`items` lists the cells a plan's ``faults:`` section asks for; :func:`run_item`
injects one fault on one path into the :class:`~harness.faults.bed.FaultBed` and returns a
:class:`~harness.faults.outcome.FaultOutcome` (one row of the fault matrix). The paths live in
:mod:`harness.faults.paths` (``harness``: the harness's own PostgreSQL sessions; ``aws``: its
Secrets Manager read; ``app``: the application's own connect path). ``reset_during_rows``
needs the plan's tables and runs from the scenario (:mod:`harness.faults.parity`).
"""

from __future__ import annotations

from harness.errors import HarnessError
from harness.faults.bed import FaultBed, dummy_aws_credentials
from harness.faults.outcome import AREA, FAULTS, FAULTS_BY_NAME, Fault, FaultOutcome
from harness.faults.settings import FaultSettings

__all__ = [
    "AREA",
    "FAULTS",
    "FAULTS_BY_NAME",
    "Fault",
    "FaultBed",
    "FaultOutcome",
    "dummy_aws_credentials",
    "items",
    "run_item",
]


def items(settings: FaultSettings) -> list[tuple[str, str]]:
    """The (path, fault) pairs the plan asks for, in registry order."""
    wanted = set(settings.faults)
    return [
        (path, fault.name)
        for path in settings.paths
        for fault in FAULTS
        if fault.name in wanted and path in fault.paths
    ]


def run_item(bed: FaultBed, path: str, fault: str) -> FaultOutcome:
    """Inject ``fault`` on ``path`` and report how it ended."""
    from harness.faults.paths import app, aws, harness

    spec = FAULTS_BY_NAME[fault]
    if path == "harness":
        return harness.RUNNERS[fault](bed, spec)
    if path == "aws":
        return aws.run(bed, spec)
    if path == "app":
        return app.run(bed, spec)
    raise HarnessError(f"unknown fault path {path!r}")
