"""One side of a row comparison: checksums, key samples and rows of one table, per key range.

Only per-segment counts and digests cross the wire; how a row becomes hashed text is
:mod:`harness.rows.encode`'s. PostgreSQL against PostgreSQL sums per-row hashes (records);
with SQLite on one side both sides hash each segment's fields texts in key order. One module
per database (:mod:`.postgres`, :mod:`.sqlite`) behind the interface in :mod:`.base`.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.db.database import Database, PostgresDatabase, SqliteDatabase
from harness.errors import CheckError
from harness.rows.sides.base import Checksums, ColumnPlan, Rows, Side, Survey
from harness.rows.sides.postgres import PostgresSide
from harness.rows.sides.sqlite import SqliteSide

__all__ = [
    "Checksums",
    "ColumnPlan",
    "PostgresSide",
    "Rows",
    "Side",
    "SqliteSide",
    "Survey",
    "side_for",
]


def side_for(
    db: Database,
    role: str,
    table: str,
    columns: Sequence[ColumnPlan],
    key: Sequence[int],
    text_keys: Sequence[bool],
    *,
    fields: bool,
) -> Side:
    """``fields``: encode rows as fields and digest segments in key order, as a SQLite side
    always does (see :mod:`harness.rows.encode`)."""
    if isinstance(db, PostgresDatabase):
        return PostgresSide(db, role, table, columns, key, text_keys=text_keys, fields=fields)
    if isinstance(db, SqliteDatabase):
        return SqliteSide(db, table, columns, key, role=role)
    raise CheckError(f"no row comparison for {type(db).__name__}")
