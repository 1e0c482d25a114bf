"""SARIF 2.1.0: the one writer behind ``cutover lint --format sarif`` and a run's results.sarif.

A finding names its rule (:class:`SarifRule`: id, descriptions, help, default level) and
where it is (:class:`SarifFinding`: path, line, column). :func:`sarif_run` turns findings of
one tool into a ``run`` with ``tool.driver.rules[]`` and per-result ``ruleIndex``,
``partialFingerprints`` and a ``physicalLocation``; :func:`sarif_log` wraps runs; and
:func:`sarif_json` serialises the log deterministically. Findings may be given as these
dataclasses or as plain dicts of the same fields (what crosses an xdist worker); an unknown
key in a dict raises, so a typo cannot drop a field silently.

Paths relative to the scanned root are written relative to ``%SRCROOT%`` (declared in
``originalUriBaseIds`` when a root is given), which is what GitHub code scanning expects.

The two logs cutover writes differ in a few long-standing ways, each kept so that their
bytes do not change; a :class:`SarifStyle` names them, and :data:`LINT_STYLE` is the one
``cutover lint`` uses (:mod:`harness.lint.sarif` adapts its findings to the types here):

    results.sarif (RESULTS_STYLE, the default) cutover lint --format sarif (LINT_STYLE)
    rules sorted by id, results by place      rules and results in the order given
    ``%SRCROOT%``-relative, percent-encoded   paths as given (``\\`` → ``/``)
    ``columnKind: unicodeCodePoints``         no ``columnKind``
    fingerprint key ``cutoverFinding/v1``     fingerprint key ``cutoverStatement/v1``
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
"""``partialFingerprints`` key of results.sarif's findings."""
STATEMENT_FINGERPRINT_KEY = "cutoverStatement/v1"
"""``partialFingerprints`` key of ``cutover lint``'s findings (rule + statement + occurrence)."""

LEVELS = {"error": "error", "warning": "warning", "info": "note", "note": "note", "none": "none"}
"""cutover severities (and SARIF's own levels) → SARIF ``level``."""


@dataclass(frozen=True)
class SarifStyle:
    """How a run lays out what it holds; the default is results.sarif's."""

    sort: bool = True
    """Rules by id and results by path, line, column; else both in the order given."""
    verbatim_uris: bool = False
    """Paths as given but for ``\\`` → ``/``: no percent-encoding, ``file://`` or base id."""
    column_kind: str | None = "unicodeCodePoints"
    fingerprint_key: str = FINGERPRINT_KEY


RESULTS_STYLE = SarifStyle()
"""What a run's results.sarif holds."""
LINT_STYLE = SarifStyle(
    sort=False, verbatim_uris=True, column_kind=None, fingerprint_key=STATEMENT_FINGERPRINT_KEY
)
"""What ``cutover lint --format sarif`` has always written."""


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
    """Something the tool could not do at a place (a statement it could not analyse)."""

    message: str
    path: str
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


def _artifact(path: str, style: SarifStyle) -> dict[str, Any]:
    """The ``artifactLocation`` of ``path``: relative ones against ``%SRCROOT%``."""
    if style.verbatim_uris:
        return {"uri": path.replace("\\", "/")}
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return {"uri": "file://" + quote(str(posix))}
    return {"uri": quote(str(posix)), "uriBaseId": SRCROOT}


def fingerprint(finding: SarifFinding) -> str:
    """The finding's identity: not its line, so it survives edits above it."""
    if finding.fingerprint:
        return finding.fingerprint
    key = "\0".join((finding.rule.id, finding.path, finding.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _physical_location(
    path: str, style: SarifStyle, *places: tuple[str, int | None], snippet: str | None = None
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
    location: dict[str, Any] = {"artifactLocation": _artifact(path, style)}
    if region:
        location["region"] = region
    return location


def _result(finding: SarifFinding, index: int, style: SarifStyle) -> dict[str, Any]:
    physical = _physical_location(
        finding.path,
        style,
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
        "partialFingerprints": {style.fingerprint_key: fingerprint(finding)},
    }
    suppression = finding.suppression
    if isinstance(suppression, str):
        suppression = SarifSuppression(suppression)
    if suppression is not None:
        # A waived finding stays visible as accepted, not silently dropped.
        result["suppressions"] = [suppression.to_sarif()]
    return result


def _notification(item: SarifNotification, style: SarifStyle) -> dict[str, Any]:
    place = (("startLine", item.line), ("startColumn", item.column))
    return {
        "level": _level(item.level, item.path),
        "message": {"text": item.message},
        "locations": [{"physicalLocation": _physical_location(item.path, style, *place)}],
    }


def _sort_key(finding: SarifFinding) -> tuple[str, int, int, str, str]:
    return (finding.path, finding.line or 0, finding.column or 0, finding.rule.id, finding.message)


def sarif_run(
    findings: Iterable[SarifFinding | Mapping[str, Any]],
    *,
    tool_version: str | None,
    tool_name: str = "cutover",
    rules: Iterable[SarifRule] = (),
    information_uri: str | None = None,
    source_root: str | None = None,
    semantic_version: str | None = None,
    tool_properties: Mapping[str, Any] | None = None,
    notifications: Iterable[SarifNotification] | None = None,
    properties: Mapping[str, Any] | None = None,
    style: SarifStyle = RESULTS_STYLE,
) -> dict[str, Any]:
    """One SARIF ``run``: the tool with every rule (given or used) and the results.

    ``rules`` lists rules to describe even when nothing violated them (a whole rule pack);
    two different descriptions under one rule id are an error. ``source_root`` (a
    ``file://`` URI ending in ``/``) tells viewers where ``%SRCROOT%`` is. ``notifications``,
    when given (even empty), are written as the run's one invocation's
    ``toolExecutionNotifications``; ``properties`` is the run's property bag.
    """
    items = [as_finding(f) for f in findings]
    if style.sort:
        items.sort(key=_sort_key)
    known: dict[str, SarifRule] = {}
    for rule in [*rules, *(f.rule for f in items)]:
        if known.setdefault(rule.id, rule) != rule:
            raise HarnessError(f"rule {rule.id} is described two different ways")
    ordered = sorted(known) if style.sort else list(known)
    index = {rule_id: i for i, rule_id in enumerate(ordered)}
    driver: dict[str, Any] = {"name": tool_name}
    if tool_version is not None:
        driver["version"] = tool_version
    if semantic_version is not None:
        driver["semanticVersion"] = semantic_version
    if information_uri:
        driver["informationUri"] = information_uri
    if tool_properties:
        driver["properties"] = dict(tool_properties)
    driver["rules"] = [known[r].to_sarif() for r in ordered]
    run: dict[str, Any] = {"tool": {"driver": driver}}
    if source_root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": source_root}}
    if notifications is not None:
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [_notification(n, style) for n in notifications],
            }
        ]
    if style.column_kind is not None:
        run["columnKind"] = style.column_kind
    run["results"] = [_result(f, index[f.rule.id], style) for f in items]
    if properties:
        run["properties"] = dict(properties)
    return run


def sarif_log(*runs: dict[str, Any]) -> dict[str, Any]:
    """The top-level ``sarifLog`` holding ``runs``."""
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": list(runs)}


def sarif_json(log: Mapping[str, Any]) -> str:
    """``log`` as indented JSON with a final newline; stable for a given log."""
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
