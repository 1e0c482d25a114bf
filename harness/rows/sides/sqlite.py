"""A SQLite side: SQLite writes each segment's fields text itself
(:mod:`harness.rows.sqlite_fields`) and the harness hashes it once, so no Python runs per
row."""

from __future__ import annotations

import functools
import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from harness.db.database import SqliteDatabase
from harness.errors import CheckError
from harness.rows import canon, encode, sqlite_fields
from harness.rows.encode import row_hash
from harness.rows.segments import BoundarySegments, IntSegments, Key, Range, Segmenter
from harness.rows.sides.base import Checksums, ColumnPlan, Rows, Side


class SqliteSide(Side):
    """SQLite builds each segment's fields text itself; the harness hashes it once."""

    CHUNK = 10_000
    fields = True

    def __init__(
        self,
        db: SqliteDatabase,
        table: str,
        columns: Sequence[ColumnPlan],
        key: Sequence[int],
        *,
        role: str = "source",
    ) -> None:
        super().__init__(db.display, table, columns, key)
        self.db = db
        self.role = role
        """``source``, or ``target`` (the way back from PostgreSQL): whose column names."""
        self._canons = [canon.python(c.type, c.options) for c in self.columns]
        names = ", ".join(_q(self.name(c)) for c in self.columns)
        self._select = f"SELECT {names} FROM {_q(table)}"  # noqa: S608 (quoted identifiers)
        self._keys = [_q(self.name(self.columns[i])) for i in self.key]
        # The row's fields text is built by SQLite (sqlite_fields); only shapes without a
        # fast path call back into the Python canon, through functions named for this side.
        self._fallbacks = [f"cutover_field_{id(self):x}_{i}" for i in range(len(self.columns))]
        self._cells = [
            sqlite_fields.field_sql(_q(self.name(c)), c.type, c.options, fallback)
            for c, fallback in zip(self.columns, self._fallbacks, strict=True)
        ]
        self._row = sqlite_fields.row_sql(self._cells)
        for column, fallback in zip(self.columns, self._fallbacks, strict=True):
            sqlite_fields.register(db.conn, fallback, column.type, column.options)
        # group_concat's text as bytes without a decode; a UTF-16 file's text is re-encoded.
        ((encoding,),) = db.conn.execute("PRAGMA encoding").fetchall()
        self._utf8 = encoding == "UTF-8"

    def name(self, column: ColumnPlan) -> str:
        return column.target if self.role == "target" else column.source

    def _where(self, within: Range) -> tuple[str, list[Any]]:
        parts, params = [], []
        row = f"({', '.join(self._keys)})" if len(self._keys) > 1 else self._keys[0]
        for bound, op in ((within.lo, ">="), (within.hi, "<")):
            if bound is not None:
                marks = f"({', '.join('?' * len(bound))})" if len(bound) > 1 else "?"
                parts.append(f"{row} {op} {marks}")
                params += list(bound)
        return (" AND ".join(parts) or "1"), params

    def _stream(self, query: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        try:
            cursor = self.db.conn.execute(query, params)
            while chunk := cursor.fetchmany(self.CHUNK):
                yield from chunk
        except sqlite3.Error as exc:
            raise CheckError(f"{self.db.display}: {exc}") from None

    def _texts(self, row: tuple[Any, ...]) -> tuple[str | None, ...]:
        return tuple(None if v is None else f(v) for f, v in zip(self._canons, row, strict=True))

    def repeated_key(self) -> Key | None:
        keys = ", ".join(self._keys)
        query = f"SELECT {keys} FROM {_q(self.table)} GROUP BY {keys} HAVING count(*) > 1 LIMIT 1"  # noqa: S608
        rows = list(self._stream(query, ()))
        return tuple(rows[0]) if rows else None

    def null_keys(self) -> int:
        test = " OR ".join(f"{k} IS NULL" for k in self._keys)
        query = f"SELECT count(*) FROM {_q(self.table)} WHERE {test}"  # noqa: S608
        ((count,),) = list(self._stream(query, ()))
        return int(count)

    def key_bounds(self) -> tuple[int, int] | None:
        return self._key_bounds(Range())

    def _key_bounds(self, within: Range) -> tuple[int, int] | None:
        # Two subqueries: SQLite reads one end of an index only for a lone min() or max().
        k = self._keys[0]
        where, params = self._where(within)
        end = f"FROM {_q(self.table)} WHERE {where}"
        query = f"SELECT (SELECT min({k}) {end}), (SELECT max({k}) {end})"
        ((lo, hi),) = list(self._stream(query, [*params, *params]))
        return None if lo is None else (int(lo), int(hi))

    def estimate_rows(self) -> int | None:
        # Exact and cheap: SQLite counts the smallest b-tree's cells (~0.02 s a million rows).
        ((count,),) = list(self._stream(f"SELECT count(*) FROM {_q(self.table)}", ()))  # noqa: S608
        return int(count) or None

    def checksums(self, segments: Segmenter, within: Range) -> Checksums:
        if not self._seekable:
            return self._checksums_by_scan(segments, within)
        # One query per segment, each a range search in key order: SQLite writes the fields
        # column by column, Python hashes the segment once.
        concat = " || ',' || ".join(f"group_concat(f{i}, ',')" for i in range(len(self._cells)))
        if self._utf8:
            concat = f"CAST({concat} AS BLOB)"
        cells = ", ".join(f"{cell} AS f{i}" for i, cell in enumerate(self._cells))
        keys = ", ".join(self._keys)
        out: Checksums = {}
        for number, part in self._parts(segments, within):
            where, params = self._where(part)
            query = (
                f"SELECT count(*), {concat} FROM (SELECT {cells}"  # noqa: S608
                f" FROM {_q(self.table)} WHERE {where} ORDER BY {keys})"
            )
            ((n, text),) = list(self._stream(query, params))
            if n:
                data = text if isinstance(text, bytes) else text.encode()
                out[number] = (n, encode.segment_digest(data))
        return out

    def _checksums_by_scan(self, segments: Segmenter, within: Range) -> Checksums:
        """A key without an index: one scan in key order, cut into segments here, where a
        query per segment would scan the whole table each time. The text is the one
        group_concat writes (cells are text or integers)."""
        where, params = self._where(within)
        keys = ", ".join(self._keys)
        cells = ", ".join(self._cells)
        query = f"SELECT {keys}, {cells} FROM {_q(self.table)} WHERE {where} ORDER BY {keys}"  # noqa: S608
        width = len(self._keys)
        out: Checksums = {}
        rows = self._stream(query, params)
        for number, group in itertools.groupby(rows, key=lambda row: segments.segment(row[:width])):
            part = [row[width:] for row in group]
            text = ",".join(",".join(map(str, column)) for column in zip(*part, strict=True))
            out[number] = (len(part), encode.segment_digest(text.encode()))
        return out

    @functools.cached_property
    def _seekable(self) -> bool:
        """Whether SQLite finds a key range through an index rather than by a scan."""
        probe = (0,) * len(self._keys)
        where, params = self._where(Range(probe, probe))
        keys = ", ".join(self._keys)
        query = f"EXPLAIN QUERY PLAN SELECT 1 FROM {_q(self.table)} WHERE {where} ORDER BY {keys}"  # noqa: S608
        details = [row[-1] for row in self._stream(query, params)]
        return all(d.startswith("SEARCH") for d in details)

    def _parts(self, segments: Segmenter, within: Range) -> Iterator[tuple[int, Range]]:
        """Each segment's number and key range inside ``within``."""
        if isinstance(segments, BoundarySegments):
            for number in range(len(segments.boundaries) + 1):
                yield number, segments.range(number)
            return
        assert isinstance(segments, IntSegments)
        bounds = self._key_bounds(within)
        if bounds is None:
            return
        for number in range(segments.segment((bounds[0],)), segments.segment((bounds[1],)) + 1):
            yield number, segments.range(number)

    def sample_keys(self, every: int, within: Range) -> list[Key]:
        # A scan of the key in order, every ``every``-th kept by islice in C: several times
        # faster here than SQLite's row_number() window.
        where, params = self._where(within)
        keys = ", ".join(self._keys)
        query = f"SELECT {keys} FROM {_q(self.table)} WHERE {where} ORDER BY {keys}"  # noqa: S608
        try:
            rows = self.db.conn.execute(query, params)
            return [tuple(row) for row in itertools.islice(rows, every - 1, None, every)]
        except sqlite3.Error as exc:
            raise CheckError(f"{self.db.display}: {exc}") from None

    def fetch(self, within: Range) -> Rows:
        where, params = self._where(within)
        rows = self._stream(f"{self._select} WHERE {where}", params)
        return self._by_key(self._texts(row) for row in rows)

    def multiset(self, buckets: Sequence[str] | None) -> tuple[Checksums, dict[str, int]]:
        sums: dict[int, list[int]] = {}
        texts: dict[str, int] = {}
        wanted = set(buckets or ())
        query = f"SELECT {self._row} FROM {_q(self.table)}"  # noqa: S608
        for (text,) in self._stream(query, ()):
            h = row_hash(text)
            bucket = (h >> 60) & 0xF  # the first hex digit of the MD5, as PostgreSQL groups
            if buckets is None:
                acc = sums.setdefault(bucket, [0, 0])
                acc[0] += 1
                acc[1] += h
            elif f"{bucket:x}" in wanted:
                texts[text] = texts.get(text, 0) + 1
                self.rows_fetched += 1
        return {n: (c, s) for n, (c, s) in sums.items()}, texts


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
