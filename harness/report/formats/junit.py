"""JUnit XML from a parsed ``results.json``: one testcase per check, one testsuite per area.

The output follows the JUnit schema Jenkins and GitLab read (the ``junit-4.xsd`` of Jenkins'
dtkit, which JUnit 5 vendors as ``jenkins-junit.xsd``). That schema allows ``<properties>``
only on a testsuite and ``<skipped>`` only as bare text, so:

* the area is a testsuite property and the testcase ``classname`` (``cutover.<area>``), the
  subject (a table, a query…) is the testcase ``name``;
* ``fail`` → ``<failure>``, ``error`` → ``<error>``, ``skip`` → ``<skipped>``; ``waived``
  passes (it does not block cutover) and lists its waivers in ``<system-out>``; every
  testcase carries cutover's own status in the optional ``status`` attribute;
* a run with no checks gets one ``error`` testcase, so a CI tab never shows it as green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

# Characters XML 1.0 cannot carry even escaped (C0 controls but tab, CR, LF; surrogates;
# U+FFFE/U+FFFF). Check output can quote database values, so they are written as \\xNN.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


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


def _testcase(parent: ET.Element, check: Mapping[str, Any]) -> None:
    status = check.get("status")
    case = ET.SubElement(
        parent,
        "testcase",
        {
            "name": _text(check.get("name")),
            "classname": _text(f"cutover.{check.get('area')}"),
            "time": _seconds(check.get("duration_s")),
            "status": _text(status),
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
        failure = ET.SubElement(case, "failure", {"message": summary, "type": kind})
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
    areas: dict[str, list[Mapping[str, Any]]] = {}
    for check in checks:  # results.json already orders checks by area, then id
        areas.setdefault(str(check.get("area")), []).append(check)
    for area, members in areas.items():
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
        for check in members:
            _testcase(suite, check)
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
