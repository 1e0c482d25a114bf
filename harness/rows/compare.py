"""Compare a table's rows on both sides: segment checksums, bisection, then the exact rows.

1. Split the key space into segments of about ``segment_rows`` rows and have each side
   compute a checksum per segment (:mod:`harness.rows.encode`), run concurrently. Integer
   keys are split by arithmetic; other keys by boundaries sampled in key order on both
   sides, so no segment holds more than ``segment_rows`` rows of either. (With SQLite on
   one side a checksum holds its segment's text, so sparse integer keys are sampled too.)
2. A segment whose checksums differ is split again, only within its key range, until it is
   small enough to fetch; when most of its parts differ it is fetched at once instead of
   split further (many differences: bisecting would only cost round trips). This goes level
   by level, each level's splits and fetches batched into one query a side.
3. Fetched rows are matched by key and compared column by column in canonical form.

Counts of missing, extra and changed rows are exact; only the samples kept for the report
are capped. Memory holds one segment's rows at a time, whatever the table's size.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from harness.db import typemap as types
from harness.db.catalog import Table
from harness.db.database import Database, PostgresDatabase
from harness.errors import CheckError
from harness.rows import canon
from harness.rows.canon import CanonOptions
from harness.rows.segments import BoundarySegments, IntSegments, Key, Range, Segmenter
from harness.rows.shards import WHOLE, Shard
from harness.rows.sides import Checksums, ColumnPlan, Rows, Side, Survey, side_for

SPLIT = 64
"""Parts a mismatching segment is split into: 64 takes a 10,000-row segment to fetchable
parts in one level (16 needed two), a round trip less per side over a link; the level's
statement reads the same rows either way and returns 64 small rows instead of 16."""
BATCH_JOBS = 64
"""Segments split in one batch (one query a side)."""
FETCH_BATCH_ROWS = 50_000
"""Rows fetched in one batch at most (with the largest segment fetched whole): memory."""
FIRST_PASS_SEGMENTS = 20_000
"""Segments a fine first pass may return per side (a few MB of checksums at most)."""
T = TypeVar("T")


@dataclass(frozen=True)
class RowOptions:
    segment_rows: int = 10_000
    """Rows per checksum segment."""
    fetch_rows: int = 256
    """A differing segment this small is fetched and compared row by row."""
    early_fetch_rows: int = 20_000
    """A segment up to this size is fetched at once when most of its parts differ."""
    sample_cap: int = 20
    """Differing rows kept as samples; the counts stay exact beyond it."""
    columns: dict[str, CanonOptions] = field(default_factory=dict)
    """Per source column name: canon options (rtrim, float digits)."""


@dataclass(frozen=True)
class RowSample:
    """One differing row: its key and, for a changed row, each differing column's values."""

    kind: str  # missing | extra | changed
    key: dict[str, str | None]
    columns: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


@dataclass
class RowDiff:
    """What the comparison found (the check turns it into a result)."""

    state: str = "validated"  # validated | mismatched | no_key (multiset compared)
    keyed: bool = True
    key: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    source_rows: int = 0
    target_rows: int = 0
    missing: int = 0
    extra: int = 0
    changed: int = 0
    changed_columns: dict[str, int] = field(default_factory=dict)
    samples: list[RowSample] = field(default_factory=list)
    segments: int = 0
    segments_split: int = 0
    rows_fetched: int = 0
    round_trips: dict[str, int] = field(default_factory=dict)
    """Statements each PostgreSQL side answered for this comparison (by role)."""

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.changed


def plan_columns(
    source_db: Database,
    source: Table,
    target_db: Database,
    target: Table,
    column_map: Callable[[str], str],
    options: RowOptions,
) -> list[ColumnPlan]:
    """Columns on both sides, each with the type that picks its canon (:func:`canon.domain`)."""
    target_columns = {c.name: c for c in target.columns}
    both_postgres = isinstance(source_db, PostgresDatabase) and isinstance(
        target_db, PostgresDatabase
    )
    planned = []
    for column in source.columns:
        other = target_columns.get(column_map(column.name))
        if other is None:
            continue  # the schema check reports missing columns
        chosen = options.columns.get(column.name, CanonOptions())
        target_type = types.parse(other.declared_type, target_db.dialect)
        source_type = types.parse(column.declared_type, source_db.dialect)
        raw = both_postgres and chosen == CanonOptions() and source_type == target_type
        compared = canon.domain(
            source_type, target_type, sqlite_target=target_db.dialect == "sqlite"
        )
        planned.append(ColumnPlan(column.name, other.name, compared, chosen, raw))
    return planned


