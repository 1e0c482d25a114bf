"""SARIF 2.1.0 for GitHub code scanning and other viewers.

Rules metadata comes from the rule pack; each result carries a ``partialFingerprints`` entry
that depends on the rule, the normalised statement text and its occurrence index — not on
line numbers — so an alert survives lines moving above it. Suppressed findings stay in the
log with ``suppressions[]`` and their justification; statements that could not be analysed
are also listed as ``toolExecutionNotifications``.
"""

from __future__ import annotations

import json
from typing import Any

from harness.lint.pack import RULES, SOURCES
from harness.lint.report import LintFinding, LintReport

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "cutoverStatement/v1"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _rule(index: int) -> dict[str, Any]:
    r = RULES[index]
    return {
        "id": r.id,
        "name": "".join(part.capitalize() for part in r.name.split("-")),
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.rationale},
        "help": {
            "text": f"{r.rationale}\nFix: {r.fix}\nBad: {r.bad}\nGood: {r.good}",
            "markdown": f"{r.rationale}\n\n**Fix:** {r.fix}\n\n```sql\n-- bad\n{r.bad}\n-- good\n"
            f"{r.good}\n```",
        },
        "defaultConfiguration": {"level": _LEVEL[r.severity.value]},
        "properties": {
            "tags": ["dsql", r.scope],
            "kebabName": r.name,
            "fixKind": r.fix_kind.value,
            "asOf": r.as_of,
            "confirmed": r.confirmed,
            "sources": [SOURCES.get(s, s) for s in r.sources],
        },
    }


def _result(f: LintFinding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity.value],
        "message": {"text": f"{f.message} → {f.fix}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f.path.replace("\\", "/")},
                    "region": {"startLine": f.line, "startColumn": f.col},
                },
                **({"logicalLocations": [{"name": f.object}]} if f.object else {}),
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
    }
    if f.suppressed_by is not None:
        s = f.suppressed_by
        result["suppressions"] = [
            {
                "kind": "inSource" if s.kind == "inline" else "external",
                "justification": s.reason,
                **(
                    {"properties": {"reviewer": s.reviewer, "expires": s.expires}}
                    if s.reviewer
                    else {}
                ),
            }
        ]
    return result


def to_sarif(report: LintReport) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (a dict ready for ``json.dumps``)."""
    index = {r.id: i for i, r in enumerate(RULES)}
    notifications = [
        {
            "level": "error",
            "message": {"text": f"statement could not be analysed ({s.kind})"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": file.path.replace("\\", "/")},
                        "region": {"startLine": s.line, "startColumn": s.col},
                    }
                }
            ],
        }
        for file in report.files
        for s in file.statements
        if s.verdict.value == "unanalysed"
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cutover lint",
                        "semanticVersion": "0.1.0",
                        "properties": {"rulePack": report.pack_version},
                        "rules": [_rule(i) for i in range(len(RULES))],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": [_result(f, index[f.rule_id]) for f in report.findings],
            }
        ],
    }


def sarif(report: LintReport) -> str:
    return json.dumps(to_sarif(report), indent=2, ensure_ascii=False) + "\n"
