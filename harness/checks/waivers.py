"""Apply the plan's expected differences to findings, and account for which were used."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from harness.checks.result import Finding, Waiver
from harness.plan import ExpectedDifference, is_expired
from harness.scope import TablePair


def _matches(diff: ExpectedDifference, finding: Finding, pair: TablePair) -> bool:
    if diff.table not in (pair.id, pair.source, pair.target):
        return False
    if diff.kind is not None and diff.kind is not finding.kind:
        return False
    if diff.column is None:
        return True
    source_names = [s for s, t in pair.columns if t == finding.column]
    return diff.column == finding.column or diff.column in source_names


def apply(
    findings: list[Finding],
    diffs: tuple[ExpectedDifference, ...],
    pair: TablePair,
    *,
    today: date | None = None,
) -> list[Finding]:
    """Mark findings excused by an unexpired expected difference (the first that matches)."""
    out = []
    for finding in findings:
        for index, diff in enumerate(diffs):
            if not is_expired(diff, today) and _matches(diff, finding, pair):
                finding = replace(
                    finding,
                    waived_by=Waiver(
                        diff.reason,
                        diff.reviewer,
                        diff.expires.isoformat() if diff.expires else None,
                        index,
                    ),
                )
                break
        out.append(finding)
    return out


def account(
    diffs: tuple[ExpectedDifference, ...],
    checks: list[dict[str, Any]],
    *,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """The plan's expected differences for results.json, each with ``used`` and ``expired``."""
    used = {
        f["waived_by"]["index"] for c in checks for f in c.get("findings", []) if f.get("waived_by")
    }
    return [
        {
            "table": d.table,
            "column": d.column,
            "kind": d.kind.value if d.kind else None,
            "reason": d.reason,
            "reviewer": d.reviewer,
            "expires": d.expires.isoformat() if d.expires else None,
            "used": i in used,
            "expired": is_expired(d, today),
        }
        for i, d in enumerate(diffs)
    ]
