"""The fault suite ``cutover demo`` runs: short (a few seconds), every kind of outcome shown.

Transient faults that must recover (refused, reset mid-query, black hole, server restart,
40001 conflicts), a permanent one that must fail clearly (wrong password), injected latency
the budget must catch, a reset during the row comparison, and a small no-lost-writes run. The
AWS path needs a moto server and botocore's own backoff, seconds more: plans opt into it.
"""

from __future__ import annotations

from typing import Any

DEMO_FAULTS = (
    "refused",
    "reset_mid_query",
    "black_hole",
    "server_restart",
    "conflict",
    "wrong_password",
    "slow_network",
    "reset_during_rows",
    "no_lost_writes",
)


def plan_section() -> dict[str, Any]:
    """The demo plan's ``faults:`` section (plain data, written into its plan.yaml)."""
    return {
        "faults": list(DEMO_FAULTS),
        "paths": ["harness"],
        "samples": 5,
        "writes": 100,
    }
