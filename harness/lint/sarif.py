"""``cutover lint --format sarif``: a :class:`LintReport` for the SARIF writer.

The log itself is written by :mod:`harness.report.formats.sarif` (in its ``LINT_STYLE``);
this module only says what a rule, a finding and an unanalysable statement are in its terms.
Rules metadata comes from the rule pack; each result's ``partialFingerprints`` entry depends on
the rule, the normalised statement text and its occurrence index — not on line numbers — so
an alert survives lines moving above it. Suppressed findings stay in the log with
``suppressions[]`` and their justification; statements that could not be analysed are
listed as ``toolExecutionNotifications``.
"""

from __future__ import annotations

from typing import Any

from harness.lint.pack import RULES, SOURCES
from harness.lint.report import LintFinding, LintReport, Suppression, Verdict
from harness.lint.rule import Rule
from harness.report.formats.sarif import (
    LINT_STYLE,
    SarifFinding,
    SarifNotification,
    SarifRule,
    SarifSuppression,
    sarif_json,
    sarif_log,
    sarif_run,
)

TOOL_NAME = "cutover lint"
TOOL_VERSION = "0.1.0"


def sarif_rule(r: Rule) -> SarifRule:
    """A rule-pack rule as SARIF describes it: summary, rationale, fix with examples."""
    return SarifRule(
        id=r.id,
        name="".join(part.capitalize() for part in r.name.split("-")),
        short=r.summary,
        full=r.rationale,
        help=f"{r.rationale}\nFix: {r.fix}\nBad: {r.bad}\nGood: {r.good}",
        help_markdown=f"{r.rationale}\n\n**Fix:** {r.fix}\n\n```sql\n-- bad\n{r.bad}\n-- good\n"
        f"{r.good}\n```",
        severity=r.severity.value,
        tags=("dsql", r.scope),
        properties={
            "kebabName": r.name,
            "fixKind": r.fix_kind.value,
            "asOf": r.as_of,
            "confirmed": r.confirmed,
            "sources": [SOURCES.get(s, s) for s in r.sources],
        },
    )


def _suppression(s: Suppression) -> SarifSuppression:
    return SarifSuppression(
        s.reason,
        kind="inSource" if s.kind == "inline" else "external",
        status=None,
        properties={"reviewer": s.reviewer, "expires": s.expires} if s.reviewer else {},
    )


def sarif_finding(f: LintFinding, rule: SarifRule) -> SarifFinding:
    """One finding, located by file, line and column, with the schema object it is about."""
    return SarifFinding(
        rule=rule,
        message=f"{f.message} → {f.fix}",
        path=f.path,
        line=f.line,
        column=f.col,
        severity=f.severity.value,
        fingerprint=f.fingerprint,
        suppression=None if f.suppressed_by is None else _suppression(f.suppressed_by),
        logical_location=f.object,
    )


def to_sarif(report: LintReport) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (a dict ready for ``json.dumps``)."""
    rules = {r.id: sarif_rule(r) for r in RULES}
    notifications = [
        SarifNotification(f"statement could not be analysed ({s.kind})", file.path, s.line, s.col)
        for file in report.files
        for s in file.statements
        if s.verdict is Verdict.UNANALYSED
    ]
    run = sarif_run(
        [sarif_finding(f, rules[f.rule_id]) for f in report.findings],
        tool_name=TOOL_NAME,
        tool_version=None,
        semantic_version=TOOL_VERSION,
        tool_properties={"rulePack": report.pack_version},
        rules=rules.values(),
        notifications=notifications,
        style=LINT_STYLE,
    )
    return sarif_log(run)


def sarif(report: LintReport) -> str:
    return sarif_json(to_sarif(report))
