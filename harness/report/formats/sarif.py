"""SARIF 2.1.0 from located findings, for the lint and residue capabilities to feed.

A finding names its rule (:class:`SarifRule`: id, descriptions, help, default level) and
where it is (:class:`SarifFinding`: path, line, column). :func:`sarif_run` turns findings of
one tool into a ``run`` with ``tool.driver.rules[]`` and per-result ``ruleIndex``,
``partialFingerprints`` and a ``physicalLocation``; :func:`sarif_log` wraps runs; and
:func:`sarif_json` serialises the log deterministically. Findings may be given as these
dataclasses or as plain dicts of the same fields (what crosses an xdist worker); an unknown
key in a dict raises, so a typo cannot drop a field silently.

Paths relative to the scanned root are written relative to ``%SRCROOT%`` (declared in
``originalUriBaseIds`` when a root is given), which is what GitHub code scanning expects.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from harness.errors import HarnessError

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "cutoverFinding/v1"

LEVELS = {"error": "error", "warning": "warning", "info": "note", "note": "note", "none": "none"}
"""cutover severities (and SARIF's own levels) → SARIF ``level``."""


@dataclass(frozen=True)
class SarifRule:
    """A rule as SARIF's ``reportingDescriptor``: what it checks and how to fix it."""

    id: str
    short: str
    """One sentence: ``shortDescription``."""
    name: str | None = None
    full: str | None = None
    """Rationale: ``fullDescription``."""
    help: str | None = None
    """How to fix it (plain text; markdown in ``help_markdown`` if any)."""
    help_markdown: str | None = None
    help_uri: str | None = None
    severity: str = "warning"
    """Default level: error, warning, info (note) or none."""
    tags: tuple[str, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict)
    """Anything else worth keeping (source, as-of date, rule-pack version)."""

    def to_sarif(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"id": self.id}
        if self.name:
            rule["name"] = self.name
        rule["shortDescription"] = {"text": self.short}
        if self.full:
            rule["fullDescription"] = {"text": self.full}
        if self.help or self.help_markdown:
            rule["help"] = {"text": self.help or self.help_markdown}
            if self.help_markdown:
                rule["help"]["markdown"] = self.help_markdown
        if self.help_uri:
            rule["helpUri"] = self.help_uri
        rule["defaultConfiguration"] = {"level": _level(self.severity, self.id)}
        properties = dict(self.properties)
        if self.tags:
            properties["tags"] = sorted(self.tags)
        if properties:
            rule["properties"] = properties
        return rule


@dataclass(frozen=True)
class SarifFinding:
    """One located finding: which rule, what it says, where."""

    rule: SarifRule
    message: str
    path: str
    """File path, relative to the scanned root (preferred) or absolute."""
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    severity: str | None = None
    """Overrides the rule's default level for this finding."""
    fingerprint: str | None = None
    """Stable identity across runs; derived from rule, path and message when not given."""
    snippet: str | None = None
    suppression: str | None = None
    """Why a reviewer accepted it (a waiver); kept in the log as ``suppressions[]``."""

    @property
    def rule_id(self) -> str:
        return self.rule.id


def _level(severity: str, where: str) -> str:
    try:
        return LEVELS[severity]
    except KeyError:
        raise HarnessError(
            f"{where}: severity {severity!r} is not one of {', '.join(LEVELS)}"
        ) from None


def _from_mapping(cls: type[Any], data: Mapping[str, Any], what: str) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise HarnessError(f"{what} has unknown field(s) {', '.join(unknown)}")
    try:
        return cls(**data)
    except TypeError as exc:  # a required field is missing
        raise HarnessError(f"{what}: {exc}") from None


def as_finding(value: SarifFinding | Mapping[str, Any]) -> SarifFinding:
    """A :class:`SarifFinding` from itself or from a dict with a ``rule`` dict inside."""
    if isinstance(value, SarifFinding):
        return value
    data = dict(value)
    rule = data.get("rule")
    if isinstance(rule, Mapping):
        rule = dict(rule)
        rule["tags"] = tuple(rule.get("tags", ()))
        data["rule"] = _from_mapping(SarifRule, rule, "a SARIF rule")
    declared = data.pop("rule_id", None)
    finding: SarifFinding = _from_mapping(SarifFinding, data, "a SARIF finding")
    if declared is not None and declared != finding.rule.id:
        raise HarnessError(f"finding names rule {declared} but carries rule {finding.rule.id}")
    return finding


def _uri(path: str) -> tuple[str, str | None]:
    """A URI reference for ``path`` and its base id (``%SRCROOT%`` when relative)."""
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return "file://" + quote(str(posix)), None
    return quote(str(posix)), SRCROOT


def fingerprint(finding: SarifFinding) -> str:
    """The finding's identity: not its line, so it survives edits above it."""
    if finding.fingerprint:
        return finding.fingerprint
    key = "\0".join((finding.rule.id, finding.path, finding.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _region(finding: SarifFinding) -> dict[str, Any] | None:
    region: dict[str, Any] = {}
    for key, value in (
        ("startLine", finding.line),
        ("startColumn", finding.column),
        ("endLine", finding.end_line),
        ("endColumn", finding.end_column),
    ):
        if value is not None:
            if value < 1:  # SARIF lines and columns are 1-based
                raise HarnessError(f"{finding.path}: {key} {value} is not 1 or more")
            region[key] = value
    if finding.snippet is not None:
        region["snippet"] = {"text": finding.snippet}
    return region or None


def _result(finding: SarifFinding, index: int) -> dict[str, Any]:
    uri, base = _uri(finding.path)
    location: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if base:
        location["artifactLocation"]["uriBaseId"] = base
    region = _region(finding)
    if region:
        location["region"] = region
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": index,
        "level": _level(finding.severity or finding.rule.severity, finding.rule.id),
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
    }
    if finding.suppression is not None:
        # A waived finding stays visible as accepted, not silently dropped.
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": finding.suppression}
        ]
    return result


def _sort_key(finding: SarifFinding) -> tuple[str, int, int, str, str]:
    return (finding.path, finding.line or 0, finding.column or 0, finding.rule.id, finding.message)


def sarif_run(
    findings: Iterable[SarifFinding | Mapping[str, Any]],
    *,
    tool_version: str,
    tool_name: str = "cutover",
    rules: Iterable[SarifRule] = (),
    information_uri: str | None = None,
    source_root: str | None = None,
) -> dict[str, Any]:
    """One SARIF ``run``: the tool with every rule (given or used) and the sorted results.

    ``rules`` lists rules to describe even when nothing violated them (a whole rule pack);
    two different descriptions under one rule id are an error. ``source_root`` (a
    ``file://`` URI ending in ``/``) tells viewers where ``%SRCROOT%`` is.
    """
    items = sorted((as_finding(f) for f in findings), key=_sort_key)
    known: dict[str, SarifRule] = {}
    for rule in [*rules, *(f.rule for f in items)]:
        if known.setdefault(rule.id, rule) != rule:
            raise HarnessError(f"rule {rule.id} is described two different ways")
    ordered = sorted(known)
    index = {rule_id: i for i, rule_id in enumerate(ordered)}
    driver: dict[str, Any] = {"name": tool_name, "version": tool_version}
    if information_uri:
        driver["informationUri"] = information_uri
    driver["rules"] = [known[r].to_sarif() for r in ordered]
    run: dict[str, Any] = {"tool": {"driver": driver}}
    if source_root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": source_root}}
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = [_result(f, index[f.rule.id]) for f in items]
    return run


def sarif_log(*runs: dict[str, Any]) -> dict[str, Any]:
    """The top-level ``sarifLog`` holding ``runs``."""
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": list(runs)}


def sarif_json(log: Mapping[str, Any]) -> str:
    """``log`` as indented JSON with a final newline; stable for a given log."""
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
