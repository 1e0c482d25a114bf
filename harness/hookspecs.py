"""Hooks a team implements to extend cutover without forking it (as pytest-xdist's
``newhooks.py`` does for xdist). Their names start with ``pytest_``, as xdist's do, because
pytest only picks up undecorated hook functions so named from a conftest or plugin.

Implement them in a ``conftest.py`` next to your own scenario modules, or in a pytest plugin
installed beside cutover::

    from harness.capabilities import Capability, Items

    def pytest_cutover_capabilities():
        return [Capability("contracts", items=(Items("contract", lambda run: ["v1", "v2"]),))]

    # and in a test module the run collects:
    def test_contract(contract, cutover, record):
        record(cutover.run_check("contracts", contract, lambda: check_contract(contract)))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.capabilities import Capability


@pytest.hookspec
def pytest_cutover_capabilities() -> Sequence[Capability]:  # type: ignore[empty-body]
    """Capabilities to run besides the built-in ones (:data:`harness.capabilities.CAPABILITIES`).

    Each plugin returns a sequence of :class:`~harness.capabilities.Capability` records; their
    areas follow the built-ins in the report, in plugin registration order. The plugin
    parametrizes every :class:`~harness.capabilities.Items` argument they name, exactly as it
    does the built-ins' (no plan: skipped; section absent: deselected; bad input: exit 2).
    """
