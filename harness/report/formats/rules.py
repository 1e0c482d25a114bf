"""Every rule cutover reports in SARIF, described in full: the lint's DSQL rules and residue's.

A code-scanning alert shows its rule's ``fullDescription`` and ``help`` beside the code, so
each rule carries its rationale, a bad and a good example, and the fix, in plain text and in
Markdown, with ``helpUri`` pointing at its entry in docs/lint.md or docs/residue.md. The
descriptions come from the rule registries (:data:`harness.lint.pack.RULES`,
:data:`harness.residue.rules.RULES`), the same records the docs are generated from; a rule id
the installed cutover no longer knows (a results.json from another rule pack) still gets a
descriptor naming it, so no result points at a missing rule.
"""

from __future__ import annotations

from harness.lint.pack import RULES as LINT_RULES
from harness.lint.pack import SOURCES
from harness.lint.rule import Rule as LintRule
from harness.report.formats.sarif import SarifRule
from harness.residue.rules import RULES as RESIDUE_RULES
from harness.residue.rules import Rule as ResidueRule

DOCS_URI = "https://cutover.dev/docs/"
"""Where the project's docs/ folder is published; each rule's ``helpUri`` points into it."""
RESIDUE_FIX = (
    "Remove or replace the reference; if it must stay (a migration script kept for history, "
    "say), list it in the plan's `retired.allow` with the reason."
)


def lint_rule(rule: LintRule) -> SarifRule:
    """A DSQL rule as SARIF describes it: summary, rationale, fix with its examples."""
    return SarifRule(
        id=rule.id,
        name="".join(part.capitalize() for part in rule.name.split("-")),
        short=rule.summary,
        full=rule.rationale,
        help=f"{rule.rationale}\nFix: {rule.fix}\nBad: {rule.bad}\nGood: {rule.good}",
        help_markdown=(
            f"{rule.rationale}\n\n**Fix:** {rule.fix}\n\n```sql\n-- bad\n{rule.bad}\n"
            f"-- good\n{rule.good}\n```\n\n[{rule.id} in docs/lint.md]({_lint_uri(rule.id)})"
        ),
        help_uri=_lint_uri(rule.id),
        severity=rule.severity.value,
        tags=("dsql", rule.scope),
        properties={
            "kebabName": rule.name,
            "fixKind": rule.fix_kind.value,
            "asOf": rule.as_of,
            "confirmed": rule.confirmed,
            "sources": [SOURCES.get(s, s) for s in rule.sources],
        },
    )


def residue_rule(rule: ResidueRule) -> SarifRule:
    """A residue rule as SARIF describes it: what it flags, why, an example of each side."""
    (bad_name, bad), (good_name, good) = rule.bad, rule.good
    return SarifRule(
        id=rule.id,
        short=rule.title[:1].upper() + rule.title[1:],
        full=rule.why,
        help=f"{rule.why}\nFix: {RESIDUE_FIX}\nFlagged ({bad_name}): {bad}Not flagged "
        f"({good_name}): {good}",
        help_markdown=(
            f"{rule.why}\n\n**Fix:** {RESIDUE_FIX}\n\nFlagged, in `{bad_name}`:\n\n```\n{bad}```"
            f"\n\nNot flagged, in `{good_name}`:\n\n```\n{good}```\n\n"
            f"[{rule.id} in docs/residue.md]({DOCS_URI}residue.md#rules)"
        ),
        help_uri=f"{DOCS_URI}residue.md#rules",
        severity=rule.severity.value,
        tags=("residue", *rule.flavours),
    )


def unknown_rule(rule_id: str, name: str | None, severity: str) -> SarifRule:
    """A rule this cutover does not describe (the evidence came from another rule pack)."""
    short = f"{rule_id} {name}" if name else rule_id
    return SarifRule(id=rule_id, short=short, name=None, severity=severity)


def _lint_uri(rule_id: str) -> str:
    return f"{DOCS_URI}lint.md#{rule_id.lower()}"  # docs/lint.md heads each rule "## DSQL050"


LINT_DESCRIPTORS = {rule.id: lint_rule(rule) for rule in LINT_RULES}
RESIDUE_DESCRIPTORS = {rule.id: residue_rule(rule) for rule in RESIDUE_RULES}
