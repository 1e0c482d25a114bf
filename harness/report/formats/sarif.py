"""SARIF 2.1.0: the one writer behind ``cutover lint --format sarif`` and a run's results.sarif.

A finding names its rule (:class:`SarifRule`: id, descriptions, help, default level) and
where it is (:class:`SarifFinding`: path, line, column). :func:`sarif_run` turns findings of
one tool into a ``run`` with ``tool.driver.rules[]`` and per-result ``ruleIndex``,
``partialFingerprints`` and a ``physicalLocation``; :func:`sarif_log` wraps runs; and
:func:`sarif_json` serialises the log deterministically. Findings may be given as these
dataclasses or as plain dicts of the same fields (what crosses an xdist worker); an unknown
key in a dict raises, so a typo cannot drop a field silently.

What GitHub code scanning needs, and so what every log holds:

* paths relative to the repository root (:mod:`harness.report.formats.root`), written
  against ``%SRCROOT%``, which ``originalUriBaseIds`` declares when the root is known;
* one ``partialFingerprints`` entry per result, unique within its run and stable while the
  finding stays where it is: rule + path + region + the snippet with its whitespace
  normalised (a message can repeat on many lines, so it is not part of it), an occurrence
  number added only when two findings would still share one;
* rules sorted by id and results by place, so the same findings give the same bytes;
* no more results than GitHub accepts in one run (:data:`MAX_RESULTS_PER_RUN`): past it the
  first by place are kept and a notification says how many were left out and where they are,
  rather than a log the upload would reject whole.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from harness.errors import HarnessError

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "cutoverFinding/v2"
"""``partialFingerprints`` key; v2 is rule + path + region + normalised snippet."""
COLUMN_KIND = "unicodeCodePoints"
"""Columns count characters, as Python's string offsets (and so the linter's) do."""
MAX_RESULTS_PER_RUN = 25_000
"""GitHub code scanning rejects an upload with more results than this in one run."""

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
        properties: dict[str, Any] = {"tags": sorted(self.tags)} if self.tags else {}
        properties.update(self.properties)
        if properties:
            rule["properties"] = properties
        return rule


@dataclass(frozen=True)
class SarifSuppression:
    """Why a finding does not count, kept in the log as a ``suppressions[]`` entry."""

    justification: str
    kind: str = "external"
    """``inSource`` (a comment next to the code) or ``external`` (a waiver elsewhere)."""
    status: str | None = "accepted"
    properties: Mapping[str, Any] = field(default_factory=dict)
    """Who accepted it and until when, for instance."""

    def to_sarif(self) -> dict[str, Any]:
        suppression: dict[str, Any] = {"kind": self.kind}
        if self.status is not None:
            suppression["status"] = self.status
        suppression["justification"] = self.justification
        if self.properties:
            suppression["properties"] = dict(self.properties)
        return suppression


@dataclass(frozen=True)
class SarifFinding:
    """One located finding: which rule, what it says, where."""

    rule: SarifRule
    message: str
    path: str
    """File path: relative to the repository root (``/``-separated), or absolute."""
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    severity: str | None = None
    """Overrides the rule's default level for this finding."""
    snippet: str | None = None
    """The text at the place (a statement, a line): shown, and part of the fingerprint."""
    suppression: str | SarifSuppression | None = None
    """Why a reviewer accepted it: a waiver's text (an accepted external suppression) or a
    :class:`SarifSuppression`; kept in the log as ``suppressions[]``."""
    logical_location: str | None = None
    """The schema object (``public.orders``) the finding is about, when known."""

    @property
    def rule_id(self) -> str:
        return self.rule.id


@dataclass(frozen=True)
class SarifNotification:
    """Something the tool could not do, at a place (a statement it could not analyse) or not
    (results left out); ``path`` as :attr:`SarifFinding.path`, empty for no place."""

    message: str
    path: str = ""
    line: int | None = None
    column: int | None = None
    level: str = "error"


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
    suppression = data.get("suppression")
    if isinstance(suppression, Mapping):
        data["suppression"] = _from_mapping(SarifSuppression, suppression, "a SARIF suppression")
    declared = data.pop("rule_id", None)
    finding: SarifFinding = _from_mapping(SarifFinding, data, "a SARIF finding")
    if declared is not None and declared != finding.rule.id:
        raise HarnessError(f"finding names rule {declared} but carries rule {finding.rule.id}")
    return finding


def _artifact(path: str) -> dict[str, Any]:
    """The ``artifactLocation`` of ``path``: relative ones against ``%SRCROOT%``."""
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return {"uri": "file://" + quote(str(posix))}
    return {"uri": quote(str(posix)), "uriBaseId": SRCROOT}


def _identity(finding: SarifFinding) -> str:
    """What a finding is, for its fingerprint: rule, file, region, normalised snippet."""
    place = (finding.line, finding.column, finding.end_line, finding.end_column)
    region = ":".join(str(n or 0) for n in place)
    snippet = " ".join((finding.snippet or "").split())
    return "\0".join((finding.rule.id, finding.path.replace("\\", "/"), region, snippet))


