"""The lint as scenario items: one check per linted file and per object of a live schema.

``scenarios/test_dsql_compat.py`` calls these and nothing else::

    for path in linted_files(settings):            # parametrize on these
        result = check_file(path, settings, label=...)
    for name, result in check_catalog(catalog, settings).items():
        ...

A file's evidence names it with its sha256 under ``inputs``, so ``results.json`` lists every
linted file and the sign-off covers the exact bytes that were linted.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from harness.db.catalog import Catalog
from harness.lint.api import lint_catalog, lint_paths, to_check_result
from harness.lint.settings import LintSettings
from harness.lint.sources import discover
from harness.lint.summary import AREA
from harness.results.check import CheckResult, errored


def linted_files(settings: LintSettings) -> list[Path]:
    """Every file the plan's ``lint.paths`` hold that the linter reads, in a stable order."""
    return discover(settings.paths, app_code=settings.app_code, exclude=settings.exclude)


def check_file(path: Path, settings: LintSettings, *, label: str | None = None) -> CheckResult:
    """The lint of one file; ``label`` is how the report names it (default: the path)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return errored(AREA, label or str(path), f"cannot read {path}: {exc.strerror}")
    file = lint_paths([path], settings).files[0]
    if label is not None:  # findings say where as the report names the file
        findings = tuple(replace(f, path=label) for f in file.findings)
        file = replace(file, path=label, findings=findings)
    result = to_check_result(file, fail_on=settings.fail_on)
    evidence = {
        **result.evidence,
        "inputs": [
            {"path": str(path.resolve()), "sha256": hashlib.sha256(raw).hexdigest(), "kind": "sql"}
        ],
    }
    return replace(result, evidence=evidence)


def check_catalog(catalog: Catalog, settings: LintSettings) -> dict[str, CheckResult]:
    """The live schema rendered as DDL and linted, one result per table or view, by name."""
    report = lint_catalog(catalog, settings)
    results = {}
    for file in report.files:
        result = to_check_result(file, fail_on=settings.fail_on)
        name = f"{catalog.schema}.{file.object}" if catalog.schema else str(file.object)
        results[name] = replace(result, name=f"schema:{name}")
    return results