@dataclass(frozen=True)
class Pairing:
    """A table pair ready to compare: both sides, the compared columns and the key."""

    src: Side
    tgt: Side
    columns: list[ColumnPlan]
    key: tuple[str, ...]
    key_index: list[int]
    declared: bool
    """The key is the plan's ``tables.keys`` entry, which no constraint vouches for."""

    @property
    def integer_key(self) -> bool:
        """A single integer key: segments and shards are cut by arithmetic."""
        return len(self.key_index) == 1 and self.columns[self.key_index[0]].type.family == (
            "integer"
        )


def pairing(
    source_db: Database,
    target_db: Database,
    source: Table,
    target: Table,
    column_map: Callable[[str], str],
    key: Sequence[str] | None,
    options: RowOptions,
) -> Pairing:
    """Both sides of ``source`` and ``target`` (``key`` as in :func:`compare_table`)."""
    columns = plan_columns(source_db, source, target_db, target, column_map, options)
    names = [c.source for c in columns]
    key_names = tuple(key) if key else source.primary_key
    missing_key = [k for k in key_names if k not in names]
    if missing_key:
        raise CheckError(
            f"key column(s) {', '.join(missing_key)} of {source.name} are not on both sides"
        )
    key_index = [names.index(k) for k in key_names]
    text_keys = [columns[i].type.family == "text" for i in key_index]
    both_postgres = isinstance(source_db, PostgresDatabase) and isinstance(
        target_db, PostgresDatabase
    )
    fields = not both_postgres
    src = side_for(source_db, "source", source.name, columns, key_index, text_keys, fields=fields)
    tgt = side_for(target_db, "target", target.name, columns, key_index, text_keys, fields=fields)
    declared = key_names != source.primary_key  # the plan's tables.keys, not a constraint
    return Pairing(src, tgt, columns, key_names, key_index, declared)


def compare_table(
    source_db: Database,
    target_db: Database,
    source: Table,
    target: Table,
    column_map: Callable[[str], str],
    key: Sequence[str] | None,
    options: RowOptions | None = None,
    *,
    shard: Shard = WHOLE,
) -> RowDiff:
    """Compare the rows of ``source`` and ``target``; ``key`` in source column names
    (default: the source's primary key; none at all compares the tables as multisets).
    ``shard``: only the keys in its range (:mod:`harness.rows.shards`)."""
    options = options or RowOptions()
    sent = {role: _round_trips(db) for role, db in (("source", source_db), ("target", target_db))}
    pair = pairing(source_db, target_db, source, target, column_map, key, options)
    diff = RowDiff(key=pair.key, columns=tuple(c.source for c in pair.columns))
    diff.keyed = bool(pair.key_index)
    if not pair.key_index:
        if shard.of > 1:
            raise CheckError(f"{source.name} has no key, so it cannot be compared in shards")
        _compare_multisets(pair.src, pair.tgt, diff, options)
    else:
        _Bisection(pair, diff, options, shard).run()
    diff.rows_fetched = pair.src.rows_fetched + pair.tgt.rows_fetched
    diff.round_trips = {
        role: _round_trips(db) - sent[role]
        for role, db in (("source", source_db), ("target", target_db))
        if isinstance(db, PostgresDatabase)
    }
    if diff.differences:
        diff.state = "mismatched"
    elif not diff.keyed:
        diff.state = "no_key"
    return diff


def _round_trips(db: Database) -> int:
    return db.round_trips if isinstance(db, PostgresDatabase) else 0


