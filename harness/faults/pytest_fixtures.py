"""Pytest fixtures for fault injection, loaded through ``pytest_plugins`` in a conftest.

``fault_proxy`` is a factory (pytest-postgresql style): call it with an upstream address and
get a started :class:`~harness.faults.proxy.FaultProxy`; every proxy it made is stopped when
the test ends, whatever the test left behind (toxics, a proxy that is down).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.faults.proxy import FaultProxy

ProxyFactory = Callable[..., FaultProxy]


@pytest.fixture
def fault_proxy() -> Iterator[ProxyFactory]:
    """Start fault proxies in front of upstreams: ``fault_proxy(("127.0.0.1", port))``."""
    made: list[FaultProxy] = []

    def make(upstream: tuple[str, int] | str | Path, **options: Any) -> FaultProxy:
        options.setdefault("seed", 0)  # reproducible toxicity rolls unless a test asks otherwise
        proxy = FaultProxy(upstream, **options).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in reversed(made):
        proxy.stop()
