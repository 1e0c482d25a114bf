"""How rows and answers are compared: the plan's ``rows:`` section and per-column canon options.

Frozen pydantic models like the rest of the plan (:mod:`harness.plan`). :class:`ColumnCanon`
is shared by row parity and query parity (``queries.columns``): one value canon, one set of
options for it.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from harness.plan.base import PlanModel


class ColumnCanon(PlanModel):
    """How one column's values are compared (shown in the report when not the default)."""

    rtrim: bool = False
    """Ignore trailing spaces (CHAR padding carried into a VARCHAR)."""
    float_digits: int = Field(15, ge=1, le=17)
    """Significant digits compared for a float column."""


class RowSettings(PlanModel):
    """Row-level comparison: segment and shard sizes, sample cap, per-column value options."""

    segment_rows: int = Field(10_000, ge=100)
    """Rows per checksum segment; smaller finds differences in fewer rows fetched."""
    shard_rows: int = Field(1_000_000, ge=1_000)
    """A table with more rows (the servers' estimate) is compared as several items, one per
    key range, that xdist workers run in parallel (:mod:`harness.rows.shards`). A million:
    2.5 s of hashing per server core (benchmarks/rows.py), against the 2-6 round trips a shard
    adds per side (0.1-0.3 s over a 50 ms link; no measurable cost locally, 5M rows in 6
    shards on one worker took no longer than whole), and one bounded statement's worth of
    segments on Aurora DSQL."""
    sample_cap: int = Field(20, ge=0)
    """Differing rows kept per table as examples (the counts stay exact)."""
    columns: dict[str, ColumnCanon] = {}
    """Keyed by ``table.column`` in source names (that the column exists is checked against
    the source once it answers: :func:`harness.plan.scope.check_scope`)."""

    @field_validator("columns", mode="after")
    @classmethod
    def _table_dot_column(cls, columns: dict[str, ColumnCanon]) -> dict[str, ColumnCanon]:
        for name in columns:
            table, dot, column = name.rpartition(".")
            if not (table and dot and column):
                raise ValueError(f"'{name}' is not TABLE.COLUMN (source names, e.g. Customer.City)")
        return columns
