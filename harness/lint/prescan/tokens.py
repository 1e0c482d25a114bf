"""Words, names and literals of a statement: what every part of the pre-scan reads.

The statement's first words (identifiers upper-cased), its text with string and
dollar-quoted literals emptied for keyword searches, and :class:`Prepared`, the hand-over to
sqlglot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.lint import analysis as A
from harness.lint.analysis import Analysis

_WORD = re.compile(r'[A-Za-z_][A-Za-z_0-9$]*|"(?:[^"]|"")*"|\S')
_QUOTED = re.compile(r"'(?:[^']|'')*'|\$([A-Za-z_]*)\$.*?\$\1\$", re.DOTALL)


def words(text: str, n: int = 10) -> list[str]:
    """The first ``n`` words (identifiers upper-cased, punctuation as itself)."""
    out: list[str] = []
    for m in _WORD.finditer(text, 0, min(len(text), 400)):
        out.append(m.group().upper())
        if len(out) == n:
            break
    return out


def qualified(w: list[str], i: int) -> str:
    """The possibly schema-qualified name starting at ``w[i]``, as its bare lower-case name."""
    if i >= len(w):
        return ""
    if i + 2 < len(w) and w[i + 1] == ".":
        return A.bare(w[i + 2])
    return A.bare(w[i])


def strip_literals(text: str) -> str:
    """The text with string and dollar-quoted literals emptied (for keyword searches)."""
    return _QUOTED.sub("''", text)


@dataclass
class Prepared:
    """A statement to hand to sqlglot: the text to parse and what the pre-scan already knows."""

    sql: str
    analysis: Analysis
    identity_caches: list[int | None] = field(default_factory=list)
    """CACHE of each ``AS IDENTITY`` in order (None when absent), stripped from ``sql``."""
    using_index: bool = False


Outcome = Analysis | Prepared


def strip_at(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


MATCH_PARTIAL = re.compile(r"\bMATCH\s+PARTIAL\b", re.IGNORECASE)
