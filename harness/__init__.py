"""cutover: verify a database migration before cutover, with evidence a reviewer signs.

The stable API is what ``__all__`` lists; everything else may change between releases.
"""

from harness.catalog import Catalog, Column, ForeignKey, Index, Table, View
from harness.checks.result import CheckResult, Finding, FindingKind, Severity, Status
from harness.database import Database
from harness.endpoints import Connector, open_database, resolve
from harness.errors import (
    CheckError,
    EndpointError,
    HarnessError,
    PlanError,
    ProvisionError,
)
from harness.plan import LoadedPlan, Plan, load_plan
from harness.provision import PostgresCluster

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
