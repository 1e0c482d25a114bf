"""How a row becomes one 64-bit hash, identically in PostgreSQL and in Python.

A row's text is PostgreSQL's own ``record_out`` of its values (``ROW(a, b)::text``): NULL is
an empty field and ``''`` a quoted empty string, so the two never collide. Its hash is the
first 8 bytes of the MD5 of that text as a signed 64-bit integer; a segment's checksum is the
row count and the *sum* of those hashes — order-independent, and exact because PostgreSQL's
``sum(bigint)`` is a numeric and Python's int is unbounded.

MD5 is not here for security: both sides must compute the same function, and PostgreSQL
ships it everywhere (including Aurora DSQL).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

ROW_HASH_SQL = "('x' || left(md5({row}), 16))::bit(64)::bigint"
"""Template: ``{row}`` is a ``ROW(...)::text`` expression."""

_NEEDS_QUOTES = re.compile(r'[ \t\n\r\v\f"\\(),]')


def record_field(value: str | None) -> str:
    """One field of :func:`record_text`: quoted only where ``record_out`` quotes it."""
    if value is None:
        return ""
    if value == "" or _NEEDS_QUOTES.search(value):
        return '"' + value.replace("\\", "\\\\").replace('"', '""') + '"'
    return value


def record_text(values: Sequence[str | None]) -> str:
    """PostgreSQL's ``record_out`` for a row of text values."""
    return "(" + ",".join(map(record_field, values)) + ")"


def row_hash(text: str) -> int:
    """The signed 64-bit hash of a row's text (see :data:`ROW_HASH_SQL`)."""
    return int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "big", signed=True)
