"""Shards: a large table cut into contiguous key ranges, each compared by its own pytest item.

A table whose estimated rows exceed ``rows.shard_rows`` becomes several items
(``test_rows[events#3/8]``) that xdist workers — and the servers' cores — hash in parallel.
The controller plans the shards once, before collection (:func:`plan`), and hands the plan to
every worker as plain data (:meth:`Shard.to_dict`): each worker collects on its own, and
boundaries computed twice from a live estimate could differ, which xdist would refuse.

The first shard is open below and the last open above, and each boundary is the next shard's
inclusive start, so every key — one the plan never saw, a target-only key, one below the
smallest or above the largest — falls in exactly one shard. Integer keys are cut by
arithmetic between the two sides' smallest and largest keys (two index reads); other keys at
keys sampled from the source in key order, as the database orders them. The report merges a
table's shards back into one result (:func:`harness.checks.rows.merge_shards`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.rows.segments import ALL_KEYS, Key, Range
from harness.rows.sides.base import Side

PLAIN = (int, float, str, bytes, bool, type(None))
"""Key values that cross to xdist workers as they are; others (a UUID, a date) go as their
text, which PostgreSQL reads back as the key's type (psycopg sends a str untyped)."""


@dataclass(frozen=True)
class Shard:
    """Shard ``number`` of ``of`` (from 1): the keys ``within``, about ``rows`` of them."""

    number: int = 1
    of: int = 1
    within: Range = ALL_KEYS
    rows: int | None = None
    """The table's estimated rows over its shards (None: one shard, the survey decides)."""

    @property
    def first(self) -> bool:
        """The shard that also runs the whole-table checks (NULL keys, a declared key's
        repeats): a NULL key lies in no range."""
        return self.number == 1

    def label(self, table: str) -> str:
        """``events#3/8``; a table in one shard keeps its own name."""
        return table if self.of == 1 else f"{table}#{self.number}/{self.of}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "of": self.of,
            "lo": None if self.within.lo is None else [_plain(v) for v in self.within.lo],
            "hi": None if self.within.hi is None else [_plain(v) for v in self.within.hi],
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shard:
        lo, hi = data["lo"], data["hi"]
        within = Range(None if lo is None else tuple(lo), None if hi is None else tuple(hi))
        return cls(int(data["number"]), int(data["of"]), within, data["rows"])


WHOLE = Shard()


def _plain(value: Any) -> Any:
    return value if isinstance(value, PLAIN) else str(value)


def cut(boundaries: Sequence[Key], rows: int | None) -> tuple[Shard, ...]:
    """Shards between ``boundaries`` (ascending in the database's key order; repeats
    dropped): the first open below, the last open above."""
    kept: list[Key] = []
    for b in boundaries:
        if not kept or kept[-1] != b:
            kept.append(b)
    edges: list[Key | None] = [None, *kept, None]
    of = len(kept) + 1
    share = None if rows is None or of == 1 else math.ceil(rows / of)
    return tuple(Shard(n + 1, of, Range(edges[n], edges[n + 1]), share) for n in range(of))


def integer_boundaries(lo: int, hi: int, shards: int) -> list[Key]:
    """``shards - 1`` evenly spaced starts inside ``[lo, hi]`` (fewer when the span is
    narrower than the count)."""
    width = max(1, math.ceil((hi - lo + 1) / shards))
    return [(lo + i * width,) for i in range(1, shards) if lo + i * width <= hi]


def plan(
    src: Side,
    tgt: Side,
    *,
    integer_key: bool,
    shard_rows: int,
    bounded_rows: int | None = None,
) -> tuple[Shard, ...]:
    """The shards of one table: one (:data:`WHOLE`) unless its estimated rows on either side
    exceed ``shard_rows``. ``bounded_rows``: on a server whose transactions end after five
    minutes (Aurora DSQL), no sampling statement reads more keys than that."""
    estimates = [e for e in (src.estimate_rows(), tgt.estimate_rows()) if e]
    rows = max(estimates, default=0)
    if rows <= shard_rows:
        return (WHOLE,)
    count = math.ceil(rows / shard_rows)
    if integer_key:
        ends = [b for b in (src.key_bounds(), tgt.key_bounds()) if b is not None]
        if not ends:
            return (WHOLE,)
        lo, hi = min(e[0] for e in ends), max(e[1] for e in ends)
        return cut(integer_boundaries(lo, hi, count), rows)
    every = math.ceil(rows / count)
    step = min(every, bounded_rows) if bounded_rows else every
    samples = src.sample_keys(step, Range()) or tgt.sample_keys(step, Range())
    stride = math.ceil(every / step)
    return cut(samples[stride - 1 :: stride][: count - 1], rows)
