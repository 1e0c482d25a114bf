"""results.json → SARIF: the located findings of the lint and residue areas, one run each.

Everything comes from the document itself (the checks' evidence records rule, file, line and
column), never from the installed rule pack, so the same results.json gives the same SARIF
bytes on any machine. A finding a reviewer waived stays in the log with a ``suppressions``
entry carrying the waiver's reason, as SARIF viewers expect, instead of disappearing.

    area          evidence it reads                              SARIF tool name
    dsql_compat   ``findings[]`` of each linted file (LintFinding)  cutover-lint
    residue       ``code[]`` / ``comments[]`` hits of each file    cutover-residue
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from harness.capabilities import DSQL_COMPAT, RESIDUE
from harness.report.formats.sarif import SarifFinding, SarifRule, sarif_log, sarif_run

LINT_AREA = DSQL_COMPAT.area
RESIDUE_AREA = RESIDUE.area
SARIF_AREAS = (LINT_AREA, RESIDUE_AREA)
"""Areas whose findings point at lines of files, so a code-scanning view can show them."""


def sarif_from_results(results: Mapping[str, Any]) -> dict[str, Any]:
    """The SARIF log for ``results`` (a parsed results.json); a run per tool, maybe empty."""
    version = _text((results.get("environment") or {}).get("harness_version")) or "0+unknown"
    checks = [c for c in _list(results.get("checks")) if isinstance(c, Mapping)]
    lint = [c for c in checks if c.get("area") == LINT_AREA]
    residue = [c for c in checks if c.get("area") == RESIDUE_AREA]
    packs = sorted({_text(_map(c.get("evidence")).get("rule_pack")) or "" for c in lint} - {""})
    rules: dict[str, SarifRule] = {}
    lint_run = sarif_run(
        list(_lint_findings(lint, rules)),
        tool_name="cutover-lint",
        tool_version=version,
        # which DSQL rule pack judged the SQL: part of the evidence, so part of the log
        properties={"rulePacks": packs} if packs else None,
    )
    residue_run = sarif_run(
        list(_residue_findings(residue, rules)), tool_name="cutover-residue", tool_version=version
    )
    return sarif_log(lint_run, residue_run)


def _rule(rules: dict[str, SarifRule], rule_id: str, name: str | None, severity: str) -> SarifRule:
    """One description per rule id (the first finding's), shared by all its findings."""
    if rule_id not in rules:
        short = f"{rule_id} {name}" if name else rule_id
        rules[rule_id] = SarifRule(id=rule_id, short=short, name=name, severity=severity)
    return rules[rule_id]


def _lint_findings(
    checks: Sequence[Mapping[str, Any]], rules: dict[str, SarifRule]
) -> Iterator[SarifFinding]:
    for check in checks:
        for raw in _list(_map(check.get("evidence")).get("findings")):
            f = _map(raw)
            rule_id, path = _text(f.get("rule")), _text(f.get("path"))
            if not rule_id or not path:
                continue
            severity = _severity(f.get("severity"))
            name = _text(f.get("name"))
            message = _text(f.get("message")) or rule_id
            if f.get("fix"):
                message += f" → {f['fix']}"
            yield SarifFinding(
                rule=_rule(rules, rule_id, name, severity),
                message=message,
                path=path,
                line=_positive(f.get("line")),
                column=_positive(f.get("col")),
                severity=severity,
                fingerprint=_text(f.get("fingerprint")),
                snippet=_text(f.get("preview")),
                suppression=_justification(f.get("suppressed_by")),
            )


def _residue_findings(
    checks: Sequence[Mapping[str, Any]], rules: dict[str, SarifRule]
) -> Iterator[SarifFinding]:
    for check in checks:
        path = _text(check.get("name"))
        evidence = _map(check.get("evidence"))
        if not path:
            continue
        # The check's findings carry the verdict-relevant severity and waiver of each hit;
        # they are named ``path:line`` and end with ``[rule]``.
        by_place = {
            (_text(f.get("object")), (_text(f.get("message")) or "").rsplit("[", 1)[-1]): f
            for f in map(_map, _list(check.get("findings")))
        }
        for context in ("code", "comments"):
            for raw in _list(evidence.get(context)):
                hit = _map(raw)
                rule_id, line = _text(hit.get("rule")), _positive(hit.get("line"))
                if not rule_id:
                    continue
                finding = by_place.get((f"{path}:{line}", f"{rule_id}]"), {})
                default = "error" if context == "code" else "warning"
                severity = _severity(finding.get("severity") or default)
                waiver = finding.get("waived_by") or hit.get("allowed")
                yield SarifFinding(
                    rule=_rule(rules, rule_id, None, "error"),
                    message=_text(hit.get("message")) or rule_id,
                    path=path,
                    line=line,
                    column=_positive(hit.get("column")),
                    severity=severity,
                    snippet=_text(hit.get("text")),
                    suppression=_justification(waiver),
                )


def _justification(waiver: Any) -> str | None:
    if not isinstance(waiver, Mapping):
        return None
    who = _text(waiver.get("reviewer"))
    reason = _text(waiver.get("reason")) or "waived"
    expires = _text(waiver.get("expires"))
    return reason + (f" ({who})" if who else "") + (f", expires {expires}" if expires else "")


def _severity(value: Any) -> str:
    text = _text(value) or "warning"
    return text if text in ("error", "warning", "info", "note", "none") else "warning"


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()
