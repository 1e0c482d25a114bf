"""The findings SARIF shows, from a run's results.json or from a ``cutover lint`` report.

Both go through one path: a lint finding is the same record in either (``LintFinding.to_dict``
is what a ``dsql_compat`` check keeps as evidence), read by :func:`_lint_finding`, and both
logs describe every rule of the pack in full (:mod:`harness.report.formats.rules`).

A finding's path is its file relative to the repository root (:mod:`.root`): for a run, the
check's one input (``evidence.inputs``: the file it linted or scanned, by absolute path)
against ``environment.source_root``; for ``cutover lint``, the path it was given, resolved,
against the root found from the working folder. A check with no file behind it (a table of a
live schema linted as DDL) has nothing a code-scanning view could point at: its findings are
in report.html and junit.xml, not here. Waived findings stay in the log with a
``suppressions`` entry carrying the waiver's reason, as SARIF viewers expect.

    area          evidence it reads                                 SARIF tool name
    dsql_compat   ``findings[]`` of each linted file (LintFinding)  cutover-lint
    residue       ``code[]`` / ``comments[]`` hits of each file     cutover-residue
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.capabilities import DSQL_COMPAT, RESIDUE
from harness.lint.report import Verdict
from harness.report.formats.root import relative_to_root, root_uri
from harness.report.formats.rules import LINT_DESCRIPTORS, RESIDUE_DESCRIPTORS, unknown_rule
from harness.report.formats.sarif import (
    SarifFinding,
    SarifNotification,
    SarifSuppression,
    sarif_log,
    sarif_run,
)

if TYPE_CHECKING:
    from harness.lint.report import LintReport

LINT_AREA = DSQL_COMPAT.area
RESIDUE_AREA = RESIDUE.area
SARIF_AREAS = (LINT_AREA, RESIDUE_AREA)
"""Areas whose findings point at lines of files, so a code-scanning view can show them."""
LINT_TOOL, RESIDUE_TOOL = "cutover-lint", "cutover-residue"


def sarif_from_results(results: Mapping[str, Any]) -> dict[str, Any]:
    """The SARIF log for ``results`` (a parsed results.json): a run per tool, maybe empty."""
    environment = _map(results.get("environment"))
    version = _text(environment.get("harness_version")) or "0+unknown"
    root = _text(environment.get("source_root"))
    checks = [c for c in _list(results.get("checks")) if isinstance(c, Mapping)]
    lint = [c for c in checks if c.get("area") == LINT_AREA]
    residue = [c for c in checks if c.get("area") == RESIDUE_AREA]
    packs = sorted({_text(_map(c.get("evidence")).get("rule_pack")) or "" for c in lint} - {""})
    lint_findings = [
        _lint_finding(_map(raw), path)
        for check in lint
        if (path := _input_path(check, root)) is not None
        for raw in _list(_map(check.get("evidence")).get("findings"))
        if _text(_map(raw).get("rule"))
    ]
    return sarif_log(
        _lint_run(lint_findings, version=version, root=root, packs=packs),
        sarif_run(
            list(_residue_findings(residue, root)),
            tool_name=RESIDUE_TOOL,
            tool_version=version,
            rules=RESIDUE_DESCRIPTORS.values(),
            source_root=None if root is None else root_uri(root),
        ),
    )


def sarif_from_lint(report: LintReport, *, root: Path, version: str) -> dict[str, Any]:
    """``cutover lint --format sarif``: ``report``'s findings, paths relative to ``root``
    (absolute), and each statement it could not analyse as a notification."""

    def where(path: str) -> str:
        return relative_to_root(str(Path(path).resolve()), str(root))

    findings = [_lint_finding(f.to_dict(), where(f.path)) for f in report.findings]
    notifications = [
        SarifNotification(
            f"statement could not be analysed ({s.kind})", where(file.path), s.line, s.col
        )
        for file in report.files
        for s in file.statements
        if s.verdict is Verdict.UNANALYSED
    ]
    return sarif_log(
        _lint_run(
            findings,
            version=version,
            root=str(root),
            packs=[report.pack_version],
            notifications=notifications,
        )
    )


def _lint_run(
    findings: list[SarifFinding],
    *,
    version: str,
    root: str | None,
    packs: Sequence[str],
    notifications: Sequence[SarifNotification] | None = None,
) -> dict[str, Any]:
    return sarif_run(
        findings,
        tool_name=LINT_TOOL,
        tool_version=version,
        rules=LINT_DESCRIPTORS.values(),
        source_root=None if root is None else root_uri(root),
        notifications=notifications,
        # which DSQL rule pack judged the SQL: part of the evidence, so part of the log
        properties={"rulePacks": list(packs)} if packs else None,
    )


def _lint_finding(f: Mapping[str, Any], path: str) -> SarifFinding:
    """A lint finding (``LintFinding.to_dict()``) at ``path`` (relative to the root)."""
    rule_id = str(f.get("rule"))
    severity = _severity(f.get("severity"))
    name = _text(f.get("name"))
    message = _text(f.get("message")) or rule_id
    if f.get("fix"):
        message += f" → {f['fix']}"
    return SarifFinding(
        rule=LINT_DESCRIPTORS.get(rule_id) or unknown_rule(rule_id, name, severity),
        message=message,
        path=path,
        line=_positive(f.get("line")),
        column=_positive(f.get("col")),
        severity=severity,
        snippet=_text(f.get("preview")),
        suppression=_suppression(f.get("suppressed_by")),
        logical_location=_text(f.get("object")),
    )


def _residue_findings(
    checks: Sequence[Mapping[str, Any]], root: str | None
) -> Iterator[SarifFinding]:
    for check in checks:
        name = _text(check.get("name"))
        path = _input_path(check, root)
        evidence = _map(check.get("evidence"))
        if not name or path is None:
            continue
        # The check's findings carry the verdict-relevant severity and waiver of each hit;
        # they are named ``name:line`` and end with ``[rule]``.
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
                finding = by_place.get((f"{name}:{line}", f"{rule_id}]"), {})
                default = "error" if context == "code" else "warning"
                severity = _severity(finding.get("severity") or default)
                waiver = finding.get("waived_by") or hit.get("allowed")
                yield SarifFinding(
                    rule=RESIDUE_DESCRIPTORS.get(rule_id) or unknown_rule(rule_id, None, "error"),
                    message=_text(hit.get("message")) or rule_id,
                    path=path,
                    line=line,
                    column=_positive(hit.get("column")),
                    severity=severity,
                    snippet=_text(hit.get("text")),
                    suppression=_suppression(waiver),
                )


def _input_path(check: Mapping[str, Any], root: str | None) -> str | None:
    """The check's one input file relative to ``root``, or ``None`` when it read no file."""
    inputs = _list(_map(check.get("evidence")).get("inputs"))
    paths = [_text(_map(entry).get("path")) for entry in inputs]
    if len(paths) != 1 or paths[0] is None:
        return None
    return relative_to_root(paths[0], root)


def _suppression(waiver: Any) -> SarifSuppression | None:
    """An inline ``cutover: ignore`` comment (in source) or a plan waiver or allowlist entry."""
    if not isinstance(waiver, Mapping):
        return None
    who = _text(waiver.get("reviewer"))
    expires = _text(waiver.get("expires"))
    reason = _text(waiver.get("reason")) or "waived"
    text = reason + (f" ({who})" if who else "") + (f", expires {expires}" if expires else "")
    kind = "inSource" if waiver.get("kind") == "inline" else "external"
    return SarifSuppression(text, kind=kind)


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
