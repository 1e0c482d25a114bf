"""What every side of a row comparison offers, whatever the database behind it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.db.typemap import TypeInfo
from harness.errors import CheckError
from harness.rows import canon, encode
from harness.rows.segments import ALL_KEYS, Key, Range, Segmenter

Checksums = dict[int, tuple[int, int | str]]
"""Segment number → (rows, sum of row hashes or digest of the rows in key order)."""
Rows = dict[tuple[str | None, ...], tuple[str | None, ...]]
"""Canonical key → canonical values of the compared columns."""


@dataclass(frozen=True)
class ColumnPlan:
    """One compared column: its names on each side, the type that picks its canon
    (:func:`harness.rows.canon.domain` of the two sides' types)."""

    source: str
    target: str
    type: TypeInfo
    options: canon.CanonOptions
    raw: bool = False
    """PostgreSQL on both sides with the same type: hash the value itself (cheaper, stricter)."""


@dataclass(frozen=True)
class Survey:
    """What a comparison learns about one side before its first checksum pass."""

    null_keys: int
    """Rows with a NULL in a key column: they cannot be matched by key."""
    bounds: tuple[int, int] | None
    """(min, max) of a single integer key (None: empty table, or not such a key)."""
    estimate: int | None
    """The server's estimate of the table's rows, if it keeps one."""
    hash_probe: int | None = None
    """The server's row hash of a fixed text (:data:`harness.rows.encode.HASH_PROBE_SQL`);
    None where the side cannot sum that hash."""


class Side(ABC):
    """A table on one database, seen through the compared columns and the key."""

    fields: bool
    """Rows are encoded as fields and segments digested in key order (else records, summed)."""
    bounded: bool = False
    """No statement may span a large table (Aurora DSQL ends transactions after five
    minutes): checksums and key samples go in short statements."""

    def __init__(
        self, display: str, table: str, columns: Sequence[ColumnPlan], key: Sequence[int]
    ) -> None:
        self.display = display
        self.table = table
        self.columns = tuple(columns)
        self.key = tuple(key)
        self.rows_fetched = 0
        self._forms = [encode.FieldForm.of(c.type) for c in self.columns]

    def show_row(self, text: str) -> str:
        """A row's hashed text as the report shows it: PostgreSQL's record text."""
        if not self.fields:
            return text
        return encode.record_text(encode.parse_fields(text, self._forms))

    @abstractmethod
    def name(self, column: ColumnPlan) -> str: ...

    def _by_key(self, rows: Iterable[tuple[str | None, ...]]) -> Rows:
        """Fetched rows by canonical key; a key met twice is an error, as rows are matched
        by key (a dict would silently keep one of them)."""
        out: Rows = {}
        for row in rows:
            key = tuple(row[i] for i in self.key)
            if key in out:
                raise self.not_unique(key)
            out[key] = row
        self.rows_fetched += len(out)
        return out

    def not_unique(self, key: Key) -> CheckError:
        """The error for a key value two rows share: rows are matched by key."""
        names = ", ".join(self.name(self.columns[i]) for i in self.key)
        return CheckError(
            f"{self.display}: the key ({names}) of {self.table} is not unique"
            f" ({', '.join(map(str, key))} twice); set a unique one in tables.keys"
        )

    @abstractmethod
    def repeated_key(self) -> Key | None:
        """A key value two rows share, if any: one scan, for keys no constraint vouches for."""

    def survey(self, *, integer_key: bool, within: Range = ALL_KEYS, nulls: bool = True) -> Survey:
        """:meth:`null_keys` (unless ``nulls`` is False: 0), :meth:`key_bounds` inside
        ``within`` (for an integer key) and :meth:`estimate_rows` at once: a side across a
        link answers them in one round trip."""
        bounds = clamp(self.key_bounds(), within) if integer_key else None
        return Survey(self.null_keys() if nulls else 0, bounds, self.estimate_rows())

    def use_server_hash(self) -> None:
        """Sum the server's row hash from now on; asked only of a side whose survey reported
        a probe equal to the other side's (:mod:`harness.rows.encode`)."""
        raise NotImplementedError(f"{type(self).__name__} reports no hash probe")

    @abstractmethod
    def null_keys(self) -> int:
        """Rows with a NULL in a key column: they cannot be matched by key."""

    @abstractmethod
    def key_bounds(self) -> tuple[int, int] | None:
        """(min, max) of a single integer key, None when the table is empty."""

    @abstractmethod
    def estimate_rows(self) -> int | None: ...

    @abstractmethod
    def checksums(self, segments: Segmenter, within: Range) -> Checksums: ...

    @abstractmethod
    def sample_keys(self, every: int, within: Range) -> list[Key]:
        """Every ``every``-th key in key order inside ``within``: segment boundaries."""

    @abstractmethod
    def fetch(self, within: Range) -> Rows: ...

    def checksums_many(self, jobs: Sequence[tuple[Segmenter, Range]]) -> list[Checksums]:
        """:meth:`checksums` of several (segments, within) pairs, batched where it pays."""
        return [self.checksums(segments, within) for segments, within in jobs]

    def fetch_many(self, ranges: Sequence[Range]) -> Rows:
        """:meth:`fetch` of several disjoint ranges, batched where it pays."""
        rows: Rows = {}
        for within in ranges:
            rows.update(self.fetch(within))
        return rows

    @abstractmethod
    def multiset(self, buckets: Sequence[str] | None) -> tuple[Checksums, dict[str, int]]:
        """Keyless tables: checksums per hash bucket (first hex digit of the row's MD5), or,
        given buckets, the row texts in them with their multiplicity."""


def clamp(bounds: tuple[int, int] | None, within: Range) -> tuple[int, int] | None:
    """The table's (min, max) integer key narrowed to ``within``: every key inside it lies
    between the two (None: no key can)."""
    if bounds is None:
        return None
    lo = bounds[0] if within.lo is None else max(bounds[0], int(within.lo[0]))
    hi = bounds[1] if within.hi is None else min(bounds[1], int(within.hi[0]) - 1)
    return (lo, hi) if lo <= hi else None
