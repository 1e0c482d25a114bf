"""The ``lint`` section of ``results.json``: what the DSQL compatibility lint covered.

Built from the recorded ``dsql_compat`` check dicts alone (the controller has nothing else:
the items ran in xdist workers), so it needs no import of the engine or sqlglot.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

AREA = "dsql_compat"
"""The scenario area of the lint (here, not in ``api``, so results.py needs no engine)."""


def results_section(checks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Files and objects, statements by verdict, findings by rule, suppressed, rule pack."""
    linted = [c for c in checks if c.get("area") == AREA]
    if not linted:
        return None
    statements: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    suppressed = 0
    packs: set[str] = set()
    for check in linted:
        evidence = check.get("evidence") or {}
        statements.update(evidence.get("statements") or {})
        for finding in evidence.get("findings") or []:
            if finding.get("suppressed_by"):
                suppressed += 1
            else:
                by_rule[str(finding.get("rule"))] += 1
        if evidence.get("rule_pack"):
            packs.add(str(evidence["rule_pack"]))
    return {
        "files": sum(1 for c in linted if (c.get("evidence") or {}).get("source") != "catalog"),
        "schema_objects": sum(
            1 for c in linted if (c.get("evidence") or {}).get("source") == "catalog"
        ),
        "statements": sum(statements.values()),
        "statements_by_verdict": dict(sorted(statements.items())),
        "findings_by_rule": dict(sorted(by_rule.items())),
        "suppressed": suppressed,
        "rule_pack": ", ".join(sorted(packs)),
    }
