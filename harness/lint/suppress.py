"""Inline suppressions (``-- cutover: ignore[DSQL050] reason``) and plan waivers.

A suppressed finding is kept, marked with what suppressed it, so reports show it as
suppressed rather than hiding it. The reason is required: a comment without one suppresses
nothing and is itself reported (LINT001), as is a rule id that does not exist (LINT002).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatch
from typing import TYPE_CHECKING

from harness.lint.pack import RULES_BY_ID

if TYPE_CHECKING:
    from harness.lint.settings import LintWaiver

DIRECTIVE = re.compile(
    r"(?:--|#|//|/\*)\s*cutover:\s*ignore(-file)?\[([^\]]*)\][ \t]*(.*?)(?:\*/)?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Directive:
    """One parsed ``cutover: ignore[...]`` comment."""

    rules: tuple[str, ...]
    reason: str
    whole_file: bool
    offset: int
    unknown: tuple[str, ...]


def parse_directives(comment: str, offset: int) -> list[Directive]:
    """The directives in one comment (usually zero or one)."""
    out = []
    for m in DIRECTIVE.finditer(comment):
        rules = tuple(r.strip().upper() for r in m.group(2).split(",") if r.strip())
        unknown = tuple(r for r in rules if r not in RULES_BY_ID)
        reason = m.group(3).strip().strip("-—: ").strip()
        out.append(Directive(rules, reason, bool(m.group(1)), offset + m.start(), unknown))
    return out


def waiver_matches(
    waiver: LintWaiver, rule_id: str, path: str, obj: str | None, today: date | None = None
) -> bool:
    """True when ``waiver`` excuses ``rule_id`` at ``path`` for ``obj`` and has not expired."""
    if waiver.rule != rule_id and waiver.rule != "*":
        return False
    if waiver.expires is not None and waiver.expires < (today or date.today()):
        return False
    if not fnmatch(path, waiver.path) and not fnmatch(path, f"*/{waiver.path}"):
        return False
    if waiver.object is None:
        return True
    if obj is None:
        return False
    return waiver.object.lower() in (obj.lower(), obj.lower().rsplit(".", 1)[-1])
