"""The fault suite ``cutover demo`` runs: short (a few seconds), every kind of outcome shown.

Transient faults that must recover (refused, reset mid-query, black hole, server restart,
40001 conflicts), a permanent one that must fail clearly (wrong password), injected latency
the budget must catch, a reset during the row comparison, and a small no-lost-writes run. The
AWS path needs a moto server and botocore's own backoff, seconds more: plans opt into it.

``cutover demo --to dsql`` runs the same faults on a local DSQL bed (``bed: dsql-local``):
fresh IAM tokens per connection, a token signed with other keys refused, conflicts failing at
``COMMIT`` with OC000, and the reset during the row comparison through the guard.
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


def plan_section(*, bed: str = "postgres") -> dict[str, Any]:
    """The demo plan's ``faults:`` section (plain data, written into its plan.yaml)."""
    return {
        "bed": bed,
        "faults": list(DEMO_FAULTS),
        "paths": ["harness"],
        "samples": 5,
        "writes": 100,
    }