def _both(src: Callable[[], Any], tgt: Callable[[], Any]) -> tuple[Any, Any]:
    """Run the two sides' queries concurrently (each has its own connection)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(src), pool.submit(tgt)
        return a.result(), b.result()


class _Bisection:
    def __init__(self, pair: Pairing, diff: RowDiff, options: RowOptions, shard: Shard) -> None:
        self.src, self.tgt, self.columns, self.key = (
            pair.src,
            pair.tgt,
            pair.columns,
            pair.key_index,
        )
        self.diff, self.options, self.declared = diff, options, pair.declared
        self.integer_key = pair.integer_key
        self.shard = shard
        self.within = shard.within

    def run(self) -> None:
        # The whole-table checks go with the first shard: a NULL key lies in no shard's range.
        whole = self.shard.first
        if self.declared and whole:  # no constraint vouches for a key the plan names: look once
            repeated = _both(self.src.repeated_key, self.tgt.repeated_key)
            for side, key in zip((self.src, self.tgt), repeated, strict=True):
                if key is not None:
                    raise side.not_unique(key)
        surveys = _both(
            partial(self.src.survey, integer_key=self.integer_key, within=self.within, nulls=whole),
            partial(self.tgt.survey, integer_key=self.integer_key, within=self.within, nulls=whole),
        )
        for side, survey in zip((self.src, self.tgt), surveys, strict=True):
            if survey.null_keys:
                names = ", ".join(side.name(self.columns[i]) for i in self.key)
                raise CheckError(
                    f"{side.display}: {survey.null_keys} row(s) of {side.table} have a NULL in"
                    f" the key ({names}), so they cannot be matched; set a key without NULLs"
                    " in tables.keys"
                )
        if surveys[0].hash_probe is not None and surveys[0].hash_probe == surveys[1].hash_probe:
            self.src.use_server_hash()
            self.tgt.use_server_hash()
        segments = self._initial_segments(*surveys)
        if segments is None:  # both sides empty
            return
        a, b = _both(
            lambda: self.src.checksums(segments, self.within),
            lambda: self.tgt.checksums(segments, self.within),
        )
        self.diff.source_rows = sum(n for n, _ in a.values())
        self.diff.target_rows = sum(n for n, _ in b.values())
        self.diff.segments = len(set(a) | set(b))
        self._resolve(segments, a, b)

    def _initial_segments(self, a: Survey, b: Survey) -> Segmenter | None:
        every = self.options.segment_rows
        if self.integer_key:
            bounds = [x.bounds for x in (a, b) if x.bounds is not None]
            if not bounds:
                return None
            lo, hi = min(x[0] for x in bounds), max(x[1] for x in bounds)
            estimate = self.shard.rows or max(
                (e for e in (a.estimate, b.estimate) if e), default=hi - lo + 1
            )
            span = hi - lo + 1
            every = self._first_pass_rows(estimate)
            width = max(1, math.ceil(span * every / max(estimate, 1)))
            # Unique integer keys put at most ``width`` rows in a segment. A sum of hashes
            # needs no memory whatever the count; a digest holds the segment's text, so sparse
            # keys (where width could hide a dense cluster) are split by samples instead.
            if not self.src.fields or width <= 2 * every:
                # A shard's segments stop at its end: a later split or fetch of the last
                # one must not reach into the next shard, which counts those rows itself.
                end = None if self.within.hi is None else int(self.within.hi[0])
                return IntSegments(lo, width, end)
        samples = _both(
            lambda: self.src.sample_keys(every, self.within),
            lambda: self.tgt.sample_keys(every, self.within),
        )
        return BoundarySegments(_union(*samples), self.within)

    def _first_pass_rows(self, estimate: int) -> int:
        """Rows per first-pass segment for arithmetic segments. Where both sides sum row
        hashes server-side, segments small enough to fetch (``fetch_rows``), up to
        :data:`FIRST_PASS_SEGMENTS` of them: a few thousand more groups in the one scan cost
        nothing measurable, and a differing segment is then fetched at once, without a
        bisection level (a round trip a side, and the differing segments hashed again).
        ``segment_rows`` otherwise: a digest side (SQLite) runs a query per segment, and a
        bounded side (Aurora DSQL) a statement per block of segments."""
        every = self.options.segment_rows
        if self.src.fields or self.src.bounded or self.tgt.bounded:
            return every
        # Three quarters of fetch_rows: a segment of dense keys holds up to its width, which
        # exceeds ``every`` where the estimate is short of the rows.
        fine = max(self.options.fetch_rows * 3 // 4, math.ceil(estimate / FIRST_PASS_SEGMENTS))
        return min(every, fine)

    def _resolve(self, segments: Segmenter, a: Checksums, b: Checksums) -> None:
        """Bisect the differing segments level by level: each level's splits go to each side
        as one batch (one round trip on PostgreSQL), and so do its fetches."""
        level = _differing(segments, a, b)
        for depth in itertools.count():
            fetch: list[tuple[Range, int]] = []
            splits: list[tuple[Range, int, Segmenter]] = []
            for within, rows in level:
                small = rows <= self.options.fetch_rows or depth > 40
                parts = None if small else self._split(within, rows)
                if parts is None:
                    fetch.append((within, rows))
                else:
                    splits.append((within, rows, parts))
            level = []
            for batch in _batches(splits, BATCH_JOBS):
                jobs = [(parts, within) for within, _, parts in batch]
                a_all, b_all = _both(
                    partial(self.src.checksums_many, jobs), partial(self.tgt.checksums_many, jobs)
                )
                for (within, rows, parts), a, b in zip(batch, a_all, b_all, strict=True):
                    self.diff.segments_split += 1
                    differing = _differing(parts, a, b)
                    if len(differing) * 2 > len(set(a) | set(b)) and (
                        rows <= self.options.early_fetch_rows
                    ):
                        fetch.append((within, rows))  # most parts differ: fetch, no more trips
                    else:
                        level += differing
            self._diff_rows(fetch)
            if not level:
                return

    def _split(self, within: Range, rows: int) -> Segmenter | None:
        if self.integer_key and within.lo is not None and within.hi is not None:
            lo, hi = int(within.lo[0]), int(within.hi[0])
            width = max(1, math.ceil((hi - lo) / SPLIT))
            return IntSegments(lo, width, hi) if width < hi - lo else None
        every = max(1, rows // SPLIT)
        boundaries = self.src.sample_keys(every, within) or self.tgt.sample_keys(every, within)
        inner = tuple(k for k in boundaries if k != within.lo)
        return BoundarySegments(inner, within) if inner else None

    def _diff_rows(self, ranges: Sequence[tuple[Range, int]]) -> None:
        """Fetch the ranges from both sides, some batches of rows, and diff the rows."""
        batch: list[Range] = []
        held = 0
        for within, rows in ranges:
            if batch and held + rows > FETCH_BATCH_ROWS:
                self._fetch_and_diff(batch)
                batch, held = [], 0
            batch.append(within)
            held += rows
        if batch:
            self._fetch_and_diff(batch)

    def _fetch_and_diff(self, ranges: Sequence[Range]) -> None:
        a, b = _both(partial(self.src.fetch_many, ranges), partial(self.tgt.fetch_many, ranges))
        _diff_rows(a, b, self.columns, self.key, self.diff, self.options.sample_cap)


def _differing(segments: Segmenter, a: Checksums, b: Checksums) -> list[tuple[Range, int]]:
    """The differing segments' ranges, in order, each with its larger row count."""
    numbers = sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))
    return [(segments.range(n), max(a.get(n, (0, 0))[0], b.get(n, (0, 0))[0])) for n in numbers]


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _union(a: Sequence[Key], b: Sequence[Key]) -> tuple[Key, ...]:
    """Both sides' sampled boundaries in key order, so each side's segments stay small.

    Python orders ints and strs as the sides do (text keys are ranged in byte order). Keys
    whose Python types do not order together (a UUID and SQLite's text for it) come from the
    source alone, whose SQLite values bind in both databases; segments are then sized by the
    source's rows only."""
    try:
        return tuple(sorted(set(a) | set(b)))
    except TypeError:
        return tuple(a or b)


