"""Schema parity of the views: by columns and by definition, each definition read in its own
dialect and normalised (:func:`harness.db.sqltext.view_query`), so a faithful copy matches
however the server re-renders it; a definition that cannot be read is a finding, never a
match."""

from __future__ import annotations

from typing import Any

from harness.checks import waivers
from harness.checks.schema import AREA
from harness.db import typemap as types
from harness.db.catalog import Catalog, View
from harness.db.sqltext import view_query
from harness.plan.model import ExpectedDifference
from harness.plan.scope import Scope, TablePair
from harness.results.check import CheckResult, Finding, FindingKind, Severity, conclude

K, S = FindingKind, Severity


def check_views(
    source: Catalog, target: Catalog, scope: Scope, expected: tuple[ExpectedDifference, ...] = ()
) -> CheckResult:
    """Every source view exists on the target with the same (mapped) columns and the same
    definition, read by :func:`harness.db.sqltext.view_query` in each side's dialect."""
    findings: list[Finding] = []
    target_views = {v.name: v for v in target.views}
    seen = set()
    definitions: dict[str, dict[str, str]] = {}
    for view in source.views:
        name = scope.renamer.table(view.name)
        seen.add(name)
        other = target_views.get(name)
        pair = TablePair(name, view.name, name if other else None)
        found: list[Finding] = []
        if other is None:
            found.append(
                Finding(K.MISSING_VIEW, S.ERROR, name, f"view {name} is missing on the target")
            )
        else:
            wanted = tuple(scope.renamer.column(view.name, c) for c in view.columns)
            if wanted != other.columns:
                found.append(
                    Finding(
                        K.VIEW_COLUMNS,
                        S.WARNING,
                        name,
                        f"view {name} columns differ",
                        source=", ".join(wanted),
                        target=", ".join(other.columns),
                    )
                )
            # With other columns, the select lists are that finding; the rest still counts.
            compared = _definitions(view, other, source, target, scope, wanted == other.columns)
            definitions[name] = compared
            if "error" in compared:
                found.append(
                    Finding(
                        K.VIEW_DEFINITION,
                        S.ERROR,
                        name,
                        f"view {name}: could not compare definitions ({compared['error']})",
                        source=view.definition,
                        target=other.definition,
                    )
                )
            elif compared["source"] != compared["target"]:
                found.append(
                    Finding(
                        K.VIEW_DEFINITION,
                        S.ERROR,
                        name,
                        f"view {name} definition differs on the target: it may return other rows",
                        source=compared["source"],
                        target=compared["target"],
                    )
                )
        # Each view's findings are matched against waivers with that view's own names.
        findings += waivers.apply(found, expected, pair)
    for name in sorted(set(target_views) - seen):
        findings.append(
            Finding(K.EXTRA_VIEW, S.INFO, name, f"view {name} exists only on the target")
        )
    evidence: dict[str, Any] = {
        "source": [v.name for v in source.views],
        "target": sorted(target_views),
        "definitions": definitions,
    }
    return conclude(AREA, "views", findings, evidence, ok=f"{len(seen)} view(s) match")


def _definitions(
    view: View,
    other: View,
    source: Catalog,
    target: Catalog,
    scope: Scope,
    projection: bool,
) -> dict[str, str]:
    """Both definitions normalised (``source``, ``target``), or why one could not be
    (``error``): a definition the harness cannot read is never taken as matching."""
    out: dict[str, str] = {}
    for side, catalog, definition, names in (
        ("source", source, view.definition, scope.renamer),
        ("target", target, other.definition, None),
    ):
        try:
            out[side] = view_query(
                definition,
                catalog.dialect,
                _relations(catalog),
                schema=catalog.schema or "main",
                table=names.table if names else _same,
                column=names.column if names else _same_column,
                projection=projection,
            )
        except ValueError as exc:
            return {"error": f"the {side} definition: {exc}"}
    return out


def _same(name: str) -> str:
    return name


def _same_column(_table: str, name: str) -> str:
    return name


def _relations(catalog: Catalog) -> dict[str, dict[str, str]]:
    """Each table's columns with their type family, and each view's columns."""
    out = {
        t.name: {c.name: types.parse(c.declared_type, catalog.dialect).family for c in t.columns}
        for t in catalog.tables
    }
    out.update((v.name, dict.fromkeys(v.columns, "")) for v in catalog.views)
    return out
