"""The text layer: identifiers of the retired cluster and Aurora-only names, in any file.

Structure scanners know what a resource is; this layer knows what a name is. It runs on every
file, whatever its format, because an endpoint host name in a shell script or a Lambda's
source is as much a leftover as one in a template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.iac.lexers import Locator
from harness.residue.hits import Context, Hit
from harness.residue.settings import RetiredSettings

# A name ends where a character that could continue it ends: "lexicon-db" must not match
# inside "lexicon-db-dsql", nor "DB_HOST" inside "OLD_DB_HOST".
_BEFORE = r"(?<![A-Za-z0-9_-])"
_AFTER = r"(?![A-Za-z0-9_-])"

_ENDPOINT = (
    r"(?i:\b[a-z0-9][a-z0-9-]*\.(?:cluster|proxy)-(?:ro-|custom-)?[a-z0-9]+"
    r"\.[a-z0-9-]+\.rds\.amazonaws\.com(?:\.cn)?\b)"
)
RDS_ENDPOINT = re.compile(_ENDPOINT)
"""An Aurora cluster or RDS Proxy endpoint host name, whichever cluster it names."""

_BUILT_IN: tuple[tuple[str, str, str], ...] = (
    # The engine, and the parameter-group families built from it (aurora-postgresql15,
    # aurora-mysql8.0): names only an Aurora cluster uses.
    (
        "RES002",
        r"(?i:" + _BEFORE + r"aurora-(?:postgresql|mysql)(?:\d+(?:\.\d+)*)?" + _AFTER + ")",
        "Aurora engine",
    ),
    ("RES003", _ENDPOINT, "Aurora endpoint host name"),
    # A UUID exactly: an ARN's "-AbC123" suffix must not make this match outgrow the plan's.
    (
        "RES004",
        r"(?i:rds!(?:cluster|db)-[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})",
        "RDS-managed secret",
    ),
)


@dataclass(frozen=True)
class _Pattern:
    rule: str
    regex: re.Pattern[str]
    label: str
    priority: int
    """Lower wins when two patterns match the same span: the plan's names are most specific."""


class Matcher:
    """Finds every identifier of one plan's retired cluster in a text."""

    def __init__(self, settings: RetiredSettings) -> None:
        self._patterns: list[_Pattern] = []
        for label, values in settings.identifiers().items():
            for value in sorted(values, key=len, reverse=True):
                self._patterns.append(_Pattern("RES001", _literal(label, value), label, 0))
        for rule, pattern, label in _BUILT_IN:
            self._patterns.append(_Pattern(rule, re.compile(pattern), label, 1))

    def find(self, text: str, where: Locator) -> list[Hit]:
        """Non-overlapping matches; where two overlap, the longer (then the plan's) wins."""
        matches = [(m.start(), m.end(), p) for p in self._patterns for m in p.regex.finditer(text)]
        matches.sort(key=lambda m: (m[0], -(m[1] - m[0]), m[2].priority))
        hits: list[Hit] = []
        taken_until = -1
        for start, end, pattern in matches:
            if start < taken_until:
                continue
            taken_until = end
            line, column = where.position(start)
            context = Context.COMMENT if where.in_comment(start) else Context.CODE
            matched = text[start:end]
            hits.append(
                Hit(
                    pattern.rule,
                    line,
                    column,
                    matched,
                    context,
                    f"{pattern.label} of the retired cluster"
                    if pattern.rule == "RES001"
                    else pattern.label,
                )
            )
        return hits


def _literal(label: str, value: str) -> re.Pattern[str]:
    escaped = re.escape(value)
    if label == "environment variable":
        return re.compile(_BEFORE + escaped + _AFTER)  # case matters for variable names
    if label == "secret":
        # An ARN appends "-AbC123" to the name: let the name match as a prefix of it.
        return re.compile(_BEFORE + escaped, re.IGNORECASE)
    return re.compile(_BEFORE + escaped + _AFTER, re.IGNORECASE)