def fingerprints(findings: Sequence[SarifFinding]) -> list[str]:
    """One fingerprint per finding, unique among ``findings`` (given in log order).

    The second and later findings of one identity (one rule matching twice in a line, a
    repeated snippet) are told apart by their occurrence number, counted in log order.
    """
    seen: Counter[str] = Counter()
    out = []
    for finding in findings:
        identity = _identity(finding)
        seen[identity] += 1
        if seen[identity] > 1:
            identity += f"\0#{seen[identity]}"
        out.append(hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32])
    return out


def _physical_location(
    path: str, *places: tuple[str, int | None], snippet: str | None = None
) -> dict[str, Any]:
    """``physicalLocation`` of ``path`` with a region of the given 1-based ``places``."""
    region: dict[str, Any] = {}
    for key, value in places:
        if value is not None:
            if value < 1:  # SARIF lines and columns are 1-based
                raise HarnessError(f"{path}: {key} {value} is not 1 or more")
            region[key] = value
    if snippet is not None:
        region["snippet"] = {"text": snippet}
    location: dict[str, Any] = {"artifactLocation": _artifact(path)}
    if region:
        location["region"] = region
    return location


def _result(finding: SarifFinding, index: int, fingerprint: str) -> dict[str, Any]:
    physical = _physical_location(
        finding.path,
        ("startLine", finding.line),
        ("startColumn", finding.column),
        ("endLine", finding.end_line),
        ("endColumn", finding.end_column),
        snippet=finding.snippet,
    )
    location: dict[str, Any] = {"physicalLocation": physical}
    if finding.logical_location:
        location["logicalLocations"] = [{"name": finding.logical_location}]
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": index,
        "level": _level(finding.severity or finding.rule.severity, finding.rule.id),
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    suppression = finding.suppression
    if isinstance(suppression, str):
        suppression = SarifSuppression(suppression)
    if suppression is not None:
        # A waived finding stays visible as accepted, not silently dropped.
        result["suppressions"] = [suppression.to_sarif()]
    return result


def _notification(item: SarifNotification) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "level": _level(item.level, item.path or "a notification"),
        "message": {"text": item.message},
    }
    if item.path:
        place = (("startLine", item.line), ("startColumn", item.column))
        notification["locations"] = [{"physicalLocation": _physical_location(item.path, *place)}]
    return notification


def _sort_key(finding: SarifFinding) -> tuple[str, int, int, str, str]:
    return (finding.path, finding.line or 0, finding.column or 0, finding.rule.id, finding.message)


def sarif_run(
    findings: Iterable[SarifFinding | Mapping[str, Any]],
    *,
    tool_name: str,
    tool_version: str,
    rules: Iterable[SarifRule] = (),
    source_root: str | None = None,
    notifications: Iterable[SarifNotification] | None = None,
    properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One SARIF ``run``: the tool with every rule (given or used) and the results.

    ``rules`` lists rules to describe even when nothing violated them (a whole rule pack);
    two different descriptions under one rule id are an error. ``source_root`` (a ``file://``
    URI ending in ``/``) tells viewers where ``%SRCROOT%`` is. ``notifications``, when given
    (even empty), are written as the run's one invocation's ``toolExecutionNotifications``;
    ``properties`` is the run's property bag.
    """
    items = sorted((as_finding(f) for f in findings), key=_sort_key)
    notes = None if notifications is None else list(notifications)
    if len(items) > MAX_RESULTS_PER_RUN:
        left_out = len(items) - MAX_RESULTS_PER_RUN
        items = items[:MAX_RESULTS_PER_RUN]
        notes = [
            *(notes or []),
            SarifNotification(
                f"{left_out} more results left out: GitHub code scanning takes at most "
                f"{MAX_RESULTS_PER_RUN} per run; every finding is in results.json and report.html",
                level="warning",
            ),
        ]
    known: dict[str, SarifRule] = {}
    for rule in [*rules, *(f.rule for f in items)]:
        if known.setdefault(rule.id, rule) != rule:
            raise HarnessError(f"rule {rule.id} is described two different ways")
    ordered = sorted(known)
    index = {rule_id: i for i, rule_id in enumerate(ordered)}
    driver = {
        "name": tool_name,
        "version": tool_version,
        "rules": [known[r].to_sarif() for r in ordered],
    }
    run: dict[str, Any] = {"tool": {"driver": driver}}
    if source_root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": source_root}}
    if notes is not None:
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [_notification(n) for n in notes],
            }
        ]
    run["columnKind"] = COLUMN_KIND
    marks = fingerprints(items)
    run["results"] = [
        _result(f, index[f.rule.id], mark) for f, mark in zip(items, marks, strict=True)
    ]
    if properties:
        run["properties"] = dict(properties)
    return run


def sarif_log(*runs: dict[str, Any]) -> dict[str, Any]:
    """The top-level ``sarifLog`` holding ``runs``."""
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": list(runs)}


def sarif_json(log: Mapping[str, Any]) -> str:
    """``log`` as indented JSON with a final newline; stable for a given log."""
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
