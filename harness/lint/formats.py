"""Text, JSON and GitHub-annotation renderings of a :class:`LintReport` (SARIF: ``sarif.py``)."""

from __future__ import annotations

import json

from harness.lint.report import FailOn, LintFinding, LintReport


def _suffix(f: LintFinding) -> str:
    if f.suppressed_by is None:
        return ""
    s = f.suppressed_by
    who = f", {s.reviewer}" if s.reviewer else ""
    return f"  [suppressed ({s.kind}{who}): {s.reason}]"


def text(report: LintReport, *, fail_on: FailOn = FailOn.ERROR) -> str:
    """``file:line:col RULE message → fix`` per finding, then a summary line."""
    lines = [
        f"{f.path}:{f.line}:{f.col} {f.rule_id} {f.severity.value}: {f.message} → {f.fix}"
        + _suffix(f)
        for f in report.findings
    ]
    s = report.summary()
    verdict = "FAIL" if report.exit_code(fail_on) else "ok"
    lines.append(
        f"{verdict}: {s['files']} file(s), {s['statements']} statement(s), {s['errors']} "
        f"error(s), {s['warnings']} warning(s), {s['suppressed']} suppressed, "
        f"{s['unanalysed']} could not be analysed (rule pack {report.pack_version})"
    )
    return "\n".join(lines) + "\n"


def to_json(report: LintReport) -> str:
    """The report as JSON (``schema_version`` first; stable field names)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: LintReport) -> str:
    """GitHub Actions workflow commands (``::error file=…,line=…::message``).

    Suppressed findings become ``::notice`` so they stay visible without failing anyone.
    """
    out = []
    for f in report.findings:
        level = (
            "notice" if f.suppressed_by else ("error" if f.severity.value == "error" else "warning")
        )
        props = ",".join(
            [
                f"file={_escape_property(f.path)}",
                f"line={f.line}",
                f"col={f.col}",
                f"title={_escape_property(f'{f.rule_id} {f.name}')}",
            ]
        )
        message = f"{f.message} → {f.fix}" + _suffix(f)
        out.append(f"::{level} {props}::{_escape_data(message)}")
    return "\n".join(out) + ("\n" if out else "")
