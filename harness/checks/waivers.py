"""Apply the plan's expected differences to findings, and account for which were used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from harness.plan.model import ExpectedDifference, is_expired
from harness.plan.scope import TablePair
from harness.results.check import Finding, Waiver


def _matches(diff: ExpectedDifference, finding: Finding, pair: TablePair) -> bool:
    if diff.table is None or diff.table not in (pair.id, pair.source, pair.target):
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
    return _apply(findings, diffs, lambda d, f: _matches(d, f, pair), today)


def apply_to_query(
    findings: list[Finding],
    diffs: tuple[ExpectedDifference, ...],
    query: str,
    *,
    today: date | None = None,
) -> list[Finding]:
    """The same for the findings of one application query (its answer or latency items)."""

    def matches(diff: ExpectedDifference, finding: Finding) -> bool:
        return diff.query == query and (diff.kind is None or diff.kind is finding.kind)

    return _apply(findings, diffs, matches, today)


def _apply(
    findings: list[Finding],
    diffs: tuple[ExpectedDifference, ...],
    matches: Callable[[ExpectedDifference, Finding], bool],
    today: date | None,
) -> list[Finding]:
    out = []
    for finding in findings:
        for index, diff in enumerate(diffs):
            if not is_expired(diff, today) and matches(diff, finding):
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
            "query": d.query,
            "kind": d.kind.value if d.kind else None,
            "reason": d.reason,
            "reviewer": d.reviewer,
            "expires": d.expires.isoformat() if d.expires else None,
            "used": i in used,
            "expired": is_expired(d, today),
        }
        for i, d in enumerate(diffs)
    ]
