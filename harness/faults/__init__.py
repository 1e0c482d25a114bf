"""Failure injection: prove the connection paths survive outages, throttling, slow and broken
networks and serialization conflicts, with no lost writes.

Modules, one noun each:

- :mod:`~harness.faults.proxy` — the TCP fault proxy (Toxiproxy's vocabulary on asyncio);
- :mod:`~harness.faults.aws` — AWS fault modes (botocore ``before-send``; a faulty HTTP front);
- :mod:`~harness.faults.db` — retried sessions: reconnects, whole-transaction retries, 40001;
- :mod:`~harness.faults.workload` — the no-lost-writes workload and its exact account;
- :mod:`~harness.faults.app_path` — the application's own connect path (callable or command);
- :mod:`~harness.faults.settings` — the plan's ``faults:`` section;
- :mod:`~harness.faults.outcome`, :mod:`~harness.faults.bed`, :mod:`~harness.faults.paths`,
  :mod:`~harness.faults.suite` — the fault x path matrix the scenario runs;
- :mod:`~harness.faults.parity` — a reset during the row comparison keeps the verdict;
- :mod:`~harness.faults.pytest_fixtures` — the ``fault_proxy`` fixture.
"""

from __future__ import annotations

from harness.faults.proxy import FaultProxy, ProxyError, Toxic

__all__ = ["FaultProxy", "ProxyError", "Toxic"]
