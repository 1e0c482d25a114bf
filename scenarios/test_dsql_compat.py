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

from harness.capabilities import lint_label, lint_schema
from harness.lint.checks import check_file
from harness.lint.summary import AREA
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_dsql_compat_file(
    lint_file: Path, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    settings = cutover.plan.lint
    assert settings is not None  # collection skipped otherwise
    label = lint_label(cutover, lint_file)
    record(cutover.run_check(AREA, label, lambda: check_file(lint_file, settings, label=label)))


def test_dsql_compat_schema(
    schema_object: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    record(
        cutover.run_check(
            AREA,
            f"schema:{schema_object}",
            lambda: lint_schema(cutover)[schema_object],
        )
    )
