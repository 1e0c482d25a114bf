"""SQL that DSQL accepts: one item per linted file, and one per object of the source's schema.

Files come from the plan's ``lint.paths`` (schema scripts, migration folders, application code
with SQL in string literals); each item's evidence lists the file with its sha256, so
``results.json`` names every linted file under ``inputs``. When the source is PostgreSQL its
live schema is rendered as DDL and linted too (``lint.live_schema``), one item per table or
view, findings named by object.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.lint.checks import check_catalog, check_file, linted_files
from harness.lint.settings import LintSettings
from harness.lint.summary import AREA
from harness.plugin import CutoverRun, not_applicable, planned_run, usage_error
from harness.results.check import CheckResult

_SCHEMA: dict[Path, dict[str, CheckResult]] = {}
"""The live schema's lint by plan, once per process: collection and every item share it."""


def _schema_results(run: CutoverRun, settings: LintSettings) -> dict[str, CheckResult]:
    if run.loaded.path not in _SCHEMA:
        catalog = run.database("source").catalog()
        linted = check_catalog(catalog, settings) if catalog.dialect == "postgres" else {}
        _SCHEMA[run.loaded.path] = linted
    return _SCHEMA[run.loaded.path]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``lint_file``: one per linted file; ``schema_object``: one per source table or view."""
    wanted = {"lint_file", "schema_object"} & set(metafunc.fixturenames)
    if not wanted:
        return
    name = wanted.pop()
    run = planned_run(metafunc, name)
    if run is None:
        return
    settings = run.plan.lint
    if settings is None:
        not_applicable(metafunc, name)
        return
    if name == "lint_file":
        if not settings.paths:
            not_applicable(metafunc, name)
            return
        try:
            files = linted_files(settings)
        except HarnessError as exc:
            raise usage_error(metafunc.config, f"{run.loaded.path}: lint.paths: {exc}") from None
        metafunc.parametrize("lint_file", files, ids=[_label(f, settings.paths) for f in files])
        return
    if not settings.live_schema:
        not_applicable(metafunc, name)
        return
    try:
        objects = sorted(_schema_results(run, settings))
    except HarnessError as exc:
        raise usage_error(metafunc.config, f"source schema: {exc}") from None
    if not objects:  # the source is not PostgreSQL, or has no tables
        not_applicable(metafunc, name)
        return
    metafunc.parametrize("schema_object", objects)


def _label(path: Path, roots: tuple[Path, ...]) -> str:
    """``<lint path's name>/<path inside it>`` (``after/db/001.sql``), wherever it lives."""
    for root in roots:
        if path == root:
            return root.name
        if path.is_relative_to(root):
            return f"{root.name}/{path.relative_to(root).as_posix()}"
    return path.as_posix()


def test_dsql_compat_file(
    lint_file: Path, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    settings = cutover.plan.lint
    assert settings is not None  # collection skipped otherwise
    label = _label(lint_file, settings.paths)
    record(cutover.run_check(AREA, label, lambda: check_file(lint_file, settings, label=label)))


def test_dsql_compat_schema(
    schema_object: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    settings = cutover.plan.lint
    assert settings is not None  # collection skipped otherwise
    record(
        cutover.run_check(
            AREA,
            f"schema:{schema_object}",
            lambda: _schema_results(cutover, settings)[schema_object],
        )
    )
