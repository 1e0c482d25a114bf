"""Connectivity: each side answers within the plan's connect budget; a reader like its writer.

One item per endpoint (``test_connectivity[source]``, ``[target]``) plus one per reader
endpoint (``[target-reader]``); evidence is the resolved, redacted endpoint, the server
version and every connect attempt.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.endpoints.connectivity import AREA, check_connect, check_reader
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_connectivity(
    endpoint_item: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    role, _, reader = endpoint_item.partition("-")
    connector = cutover.connectors[role]
    budget = cutover.plan.connect.connect_timeout_s
    record(
        cutover.run_check(
            AREA,
            endpoint_item,
            (lambda: check_reader(connector))
            if reader
            else (lambda: check_connect(connector, budget_s=budget)),
        )
    )