def _diff_rows(
    a: Rows,
    b: Rows,
    columns: Sequence[ColumnPlan],
    key: Sequence[int],
    diff: RowDiff,
    cap: int,
) -> None:
    def key_of(k: tuple[str | None, ...]) -> dict[str, str | None]:
        return {columns[i].source: v for i, v in zip(key, k, strict=True)}

    def keep(sample: RowSample) -> None:
        if len(diff.samples) < cap:
            diff.samples.append(sample)

    for k in sorted(a.keys() - b.keys(), key=str):
        diff.missing += 1
        keep(RowSample("missing", key_of(k)))
    for k in sorted(b.keys() - a.keys(), key=str):
        diff.extra += 1
        keep(RowSample("extra", key_of(k)))
    for k in sorted(a.keys() & b.keys(), key=str):
        left, right = a[k], b[k]
        if left == right:
            continue
        diff.changed += 1
        changed = {
            columns[i].source: (left[i], right[i])
            for i in range(len(columns))
            if left[i] != right[i]
        }
        for name in changed:
            diff.changed_columns[name] = diff.changed_columns.get(name, 0) + 1
        keep(RowSample("changed", key_of(k), changed))


def _compare_multisets(src: Side, tgt: Side, diff: RowDiff, options: RowOptions) -> None:
    """No key: compare as multisets, by buckets of row hashes; rows in differing buckets
    are fetched as texts and counted (a changed row shows as one missing plus one extra)."""
    (a, _), (b, _) = _both(lambda: src.multiset(None), lambda: tgt.multiset(None))
    diff.source_rows = sum(n for n, _ in a.values())
    diff.target_rows = sum(n for n, _ in b.values())
    diff.segments = len(set(a) | set(b))
    buckets = [f"{n:x}" for n in sorted(set(a) | set(b)) if a.get(n) != b.get(n)]
    if not buckets:
        return
    (_, left), (_, right) = _both(lambda: src.multiset(buckets), lambda: tgt.multiset(buckets))
    for text in sorted(left.keys() | right.keys()):
        surplus = left.get(text, 0) - right.get(text, 0)
        if surplus > 0:
            diff.missing += surplus
            if len(diff.samples) < options.sample_cap:
                diff.samples.append(RowSample("missing", {"row": src.show_row(text)}))
        elif surplus < 0:
            diff.extra += -surplus
            if len(diff.samples) < options.sample_cap:
                diff.samples.append(RowSample("extra", {"row": tgt.show_row(text)}))
