"""How rows become the text that both sides hash, identically in the database and in Python.

Two encodings, picked by the pair of databases compared:

**Record** (PostgreSQL on both sides). A row's text is PostgreSQL's own ``record_out`` of its
values (``ROW(a, b)::text``): NULL is an empty field and ``''`` a quoted empty string, so the
two never collide. Its hash is a signed 64-bit integer, and a segment's checksum is the row
count and the *sum* of those hashes — order-independent, and exact because PostgreSQL's
``sum(bigint)`` is a numeric. The hash is PostgreSQL's own 64-bit text hash
(:data:`SERVER_ROW_HASH_SQL`, the one hash partitioning uses) where both servers compute the
same one, else the first 8 bytes of the row text's MD5 (:data:`ROW_HASH_SQL`).

**Fields** (a SQLite side). SQLite has no hash function, so hashing each row would mean a
Python call per row; instead both sides write a segment's fields in key order, column by
column, all joined by commas (``string_agg`` in PostgreSQL, ``group_concat`` in SQLite), and
take the MD5 of that one text. The fields are built to be cheap for SQLite (see
:class:`FieldForm`) and readable back (:func:`parse_fields`): with the row count, a segment's
text determines its rows, so equal digests mean equal rows, field by field.

Keyless tables, compared as multisets, hash each row in either encoding (:func:`row_hash` of
its record or of :func:`fields_text`).

MD5 is not here for security: both sides must compute the same function, and PostgreSQL
ships it everywhere (including Aurora DSQL) and Python has it. Turning its hex into a bigint
costs, though: at a million rows md5 plus the conversion took 1.63 s of one core against
0.83 s for ``hashtextextended``, which hashes the same text to a bigint at once (measured
2026-12-03, PostgreSQL 16). That hash is PostgreSQL's internal Jenkins hash: its values follow
the server's byte order, and neither Python nor Aurora DSQL is known to offer it. So a
comparison sums it only where each side's survey reports the same :data:`HASH_PROBE_SQL` (two
PostgreSQL servers of one byte order, neither DSQL), and MD5 everywhere else.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.db.typemap import TypeInfo

ROW_HASH_SQL = "('x' || left(md5({row}), 16))::bit(64)::bigint"
"""Template: ``{row}`` is a row's text expression."""

SERVER_ROW_HASH_SQL = 'hashtextextended(({row}) COLLATE "C", 0)'
"""Template: the row hash where both servers agree on it (C: the text's bytes, never a
locale's sort key)."""

HASH_PROBE_SQL = "hashtextextended('cutover row hash' COLLATE \"C\", 0)"
"""A server's :data:`SERVER_ROW_HASH_SQL` of a fixed text: equal on two servers that hash alike."""

BARE_FAMILIES = frozenset(
    {"integer", "numeric", "float", "timestamp", "timestamptz", "date", "time", "boolean", "uuid"}
)
"""Families the fields encoding writes as they are (see :class:`FieldForm`)."""

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


def segment_digest(text: bytes) -> str:
    """A segment's digest from its fields text (PostgreSQL's ``md5()`` of the same text)."""
    return hashlib.md5(text).hexdigest()


# -- the fields encoding -----------------------------------------------------------------------

NULL_FIELD = "~"
"""NULL's field: not empty (old SQLite's group_concat drops the separator after an empty
value), and no other field starts with it but a bare one, which runs to its comma anyway."""

_SCALED = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True)
class FieldForm:
    """How one column's canonical text is written as a field (fields are joined by commas).

    - *bare* families (numbers, times, booleans, UUIDs) are written as they are: their
      canonical text is never empty and never holds a comma (the canon's tests hold
      PostgreSQL to that);
    - any other text as ``<characters>:<text>``;
    - numeric(p, s) as its integer value times 10^s (``12.30`` → ``1230``), which SQLite derives
      from money stored as REAL several times faster than the decimal text; a value with more
      places than ``s`` (only a source has one) as its exact text, which holds a point.

    A bare text that breaks those rules is not one PostgreSQL writes (only the canon's ``!``
    mark for an unusable SQLite value gets there); it is kept unequal to every PostgreSQL field
    and readable by a leading ``!`` and commas as ``;``.
    """

    bare: bool
    scale: int | None = None

    @classmethod
    def of(cls, target: TypeInfo) -> FieldForm:
        if target.family == "numeric" and target.scale is not None:
            return cls(bare=True, scale=target.scale)
        return cls(bare=target.family in BARE_FAMILIES)

    def write(self, text: str | None) -> str:
        if text is None:
            return NULL_FIELD
        if not self.bare:
            return f"{len(text)}:{text}"
        if self.scale is not None and _SCALED.fullmatch(text):
            whole, _, fraction = text.partition(".")
            if len(fraction) == self.scale:
                return str(int(whole + fraction))
        if text and "," not in text and text != NULL_FIELD:
            return text
        return "!" + text.replace(",", ";")

    def read(self, field: str) -> str | None:
        """The canonical text of a field written by :meth:`write`."""
        if field == NULL_FIELD:
            return None
        if not self.bare:
            return field.partition(":")[2]
        if self.scale and re.fullmatch(r"-?[0-9]+", field):
            sign, digits = ("-", field[1:]) if field.startswith("-") else ("", field)
            digits = digits.rjust(self.scale + 1, "0")
            return f"{sign}{digits[: -self.scale]}.{digits[-self.scale :]}"
        return field

    def sql(self, column: str, canon: str) -> str:
        """PostgreSQL: the field of ``column`` (an SQL expression) whose canonical text is
        the expression ``canon``."""
        if not self.bare:
            written = f"length({canon}) || ':' || {canon}"
        elif self.scale is not None:
            x, scaled = f"({column})::numeric", f"round(({column})::numeric, {self.scale})"
            written = (  # a value with more places is written as the canon's exact text
                f"CASE WHEN {x} = {scaled} THEN trim_scale({scaled} * 1e{self.scale})::text"
                f" ELSE {canon} END"
            )
        else:
            written = canon
        return f"coalesce({written}, '{NULL_FIELD}')"


def fields_text(values: Sequence[str | None], forms: Sequence[FieldForm]) -> str:
    """A row's fields text: what the keyless (multiset) comparison hashes."""
    return ",".join(form.write(v) for v, form in zip(values, forms, strict=True))


def parse_fields(text: str, forms: Sequence[FieldForm]) -> list[str | None]:
    """Read a row's fields text back into canonical texts (the inverse of
    :func:`fields_text`): a bare field runs to the next comma, a counted one is as long as
    it says."""
    values: list[str | None] = []
    at = 0
    for number, form in enumerate(forms):
        if form.bare or text.startswith(NULL_FIELD, at):
            end = text.find(",", at)
            end = len(text) if end < 0 else end
        else:
            colon = text.index(":", at)
            end = colon + 1 + int(text[at:colon])
        values.append(form.read(text[at:end]))
        last = number == len(forms) - 1
        if (end != len(text)) if last else not text.startswith(",", end):
            raise ValueError(f"not a fields text: {text!r}")
        at = end + 1
    return values
