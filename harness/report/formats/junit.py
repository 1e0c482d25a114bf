"""JUnit XML from a parsed ``results.json``: one testcase per check, one testsuite per area.

The output is valid against the JUnit schema most CI servers read (Jenkins' xunit plugin's
``junit-10.xsd``, which GitLab and GitHub reporters follow too; tests validate it). That
schema allows ``<properties>`` only on a testsuite and no attribute of cutover's own, so:

* the area is a testsuite property and the testcase ``classname`` (``cutover.<area>``), the
  subject (a table, a query…) is the testcase ``name``; no two testcases share both: when two
  checks name the same subject (a relative path found under two lint roots) each name grows
  the folders of its input's path that tell them apart (``before/db/…``, ``after/db/…``);
* ``fail`` → ``<failure>`` whose message carries the first findings, ``error`` → ``<error>``,
  ``skip`` → ``<skipped>``; ``waived`` passes (it does not block cutover) and lists its
  waivers in ``<system-out>``, where every testcase also states cutover's own status;
* a run with no checks gets one ``error`` testcase, so a CI tab never shows it as green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

# Characters XML 1.0 cannot carry even escaped (C0 controls but tab, CR, LF; surrogates;
# U+FFFE/U+FFFF). Check output can quote database values, so they are written as \\xNN.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FIRST_FINDINGS = 3
"""How many findings a ``<failure>`` message names; its text lists them all."""


def _text(value: Any) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", "" if value is None else str(value))


def _seconds(value: Any) -> str:
    return f"{float(value or 0):.3f}"


def _finding_line(finding: Mapping[str, Any]) -> str:
    line = f"[{finding.get('severity')}] {finding.get('kind')} {finding.get('object')}: "
    line += str(finding.get("message"))
    waiver = finding.get("waived_by")
    if waiver:
        expires = waiver.get("expires") or "never"
        line += f" (waived by {waiver.get('reviewer')}, expires {expires}: {waiver.get('reason')})"
    return line


def _input_path(check: Mapping[str, Any]) -> PurePath | None:
    """The one file a check read (``evidence.inputs``: a linted or scanned file), if one."""
    evidence = check.get("evidence")
    inputs = evidence.get("inputs") if isinstance(evidence, Mapping) else None
    if isinstance(inputs, list) and len(inputs) == 1 and isinstance(inputs[0], Mapping):
        path = inputs[0].get("path")
        return PurePath(path) if isinstance(path, str) else None
    return None


def testcase_names(checks: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each check's testcase name, unique within its area.

    A name shared by several checks of one area is replaced, for each of them, by the last
    parts of its input's path, as many as it takes for the group to differ (the lint root's
    parent folders); checks still alike, or without an input, get `` (2)``, `` (3)``… in order.
    """
    names = [str(check.get("name")) for check in checks]
    keys = [(str(check.get("area")), name) for check, name in zip(checks, names, strict=True)]
    for key, count in Counter(keys).items():
        if count < 2:
            continue
        group = [i for i, k in enumerate(keys) if k == key]
        paths = [_input_path(checks[i]) for i in group]
        known = [p for p in paths if p is not None]
        if len(known) == len(group) and len(set(known)) == len(group):
            depth = len(PurePath(key[1]).parts)
            while len({p.parts[-depth:] for p in known}) < len(group):
                depth += 1
            for i, path in zip(group, known, strict=True):
                names[i] = "/".join(path.parts[-depth:])
        else:
            for n, i in enumerate(group[1:], start=2):
                names[i] = f"{names[i]} ({n})"
    return names


def _failure_message(summary: str, findings: Sequence[Mapping[str, Any]]) -> str:
    """The summary, then the first findings: what a CI tab shows without expanding."""
    if not findings:
        return summary
    first = "; ".join(_finding_line(f) for f in findings[:FIRST_FINDINGS])
    more = len(findings) - FIRST_FINDINGS
    return _text(f"{summary}: {first}" + (f" (and {more} more)" if more > 0 else ""))


def _testcase(parent: ET.Element, check: Mapping[str, Any], name: str) -> None:
    status = check.get("status")
    case = ET.SubElement(
        parent,
        "testcase",
        {
            "name": _text(name),
            "classname": _text(f"cutover.{check.get('area')}"),
            "time": _seconds(check.get("duration_s")),
        },
    )
    findings = [f for f in check.get("findings") or [] if isinstance(f, Mapping)]
    details = "\n".join(_finding_line(f) for f in findings)
    summary = _text(check.get("summary"))
    # Element order is fixed by the schema: skipped, error, failure, system-out.
    if status == "skip":
        ET.SubElement(case, "skipped").text = summary
    elif status == "error":
        ET.SubElement(case, "error", {"message": summary, "type": "error"}).text = summary
    elif status == "fail":
        blocking = [f for f in findings if f.get("severity") == "error" and not f.get("waived_by")]
        kind = _text(blocking[0].get("kind")) if blocking else "fail"
        message = _failure_message(summary, blocking or findings)
        failure = ET.SubElement(case, "failure", {"message": message, "type": kind})
        failure.text = _text(details or summary)
    out = [f"check: {check.get('id')}", f"status: {status}", f"summary: {check.get('summary')}"]
    if check.get("nodeid"):
        out.append(f"pytest: {check.get('nodeid')}")
    if details:
        out += ["findings:", details]
    ET.SubElement(case, "system-out").text = _text("\n".join(out))


def _counts(checks: list[Mapping[str, Any]]) -> dict[str, str]:
    statuses = [c.get("status") for c in checks]
    return {
        "tests": str(len(checks)),
        "failures": str(statuses.count("fail")),
        "errors": str(statuses.count("error")),
    }


def junit_xml(results: Mapping[str, Any]) -> str:
    """The JUnit XML document for ``results`` (a parsed results.json), with a final newline."""
    checks = [c for c in results.get("checks") or [] if isinstance(c, Mapping)]
    if not checks:
        checks = [
            {
                "id": "verdict",
                "area": "verdict",
                "name": "verdict",
                "status": "error",
                "summary": results.get("verdict_reason") or "no check ran",
                "duration_s": 0,
            }
        ]
    plan = results.get("plan") or {}
    env = results.get("environment") or {}
    suites = ET.Element(
        "testsuites",
        {
            "name": _text(f"cutover {plan.get('name', '')}".strip()),
            **_counts(checks),
            "time": _seconds(results.get("duration_s")),
        },
    )
    areas: dict[str, list[tuple[Mapping[str, Any], str]]] = {}
    named = zip(checks, testcase_names(checks), strict=True)
    for check, name in named:  # results.json already orders checks by area, then id
        areas.setdefault(str(check.get("area")), []).append((check, name))
    for area, cases in areas.items():
        members = [check for check, _ in cases]
        suite = ET.SubElement(
            suites,
            "testsuite",
            {
                "name": _text(f"cutover.{area}"),
                **_counts(members),
                "skipped": str(sum(c.get("status") == "skip" for c in members)),
                "time": _seconds(sum(float(c.get("duration_s") or 0) for c in members)),
                "timestamp": _text(results.get("started_at") or ""),
            },
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("area", area),
            ("plan", plan.get("name")),
            ("plan_sha256", plan.get("sha256")),
            ("verdict", results.get("verdict")),
            ("harness_version", env.get("harness_version")),
        ):
            ET.SubElement(properties, "property", {"name": name, "value": _text(value)})
        for check, name in cases:
            _testcase(suite, check, name)
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
