"""The linter's functions: lint paths, text or a live catalog; turn a file's lint into a check.

``lint_paths`` splits every file in the calling process (cheap), fans the per-statement
analysis — the expensive part, sqlglot parsing — out to worker processes in chunks, and runs
the ordered passes (transactions, script schema, suppressions, waivers) back in the caller.
Chunking by statements rather than by file keeps both cores busy on one big ``pg_dump`` file
as well as on a folder of small migrations.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlglot import exp

from harness.db.catalog import Catalog, Table, View
from harness.lint.analysis import Analysis
from harness.lint.conventions import transaction_convention
from harness.lint.engine import (
    Fragment,
    analyse_statement,
    copy_analysis,
    lint_fragments,
    script_of,
)
from harness.lint.orm import convention_of, operation_fragment, operations, tool_of
from harness.lint.pack import CROSS_CHECKED_WITH, PACK_VERSION, TARGET
from harness.lint.report import FailOn, FileReport, LintFinding, LintReport, Suppression
from harness.lint.settings import LintSettings, LintWaiver
from harness.lint.sources import discover, kind_of, read_fragments
from harness.lint.split import Script
from harness.lint.summary import AREA
from harness.lint.suppress import waiver_matches
from harness.lint.txn import Schema
from harness.results.check import CheckResult, Finding, FindingKind, Status, Waiver, conclude

PARALLEL_MIN_BYTES = 256 * 1024
"""Below this much SQL a worker pool costs more than it saves."""
_Task = tuple[str, bool, int]


def _analyse_chunk(dialect: str, tasks: Sequence[_Task]) -> list[Analysis]:
    return [analyse_statement(t, dialect, meta=m, copy_rows=c) for t, m, c in tasks]


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork shares the already-imported sqlglot with the workers (no re-import per worker).
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _analyse_all(
    scripts: list[list[Script]], dialect: str, jobs: int, size: int
) -> list[list[list[Analysis]]]:
    tasks: list[_Task] = [
        (s.text, s.meta, s.copy_rows)
        for file in scripts
        for script in file
        for s in script.statements
    ]
    # A statement's analysis depends on its text alone, and dumps and migration folders
    # repeat statements (the same CREATE in every environment's dump): each distinct one is
    # analysed once, and every repeat gets its own copy, since the script passes edit hits.
    index: dict[_Task, int] = {}
    order = [index.setdefault(t, len(index)) for t in tasks]
    distinct = list(index)
    if jobs > 1 and size >= PARALLEL_MIN_BYTES and len(distinct) > 1:
        chunks = max(jobs * 8, 1)
        step = max(1, -(-len(distinct) // chunks))
        parts = [distinct[i : i + step] for i in range(0, len(distinct), step)]
        with ProcessPoolExecutor(max_workers=jobs, mp_context=_pool_context()) as pool:
            done = [
                a for part in pool.map(_analyse_chunk, [dialect] * len(parts), parts) for a in part
            ]
    else:
        done = _analyse_chunk(dialect, distinct)
    used = [False] * len(done)
    flat = []
    for i in order:
        flat.append(copy_analysis(done[i]) if used[i] else done[i])
        used[i] = True
    out: list[list[list[Analysis]]] = []
    at = 0
    for file in scripts:
        per_file = []
        for script in file:
            n = len(script.statements)
            per_file.append(flat[at : at + n])
            at += n
        out.append(per_file)
    return out


def lint_paths(
    paths: Iterable[Path], settings: LintSettings | None = None, *, jobs: int | None = None
) -> LintReport:
    """Lint SQL files, migration folders and application code; waivers from ``settings``."""
    settings = settings or LintSettings()
    started = time.perf_counter()
    files = discover(paths, app_code=settings.app_code, exclude=settings.exclude)
    fragments: list[list[Fragment]] = []
    conventions: list[str | None] = []
    for path in files:
        kind = kind_of(path) or "sql"
        frags = read_fragments(path, kind)
        convention = _convention(path, frags) if kind == "sql" else None
        tool = code_tool(path) if kind != "sql" else None
        if tool is not None:
            text = path.read_text(encoding="utf-8", errors="replace")
            frags = tool_fragments(tool, text, frags)
            convention = convention_of(path, text, tool)
        fragments.append(frags)
        conventions.append(convention)
    scripts = [[script_of(f) for f in frags] for frags in fragments]
    size = sum(len(f.text) for frags in fragments for f in frags)
    analyses = _analyse_all(scripts, settings.dialect, jobs or default_jobs(), size)
    schema = Schema()  # one model for the run: files are linted in migration order
    reports = [
        lint_fragments(
            frags,
            path=str(path),
            source=kind_of(path) or "sql",
            dialect=settings.dialect,
            assume_in_transaction=settings.assume_in_transaction,
            convention=convention,
            scripts=file_scripts,
            analyses=file_analyses,
            schema=schema,
        )
        for path, frags, convention, file_scripts, file_analyses in zip(
            files, fragments, conventions, scripts, analyses, strict=True
        )
    ]
    report = LintReport(tuple(reports), PACK_VERSION, TARGET, tool=_tool())
    report = apply_waivers(report, settings.waivers)
    return replace(report, duration_s=time.perf_counter() - started)


def _convention(path: Path, fragments: list[Fragment]) -> str | None:
    """The migration tool's transaction convention for a SQL file, if its layout names one."""
    return transaction_convention(path, "".join(f.text for f in fragments))


