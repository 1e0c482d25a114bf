"""DynamoDB untouched: per-table item counts and order-independent digests, compared.

Public API: :func:`take_snapshot`, :func:`scan_table`,
:func:`read_snapshot`, :func:`write_snapshot`, :func:`compare`, :func:`compare_table`.
"""

from __future__ import annotations

from harness.dynamo.compare import compare, compare_table
from harness.dynamo.settings import DynamoSettings
from harness.dynamo.snapshot import (
    DynamoError,
    Snapshot,
    TableSnapshot,
    read_snapshot,
    scan_table,
    take_snapshot,
    write_snapshot,
)

__all__ = [
    "DynamoError",
    "DynamoSettings",
    "Snapshot",
    "TableSnapshot",
    "compare",
    "compare_table",
    "read_snapshot",
    "scan_table",
    "take_snapshot",
    "write_snapshot",
]
