"""Segments: numbered key ranges a table is checksummed in, by arithmetic or by boundaries."""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Range:
    """Keys ``lo <= key < hi``; ``None`` is unbounded."""

    lo: Key | None = None
    hi: Key | None = None


ALL_KEYS = Range()
"""Every key: the whole table."""


class Segmenter(ABC):
    """Assigns a key to a numbered segment and gives each segment's key range."""

    @abstractmethod
    def segment(self, key: Key) -> int: ...

    @abstractmethod
    def range(self, number: int) -> Range: ...


@dataclass(frozen=True)
class IntSegments(Segmenter):
    """Integer keys: segment n holds ``lo + n*width <= key < lo + (n+1)*width``."""

    lo: int
    width: int
    hi: int | None = None
    """Exclusive upper end when splitting a segment: the last part stops there."""

    def segment(self, key: Key) -> int:
        return (int(key[0]) - self.lo) // self.width

    def range(self, number: int) -> Range:
        start = self.lo + number * self.width
        end = start + self.width if self.hi is None else min(start + self.width, self.hi)
        return Range((start,), (end,))


@dataclass(frozen=True)
class BoundarySegments(Segmenter):
    """Any orderable key: boundaries sampled from the data; segment n is
    ``[boundaries[n-1], boundaries[n])``, the first and last unbounded on one end."""

    boundaries: tuple[Key, ...]
    within: Range = Range()

    def segment(self, key: Key) -> int:
        return bisect.bisect_right(self.boundaries, key)

    def range(self, number: int) -> Range:
        lo = self.boundaries[number - 1] if number > 0 else self.within.lo
        hi = self.boundaries[number] if number < len(self.boundaries) else self.within.hi
        return Range(lo, hi)
