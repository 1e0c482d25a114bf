"""Two snapshots, one check result per table: unchanged, or changed and how."""

from __future__ import annotations

from harness.dynamo.snapshot import Snapshot
from harness.results.check import CheckResult, Finding, FindingKind, Severity, conclude

AREA = "dynamo"

CHANGED_KIND = FindingKind.ITEMS_CHANGED


def compare_table(name: str, before: Snapshot, after: Snapshot) -> CheckResult:
    """The table holds the same items after as before (count and digest)."""
    old, new = before.tables.get(name), after.tables.get(name)
    evidence = {
        "before": old.to_dict() if old else None,
        "after": new.to_dict() if new else None,
        "before_taken_at": before.taken_at,
        "after_taken_at": after.taken_at,
    }
    findings: list[Finding] = []
    if old is None or new is None:
        missing = "before" if old is None else "after"
        kind = FindingKind.EXTRA_TABLE if old is None else FindingKind.MISSING_TABLE
        findings.append(
            Finding(kind, Severity.ERROR, name, f"{name}: not in the {missing} snapshot")
        )
    elif old.items != new.items:
        findings.append(
            Finding(
                FindingKind.ROW_COUNT,
                Severity.ERROR,
                name,
                f"{name}: {old.items} items before, {new.items} after",
                source=str(old.items),
                target=str(new.items),
            )
        )
    elif old.digest != new.digest:
        findings.append(
            Finding(
                CHANGED_KIND,
                Severity.ERROR,
                name,
                f"{name}: same {old.items} items counted, but their contents changed",
                source=old.digest,
                target=new.digest,
            )
        )
    ok = f"{old.items if old else 0} items, unchanged"
    return conclude(AREA, name, findings, evidence, ok=ok)


def compare(before: Snapshot, after: Snapshot) -> list[CheckResult]:
    """One result per table in either snapshot, sorted by name."""
    names = sorted(set(before.tables) | set(after.tables))
    return [compare_table(name, before, after) for name in names]