def code_tool(path: Path) -> str | None:
    """The code-based migration tool whose layout ``path`` follows (read only when the path
    could be one: a Rails, Django, Alembic, knex or Kysely migration folder)."""
    if not {"migrate", "migrations", "versions"} & set(path.parts[:-1]):
        return None
    return tool_of(path, path.read_text(encoding="utf-8", errors="replace"))


def tool_fragments(tool: str, text: str, sql: list[Fragment]) -> list[Fragment]:
    """The migration's SQL and its tool operations, in the order they are written."""
    ops = [operation_fragment(op, tool) for op in operations(tool, text)]
    return sorted([*sql, *ops], key=lambda f: (f.line, f.col))


def _tool() -> dict[str, str]:
    return {"rule_pack": PACK_VERSION, "cross_checked_with": CROSS_CHECKED_WITH}


def apply_waivers(
    report: LintReport, waivers: Sequence[LintWaiver], *, today: date | None = None
) -> LintReport:
    """Mark findings a plan waiver excuses (inline suppressions are already applied)."""
    if not waivers:
        return report
    files = []
    for file in report.files:
        findings = []
        for f in file.findings:
            if f.suppressed_by is None:
                for index, w in enumerate(waivers):
                    if waiver_matches(w, f.rule_id, f.path, f.object, today):
                        expires = w.expires.isoformat() if w.expires else None
                        f = replace(
                            f,
                            suppressed_by=Suppression(
                                "waiver", w.reason, w.reviewer, expires, index
                            ),
                        )
                        break
            findings.append(f)
        files.append(replace(file, findings=tuple(findings)))
    return replace(report, files=tuple(files))


# ----------------------------------------------------------------------------- live catalog
def _ident(name: str, dialect: str) -> str:
    return exp.to_identifier(name).sql(dialect)


def table_ddl(table: Table, dialect: str) -> str:
    """CREATE TABLE and CREATE INDEX ASYNC statements for one catalog table."""

    def q(name: str) -> str:
        return _ident(name, dialect)

    parts = []
    for c in table.columns:
        col = f"{q(c.name)} {c.declared_type or 'text'}"
        if not c.nullable:
            col += " NOT NULL"
        if c.default is not None:
            col += f" DEFAULT {c.default}"
        parts.append(col)
    if table.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(map(q, table.primary_key))})")
    for unique in table.unique_constraints:
        parts.append(f"UNIQUE ({', '.join(map(q, unique))})")
    for fk in table.foreign_keys:
        parts.append(
            f"FOREIGN KEY ({', '.join(map(q, fk.columns))}) REFERENCES {q(fk.ref_table)} "
            f"({', '.join(map(q, fk.ref_columns))})"
        )
    lines = [f"CREATE TABLE {q(table.name)} (\n  " + ",\n  ".join(parts) + "\n);"]
    for index in table.indexes:
        kw = "UNIQUE " if index.unique else ""
        lines.append(
            f"CREATE {kw}INDEX ASYNC {q(index.name)} ON {q(table.name)} "
            f"({', '.join(map(q, index.columns))});"
        )
    return "\n".join(lines) + "\n"


