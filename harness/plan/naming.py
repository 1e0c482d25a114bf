"""Source names → target names: explicit renames from the plan first, then a naming policy.

A PascalCase → snake_case migration (``InvoiceLine.UnitPrice`` → ``invoice_line.unit_price``)
needs no hand-written map: the ``snake_case`` policy derives every name, and explicit maps
cover the exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from harness.plan.model import Renames

_BOUNDARIES = (
    re.compile(r"([A-Z]+)([A-Z][a-z])"),  # "HTTPServer" → "HTTP_Server"
    re.compile(r"([a-z0-9])([A-Z])"),  # "invoiceLine" → "invoice_Line"
)


def snake_case(name: str) -> str:
    """PascalCase/camelCase to snake_case, the rule ActiveRecord's ``underscore`` applies.

    ``InvoiceLine`` → ``invoice_line``, ``HTTPServer`` → ``http_server``, ``userID`` → ``user_id``.
    """
    out = name
    for pattern in _BOUNDARIES:
        out = pattern.sub(r"\1_\2", out)
    return re.sub(r"[\s\-]+", "_", out).lower()


POLICIES: dict[str, Callable[[str], str]] = {
    "none": lambda name: name,
    "lower": str.lower,
    "snake_case": snake_case,
}


@dataclass(frozen=True)
class Renamer:
    """Maps source table and column names to the names expected on the target."""

    renames: Renames

    def table(self, source_table: str) -> str:
        explicit = self.renames.tables.get(source_table)
        return explicit if explicit is not None else POLICIES[self.renames.policy](source_table)

    def column(self, source_table: str, source_column: str) -> str:
        explicit = self.renames.columns.get(source_table, {}).get(source_column)
        if explicit is not None:
            return explicit
        return POLICIES[self.renames.policy](source_column)
