"""cutover: verify a database migration before cutover, with evidence a reviewer signs.

The stable API is what ``__all__`` lists; everything else may change between releases.
Names are imported on first use (PEP 562) so that ``cutover --help`` and small commands do
not pay for psycopg, pydantic and sqlglot.
"""

# Private aliases only: every public name of this module is in __all__ (a test holds us to it).
import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from harness.db.catalog import Catalog, Column, ForeignKey, Index, Table, View
    from harness.db.database import Database
    from harness.embedded.provision import PostgresCluster
    from harness.endpoints.resolve import Connector, open_database, resolve
    from harness.errors import (
        CheckError,
        EndpointError,
        HarnessError,
        PlanError,
        ProvisionError,
    )
    from harness.plan.load import load_plan
    from harness.plan.model import LoadedPlan, Plan
    from harness.results.check import CheckResult, Finding, FindingKind, Severity, Status

_HOME = {
    "harness.db.catalog": ("Catalog", "Column", "ForeignKey", "Index", "Table", "View"),
    "harness.results.check": ("CheckResult", "Finding", "FindingKind", "Severity", "Status"),
    "harness.db.database": ("Database",),
    "harness.endpoints.resolve": ("Connector", "open_database", "resolve"),
    "harness.errors": (
        "CheckError",
        "EndpointError",
        "HarnessError",
        "PlanError",
        "ProvisionError",
    ),
    "harness.plan.load": ("load_plan",),
    "harness.plan.model": ("LoadedPlan", "Plan"),
    "harness.embedded.provision": ("PostgresCluster",),
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}

__all__ = [
    "Catalog",
    "CheckError",
    "CheckResult",
    "Column",
    "Connector",
    "Database",
    "EndpointError",
    "Finding",
    "FindingKind",
    "ForeignKey",
    "HarnessError",
    "Index",
    "LoadedPlan",
    "Plan",
    "PlanError",
    "PostgresCluster",
    "ProvisionError",
    "Severity",
    "Status",
    "Table",
    "View",
    "load_plan",
    "open_database",
    "resolve",
]


def __getattr__(name: str) -> _Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