def view_ddl(view: View, dialect: str) -> str:
    """The view's CREATE VIEW (SQLite keeps the whole statement; PostgreSQL the query)."""
    body = view.definition.strip().rstrip(";") or "SELECT 1"
    if body[:6].upper() == "CREATE":
        return body + ";\n"
    return f"CREATE VIEW {_ident(view.name, dialect)} AS {body};\n"


def lint_catalog(catalog: Catalog, settings: LintSettings | None = None) -> LintReport:
    """Lint the live schema of a connected source: one file report per table and view.

    The catalog is rendered as DDL in its own dialect (declared types as the database
    reports them), so the findings name the object rather than a file line.
    """
    settings = settings or LintSettings()
    started = time.perf_counter()
    prefix = f"catalog:{catalog.schema}." if catalog.schema else "catalog:"
    reports: list[FileReport] = []
    items: list[tuple[str, str]] = [(t.name, table_ddl(t, catalog.dialect)) for t in catalog.tables]
    items += [(v.name, view_ddl(v, catalog.dialect)) for v in catalog.views]
    for name, ddl in items:
        file = lint_fragments(
            [Fragment(ddl)], path=prefix + name, source="catalog", dialect=catalog.dialect
        )
        findings = tuple(replace(f, object=name) for f in file.findings)
        reports.append(replace(file, findings=findings, object=name))
    report = LintReport(tuple(reports), PACK_VERSION, TARGET, tool=_tool())
    report = apply_waivers(report, settings.waivers)
    return replace(report, duration_s=time.perf_counter() - started)


# ----------------------------------------------------------------------------- checks
_KIND = FindingKind.DSQL_INCOMPATIBLE


def _as_finding(f: LintFinding) -> Finding:
    waived = None
    if f.suppressed_by is not None:
        s = f.suppressed_by
        waived = Waiver(s.reason, s.reviewer or "inline comment", s.expires, s.index or 0)
    return Finding(
        kind=_KIND,
        severity=f.severity,
        table=f.object or f.path,
        message=f"{f.rule_id} {f.name}: {f.message} ({f.path}:{f.line}:{f.col})",
        source=f"{f.path}:{f.line}:{f.col}",
        target=f.fix,
        waived_by=waived,
    )


def to_check_result(file_report: FileReport, *, fail_on: FailOn = FailOn.ERROR) -> CheckResult:
    """One scenario item: the lint of one file or catalog object as a harness result.

    ``fail_on=WARNING`` (the plan's ``lint.fail_on``) fails the item on an unsuppressed
    warning too, as ``cutover lint`` exits 1 on one; the findings keep their severity.
    """
    counts = file_report.verdict_counts()
    evidence = {
        "path": file_report.path,
        "source": file_report.source,
        "rule_pack": PACK_VERSION,
        "statements": counts,
        "findings": [f.to_dict() for f in file_report.findings],
    }
    name = file_report.object or file_report.path
    findings = [_as_finding(f) for f in file_report.findings]
    total = len(file_report.statements)
    ok = f"{total} statement(s) accepted by DSQL"
    result = conclude(AREA, name, findings, evidence, ok=ok)
    warned = [
        f for f in file_report.findings if f.counts_at(fail_on) and not f.counts_at(FailOn.ERROR)
    ]
    if result.status is Status.PASS and warned:
        shown = "; ".join(
            f"{f.rule_id} {f.message} ({f.path}:{f.line}:{f.col})" for f in warned[:3]
        )
        more = f"; and {len(warned) - 3} more" if len(warned) > 3 else ""
        summary = f"lint.fail_on is warning: {shown}{more}"
        return replace(result, status=Status.FAIL, summary=summary)
    return result
