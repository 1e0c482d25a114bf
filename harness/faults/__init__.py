"""Failure injection: a TCP fault proxy, AWS fault modes, database faults and a no-lost-writes
workload, so the promises of a migration plan ("retry with backoff", "clear errors", "no lost
writes") are tested with the faults injected for real.

Modules: :mod:`~harness.faults.proxy` (Toxiproxy's vocabulary on asyncio),
:mod:`~harness.faults.pytest_fixtures` (the ``fault_proxy`` fixture).
"""

from __future__ import annotations

from harness.faults.proxy import FaultProxy, ProxyError, Toxic

__all__ = ["FaultProxy", "ProxyError", "Toxic"]
