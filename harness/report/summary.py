"""summary.md: the run in a few lines of Markdown, for a pull-request comment or a CI step summary.

Rendered from the same view records as report.html (:func:`harness.report.view.build_report`),
so the verdict, the deciding checks and the counts read the same in both, and the links point
at report.html's own anchors. Short on purpose: the verdict and its reason, the checks that
decided it (at most :data:`DECIDING_SHOWN`), a count table by area, and links to the report's
sections and the folder's other files. GitHub caps a step summary at 1 MiB and a comment at
65,536 characters; nothing here grows with the size of the run beyond one table row per area.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.report.view import Check, Report, build_report
from harness.results.files import HTML_NAME, JUNIT_NAME, RESULTS_NAME, SARIF_NAME

DECIDING_SHOWN = 10
"""Deciding checks listed by name; the rest are counted."""
SUMMARY_LIMIT = 300
"""Characters of a check's summary shown; the report has the whole text."""

_SECTIONS = (
    ("Checks by area", "checks"),
    ("Schema differences", "schema-diff-heading"),
    ("Data", "data-heading"),
    ("SQL compatibility (lint)", "lint-heading"),
    ("Residue of the retired database", "residue-heading"),
    ("Waivers", "waivers-heading"),
    ("Environment", "environment-heading"),
)
"""report.html's sections (title, anchor), in page order; each is linked when it is shown."""


def summary_markdown(results: Mapping[str, Any]) -> str:
    """summary.md for ``results`` (a parsed results.json), with a final newline."""
    report = build_report(results)
    lines = [f"## cutover: {report.verdict.text}", ""]
    if report.verdict.reason:
        lines += [_inline(report.verdict.reason), ""]
    lines += _scope(report)
    lines += _deciding(report)
    lines += _counts(report)
    lines += _links(report)
    return "\n".join(lines).rstrip("\n") + "\n"


def _scope(report: Report) -> list[str]:
    scope = report.scope
    parts = []
    if scope.plan_name:
        parts.append(f"plan **{_inline(scope.plan_name)}**")
    parts += [
        f"{e.role.lower()} `{_code(e.kind or '?')}`" for e in scope.endpoints if e.kind is not None
    ]
    if scope.finished_at:
        parts.append(f"finished {scope.finished_at}")
    if scope.harness_version:
        parts.append(f"cutover {scope.harness_version}")
    return [" · ".join(parts), ""] if parts else []


def _deciding(report: Report) -> list[str]:
    """The failed and errored checks (NO-GO), else the waived ones (GO WITH WAIVERS)."""
    deciding, heading = report.attention, "Checks that decided it"
    if not deciding:
        deciding, heading = report.waived, "Checks that pass only by a reviewed waiver"
    if not deciding:
        return []
    lines = [f"### {heading}", ""]
    lines += [_check_line(check) for check in deciding[:DECIDING_SHOWN]]
    if len(deciding) > DECIDING_SHOWN:
        lines.append(f"- … and {len(deciding) - DECIDING_SHOWN} more (see the report)")
    return [*lines, ""]


def _check_line(check: Check) -> str:
    summary = check.summary or ""
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 1] + "…"
    link = f"[`{_code(check.id)}`]({HTML_NAME}#{check.anchor})"
    return f"- **{check.status}** {link}" + (f": {_inline(summary)}" if summary else "")


def _counts(report: Report) -> list[str]:
    statuses = [count.status for count in report.summary]
    lines = [
        "### Checks by area",
        "",
        "| area | " + " | ".join(statuses) + " |",
        "| --- |" + " ---: |" * len(statuses),
    ]
    for row in report.summary_rows:
        label = _inline(row.label)
        label = f"**{label}**" if row.anchor is None else f"[{label}]({HTML_NAME}#{row.anchor})"
        lines.append(f"| {label} | " + " | ".join(str(n) for n in row.counts) + " |")
    return [*lines, ""]


def _links(report: Report) -> list[str]:
    shown = {
        "schema-diff-heading": bool(report.schema_differences),
        "data-heading": bool(report.data_states),
        "lint-heading": report.has_lint,
        "residue-heading": report.has_residue,
        "waivers-heading": report.expected_differences is not None,
    }
    sections = [
        f"[{title}]({HTML_NAME}#{anchor})" for title, anchor in _SECTIONS if shown.get(anchor, True)
    ]
    files = [f"[`{name}`]({name})" for name in (HTML_NAME, RESULTS_NAME, JUNIT_NAME, SARIF_NAME)]
    return [
        "### In the report folder",
        "",
        "- report: " + " · ".join(sections),
        "- files: " + " · ".join(files),
    ]


def _inline(text: str) -> str:
    """``text`` as one line of Markdown that renders as written: no table break, no markup,
    no HTML a PR comment would interpret."""
    flat = " ".join(text.split())
    for char in "\\`*_[]<>|#":
        flat = flat.replace(char, "\\" + char)
    return flat


def _code(text: str) -> str:
    """``text`` inside a code span: backticks cannot end it early, nor a pipe end a cell."""
    return " ".join(text.split()).replace("`", "'").replace("|", "\\|")
