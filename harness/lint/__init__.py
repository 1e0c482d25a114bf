"""DSQL compatibility lint: classify every statement of a schema or an application's SQL.

Public API (``harness.lint``)::

    lint_paths(paths, settings=None, *, jobs=None) -> LintReport   # files, folders, app code
    lint_sql(text, *, path=..., dialect="postgres") -> FileReport  # one script
    lint_catalog(catalog, settings=None) -> LintReport             # a live schema
    to_check_result(file_report) -> CheckResult                    # one scenario item
    LintSettings / LintWaiver                                      # the plan's lint section
    RULES, PACK_VERSION                                            # the rule pack (data)

Layout: ``pack/`` (rules as data), ``split`` (statements), ``prescan/`` (keywords and the
forms sqlglot mis-reads, one module per statement family), ``detect`` (AST rules), ``txn``
(transaction and script rules), ``engine`` (assembly, suppressions), ``sources`` (files and
application code), ``api``, ``checks`` (scenario items), ``summary`` (the results.json
section), ``formats``/``sarif`` (outputs), ``fix`` (``--fix``), ``command`` (``cutover lint``).
"""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from harness.lint.api import apply_waivers, lint_catalog, lint_paths, to_check_result
    from harness.lint.engine import lint_sql
    from harness.lint.pack import PACK_VERSION, RULES, RULES_BY_ID
    from harness.lint.report import FailOn, FileReport, LintFinding, LintReport, Verdict
    from harness.lint.rule import FixKind, Rule
    from harness.lint.settings import LintSettings, LintWaiver

# Imported on first use: the plan loader needs only LintSettings, not sqlglot and the engine.
_MODULE_OF = {
    **dict.fromkeys(("apply_waivers", "lint_catalog", "lint_paths", "to_check_result"), "api"),
    "lint_sql": "engine",
    **dict.fromkeys(("PACK_VERSION", "RULES", "RULES_BY_ID"), "pack"),
    **dict.fromkeys(("FailOn", "FileReport", "LintFinding", "LintReport", "Verdict"), "report"),
    **dict.fromkeys(("FixKind", "Rule"), "rule"),
    **dict.fromkeys(("LintSettings", "LintWaiver"), "settings"),
}


def __getattr__(name: str) -> _Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'harness.lint' has no attribute {name!r}")
    return getattr(_importlib.import_module(f"harness.lint.{module}"), name)


__all__ = [
    "PACK_VERSION",
    "RULES",
    "RULES_BY_ID",
    "FailOn",
    "FileReport",
    "FixKind",
    "LintFinding",
    "LintReport",
    "LintSettings",
    "LintWaiver",
    "Rule",
    "Verdict",
    "apply_waivers",
    "lint_catalog",
    "lint_paths",
    "lint_sql",
    "to_check_result",
]
