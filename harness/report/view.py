"""View records for the HTML report: ``results.json`` shaped into what the templates read.

Python does the shaping (ordering, counting, anchors, evidence layout) into small frozen
records; the templates in ``reports/templates`` only lay them out. Every field a template
reads always exists on a record, even when the optional key was absent from the JSON, so
``StrictUndefined`` catches template typos instead of silently printing nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.capabilities import BUILT_IN_AREAS
from harness.report.charts import chart_for
from harness.report.evidence import EvidenceNode, evidence_node, scalar_text
from harness.report.sections import (
    LINT_AREA,
    RESIDUE_AREAS,
    AppliedWaiver,
    DataState,
    LintRow,
    ResidueRow,
    SchemaDifference,
    applied_waivers,
    data_states,
    lint_rows,
    residue_rows,
    schema_differences,
    tool_versions,
)
from harness.report.signoff import UNSIGNED, SignOff

STATUS_ORDER = ("pass", "fail", "error", "waived", "skip")
"""Known check statuses, in the order counts are shown; unknown ones follow alphabetically."""

# Areas shown first, in this order (structure before data); others follow alphabetically.

OPEN_STATUSES = frozenset({"fail", "error"})
"""Checks whose drill-down starts open: they are what a reviewer has to read."""

_STATUS_LABELS = {
    "pass": ("✓", "PASS"),
    "fail": ("✗", "FAIL"),
    "error": ("!", "ERROR"),
    "waived": ("≈", "WAIVED"),
    "skip": ("○", "SKIP"),
}

_VERDICTS = {
    "GO": ("go", "✓"),
    "GO WITH WAIVERS": ("waivers", "⚠"),
    "NO-GO": ("nogo", "✗"),
}

_ENVIRONMENT_ORDER = ("harness_version", "python", "platform", "pytest_workers")
_ENDPOINT_ORDER = ("kind", "display", "server_version")
_SHA_SHORT = 12
_SAFE_TEMPLATE_PART = re.compile(r"[a-z0-9_]+")


# --- view records: what the templates read -------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """A status or severity as icon plus words, so it reads without colour."""

    css: str
    icon: str
    label: str


@dataclass(frozen=True)
class Verdict:
    """The banner: the verdict text, its colour class and why it was reached."""

    text: str
    css: str
    icon: str
    reason: str | None


@dataclass(frozen=True)
class Endpoint:
    """One side of the migration as the scope block shows it."""

    role: str
    kind: str | None
    display: str | None
    server_version: str | None


@dataclass(frozen=True)
class Scope:
    """What was verified: the plan, both databases and when."""

    plan_name: str | None
    plan_path: str | None
    plan_sha256: str | None
    plan_sha256_short: str | None
    endpoints: tuple[Endpoint, ...]
    harness_version: str | None
    started_at: str | None
    finished_at: str | None
    duration: str | None


@dataclass(frozen=True)
class Count:
    """How many checks ended with one status."""

    badge: Badge
    status: str
    count: int


@dataclass(frozen=True)
class Waiver:
    """Who accepted a finding, why, and until when."""

    reason: str | None
    reviewer: str | None
    expires: str | None


@dataclass(frozen=True)
class Finding:
    """One difference a check found."""

    badge: Badge
    kind: str | None
    object: str | None
    message: str | None
    source: str | None
    target: str | None
    waiver: Waiver | None


@dataclass(frozen=True)
class Check:
    """One check row with its drill-down."""

    id: str
    anchor: str
    badge: Badge
    status: str
    summary: str | None
    duration: str | None
    nodeid: str | None
    open: bool
    findings: tuple[Finding, ...]
    evidence: EvidenceNode | None
    data: Mapping[str, Any]
    """The check's evidence exactly as recorded, for area partials that lay it out their way
    (an empty mapping when there was none)."""
    chart: str = ""
    """Inline SVG drawn from the evidence (:mod:`harness.report.charts`), or ``""``."""


@dataclass(frozen=True)
class Area:
    """All checks of one area (schema, row_count, ...) with their tally."""

    key: str
    title: str
    anchor: str
    counts: tuple[Count, ...]
    checks: tuple[Check, ...]
    templates: tuple[str, ...]
    """Partials to try in order: ``_area_<key>.html.j2`` when the key is a safe name, then the
    generic ``_area.html.j2`` (Jinja's include takes the first that exists).

    The area-partial protocol, for whoever adds ``reports/templates/_area_<key>.html.j2``:

    * it is included with ``area`` (this record) and ``report`` (:class:`Report`) in scope;
    * it renders one ``<section class="area" id="{{ area.anchor }}">`` whose heading is an
      ``<h3>`` (the page's ``<h2>`` is "Checks by area"), so the outline stays valid;
    * per check it may ``{% include "_check.html.j2" %}`` with ``check`` set (the standard
      drill-down, keeping ``check.anchor`` as the id other sections link to), and may read
      ``check.data`` (the raw evidence mapping) to draw its own tables or charts;
    * it loads nothing from outside the page (no scripts, images or fonts by URL): inline
      SVG and CSS only, and every ``<table>`` has a ``<caption>`` and scoped ``<th>``.
    """


@dataclass(frozen=True)
class SummaryRow:
    """One row of the outcome table: an area (linked to its section) or the whole run."""

    label: str
    anchor: str | None
    counts: tuple[int, ...]
    """Aligned with :attr:`Report.summary`."""
    total: int


@dataclass(frozen=True)
class ExpectedDifference:
    """A declared waiver, flagged when it has expired or matched nothing."""

    object: str | None
    kind: str | None
    reason: str | None
    reviewer: str | None
    expires: str | None
    used: bool | None
    expired: bool
    state: str
    css: str


@dataclass(frozen=True)
class Row:
    """A label/value pair of the environment fingerprint."""

    label: str
    value: str


@dataclass(frozen=True)
class Report:
    """Everything ``report.html.j2`` reads."""

    title: str
    format: str | None
    verdict: Verdict
    scope: Scope
    summary: tuple[Count, ...]
    summary_rows: tuple[SummaryRow, ...]
    """One row per area, then the run's total (from the recorded summary when there is one)."""
    attention: tuple[Check, ...]
    """Failed and errored checks: for a NO-GO, the checks that decided it."""
    waived: tuple[Check, ...]
    """Waived checks: for a GO WITH WAIVERS, the checks that decided it."""
    areas: tuple[Area, ...]
    expected_differences: tuple[ExpectedDifference, ...] | None
    environment: tuple[Row, ...]
    versions: tuple[tuple[str, str], ...]
    """(tool, version): cutover and every rule pack the evidence names."""
    schema_differences: tuple[SchemaDifference, ...]
    data_states: tuple[DataState, ...]
    lint: tuple[LintRow, ...]
    has_lint: bool
    """Lint ran (it may have found nothing, which is worth saying)."""
    residue: tuple[ResidueRow, ...]
    has_residue: bool
    applied_waivers: tuple[AppliedWaiver, ...]
    signoff: SignOff


# --- shaping results into view records ----------------------------------------------------


def build_report(results: Mapping[str, Any], signoff: SignOff = UNSIGNED) -> Report:
    """Shape ``results`` into the view records the templates read.

    ``signoff`` fills the sign-off block; report.html always gets :data:`UNSIGNED` (it is
    itself a signed file), signoff.html gets the bundle's (see :mod:`harness.report.signoff`).
    """
    raw = [_mapping(item) for item in _sequence(results.get("checks"))]
    checks = _checks(raw)
    anchors = {check.id: check.anchor for _, check in checks}
    areas = _areas(checks)
    run_day = _text(results.get("finished_at")) or _text(results.get("started_at"))
    summary = _summary(_mapping(results.get("summary")), [check for _, check in checks])
    verdict = _verdict(results)
    plan_name = _text(_mapping(results.get("plan")).get("name"))
    title = " · ".join(part for part in ("Cutover report", plan_name, verdict.text) if part)
    differences = results.get("expected_differences")
    return Report(
        title=title,
        format=_text(results.get("format")),
        verdict=verdict,
        scope=_scope(results),
        summary=summary,
        summary_rows=_summary_rows(summary, areas),
        attention=tuple(
            check for area in areas for check in area.checks if check.status in OPEN_STATUSES
        ),
        waived=tuple(check for area in areas for check in area.checks if check.status == "waived"),
        areas=areas,
        expected_differences=(
            None
            if differences is None
            else tuple(_expected_difference(_mapping(item)) for item in _sequence(differences))
        ),
        environment=_environment_rows(_mapping(results.get("environment"))),
        versions=tool_versions(results),
        schema_differences=schema_differences(raw, anchors),
        data_states=data_states(raw, anchors),
        lint=lint_rows(raw, anchors),
        has_lint=any(check.get("area") == LINT_AREA for check in raw),
        residue=residue_rows(raw, anchors),
        has_residue=any(check.get("area") in RESIDUE_AREAS for check in raw),
        applied_waivers=applied_waivers(raw, anchors, run_day),
        signoff=signoff,
    )


def _verdict(results: Mapping[str, Any]) -> Verdict:
    text = _text(results.get("verdict"))
    reason = _text(results.get("verdict_reason"))
    if text is None:
        return Verdict(text="NO VERDICT", css="unknown", icon="?", reason=reason)
    css, icon = _VERDICTS.get(text.upper(), ("unknown", "?"))
    return Verdict(text=text, css=css, icon=icon, reason=reason)


def _scope(results: Mapping[str, Any]) -> Scope:
    plan = _mapping(results.get("plan"))
    environment = _mapping(results.get("environment"))
    sha = _text(plan.get("sha256"))
    endpoints = []
    for role in ("source", "target"):
        endpoint = _mapping(environment.get(role))
        if endpoint:
            endpoints.append(
                Endpoint(
                    role=role.capitalize(),
                    kind=_text(endpoint.get("kind")),
                    display=_text(endpoint.get("display")),
                    server_version=_text(endpoint.get("server_version")),
                )
            )
    return Scope(
        plan_name=_text(plan.get("name")),
        plan_path=_text(plan.get("path")),
        plan_sha256=sha,
        plan_sha256_short=sha[:_SHA_SHORT] if sha else None,
        endpoints=tuple(endpoints),
        harness_version=_text(environment.get("harness_version")),
        started_at=_text(results.get("started_at")),
        finished_at=_text(results.get("finished_at")),
        duration=_duration(results.get("duration_s")),
    )


def _summary(given: Mapping[str, Any], checks: Sequence[Check]) -> tuple[Count, ...]:
    """Counts per status: the recorded summary when there is one, else tallied from checks."""
    if given:
        tally = {str(key): _int(value) for key, value in given.items()}
    else:
        tally = _tally(check.status for check in checks)
    for status in STATUS_ORDER:
        tally.setdefault(status, 0)
    return tuple(
        Count(badge=_badge(status), status=status, count=tally[status])
        for status in _ordered(tally, STATUS_ORDER)
    )


def _summary_rows(summary: Sequence[Count], areas: Sequence[Area]) -> tuple[SummaryRow, ...]:
    rows = []
    for area in areas:
        tally = {count.status: count.count for count in area.counts}
        counts = tuple(tally.get(column.status, 0) for column in summary)
        rows.append(SummaryRow(area.title, area.anchor, counts, len(area.checks)))
    counts = tuple(column.count for column in summary)
    rows.append(SummaryRow("All checks", None, counts, sum(counts)))
    return tuple(rows)


def _checks(raw: Sequence[Any]) -> list[tuple[str, Check]]:
    """Each check with its area, anchors unique across the page."""
    taken: set[str] = set()
    shaped = []
    for item in raw:
        check = _mapping(item)
        check_id = _text(check.get("id")) or _text(check.get("nodeid")) or "unnamed check"
        area = _text(check.get("area")) or check_id.split("[", 1)[0] or "other"
        status = (_text(check.get("status")) or "unknown").lower()
        evidence = check.get("evidence")
        shaped.append(
            (
                area,
                Check(
                    id=check_id,
                    anchor=_anchor("check-" + check_id, taken),
                    badge=_badge(status),
                    status=status,
                    summary=_text(check.get("summary")),
                    duration=_duration(check.get("duration_s")),
                    nodeid=_text(check.get("nodeid")),
                    open=status in OPEN_STATUSES,
                    findings=tuple(_finding(_mapping(f)) for f in _sequence(check.get("findings"))),
                    evidence=evidence_node(evidence),
                    data=_mapping(evidence),
                    chart=chart_for(area, check),
                ),
            )
        )
    return shaped


def _areas(checks: Iterable[tuple[str, Check]]) -> tuple[Area, ...]:
    grouped: dict[str, list[Check]] = {}
    for area, check in checks:
        grouped.setdefault(area, []).append(check)
    taken: set[str] = set()
    areas = []
    for key in _ordered(grouped, BUILT_IN_AREAS):
        # Sorted by id so a report diffed between two runs lines up, whatever order the
        # xdist workers happened to finish in.
        members = tuple(sorted(grouped[key], key=lambda check: check.id))
        tally = _tally(check.status for check in members)
        templates: tuple[str, ...] = ("_area.html.j2",)
        if _SAFE_TEMPLATE_PART.fullmatch(key):
            templates = (f"_area_{key}.html.j2", *templates)
        areas.append(
            Area(
                key=key,
                title=_humanise(key),
                anchor=_anchor("area-" + key, taken),
                counts=tuple(
                    Count(badge=_badge(status), status=status, count=tally[status])
                    for status in _ordered(tally, STATUS_ORDER)
                ),
                checks=members,
                templates=templates,
            )
        )
    return tuple(areas)


def _finding(raw: Mapping[str, Any]) -> Finding:
    severity = (_text(raw.get("severity")) or "info").lower()
    waived_by = raw.get("waived_by")
    waiver = None
    if isinstance(waived_by, Mapping):
        waiver = Waiver(
            reason=_text(waived_by.get("reason")),
            reviewer=_text(waived_by.get("reviewer")),
            expires=_text(waived_by.get("expires")),
        )
    return Finding(
        badge=Badge(css=f"sev-{_css_token(severity)}", icon="", label=severity),
        kind=_text(raw.get("kind")),
        object=_text(raw.get("object")),
        message=_text(raw.get("message")),
        source=_text(raw.get("source")),
        target=_text(raw.get("target")),
        waiver=waiver,
    )


def _expected_difference(raw: Mapping[str, Any]) -> ExpectedDifference:
    table = _text(raw.get("table"))
    column = _text(raw.get("column"))
    used_raw = raw.get("used")
    used = used_raw if isinstance(used_raw, bool) else None
    expired = raw.get("expired") is True
    if expired:
        state, css = ("Expired, unused" if used is False else "Expired"), "expired"
    elif used is False:
        state, css = "Unused", "unused"
    elif used:
        state, css = "Used", "used"
    else:
        state, css = "Not recorded", "unknown"
    return ExpectedDifference(
        object=".".join(part for part in (table, column) if part)
        or (f"query {query}" if (query := _text(raw.get("query"))) else None),
        kind=_text(raw.get("kind")),
        reason=_text(raw.get("reason")),
        reviewer=_text(raw.get("reviewer")),
        expires=_text(raw.get("expires")),
        used=used,
        expired=expired,
        state=state,
        css=css,
    )


def _environment_rows(environment: Mapping[str, Any]) -> tuple[Row, ...]:
    """Flat label/value rows: known keys first, the rest sorted, nested mappings expanded."""
    rows = []
    nested = []
    for key in _ordered(environment, _ENVIRONMENT_ORDER):
        value = environment[key]
        if isinstance(value, Mapping):
            nested.append(key)
        else:
            rows.append(Row(label=_humanise(key), value=scalar_text(value)))
    for key in nested:
        value = environment[key]
        for sub in _ordered(value, _ENDPOINT_ORDER):
            label = f"{_humanise(key)}: {_humanise(sub).lower()}"
            rows.append(Row(label=label, value=scalar_text(value[sub])))
    return tuple(rows)


# --- small helpers ------------------------------------------------------------------------


def _badge(status: str) -> Badge:
    icon, label = _STATUS_LABELS.get(status, ("?", status.upper()))
    return Badge(css=f"st-{_css_token(status)}", icon=icon, label=label)


def _ordered(keys: Iterable[str], first: Sequence[str]) -> list[str]:
    """``first`` (those present) in its order, then every other key alphabetically."""
    present = set(keys)
    return [key for key in first if key in present] + sorted(present.difference(first))


def _tally(statuses: Iterable[str]) -> dict[str, int]:
    tally: dict[str, int] = {}
    for status in statuses:
        tally[status] = tally.get(status, 0) + 1
    return tally


def _anchor(text: str, taken: set[str]) -> str:
    """A fragment id made of safe characters, suffixed until unique on the page."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "item"
    anchor, n = base, 1
    while anchor in taken:
        n += 1
        anchor = f"{base}-{n}"
    taken.add(anchor)
    return anchor


def _duration(value: Any) -> str | None:
    """Seconds as a person reads them: ``12 ms``, ``3.20 s``, ``2 min 05 s``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.2f} s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s"


def _humanise(key: str) -> str:
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def _css_token(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "unknown"


def _text(value: Any) -> str | None:
    """A displayable string, or ``None`` for absent/empty so templates can show a dash."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else scalar_text(value)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()
