"""Query-result parity for one query: run it on both sides with each parameter set, compare.

The outcome is a :class:`~harness.results.check.CheckResult` in area ``queries``; the SQL each
side ran (transpiled text included), every parameter set and the first differing rows side by
side go into its evidence.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.checks import waivers
from harness.db.database import Database
from harness.plan.model import ExpectedDifference
from harness.queries.answers import Answer, QueryFailed, run, run_write
from harness.queries.compare import AnswerDiff, compare
from harness.queries.corpus import QuerySpec, SideSql
from harness.queries.settings import QuerySettings
from harness.results.check import (
    CheckResult,
    Finding,
    FindingKind,
    Severity,
    Status,
    conclude,
    errored,
)
from harness.rows.canon import CanonOptions

AREA = "queries"


def check_query(
    spec: QuerySpec,
    param_sets: list[dict[str, Any]],
    *,
    source_db: Database,
    target_db: Database,
    settings: QuerySettings,
    expected: tuple[ExpectedDifference, ...] = (),
    problem: str | None = None,
) -> CheckResult:
    """Both sides answer ``spec`` the same for every parameter set (``expected``: the plan's
    expected differences, of which those naming this query excuse its findings; ``problem``:
    why its parameters could not be drawn, which makes the check an error)."""
    where = f" ({spec.site})" if spec.site else ""
    if spec.skipped is not None:
        return CheckResult(AREA, spec.name, Status.SKIP, f"skipped by the plan: {spec.skipped}")
    problem = spec.problem or problem
    if problem is not None:
        return errored(AREA, spec.name, f"cannot run{where}: {problem}")
    if spec.write:
        refused = [
            role for role in ("source", "target") if getattr(settings.writes, role) != "rollback"
        ]
        if refused:
            # Refused before any side sees it: a write runs only where the plan opts in.
            return errored(
                AREA,
                spec.name,
                f"a write (INSERT/UPDATE/DELETE/MERGE){where} was not run: the plan does not "
                f"let writes run on the {' and '.join(refused)}. To compare it in a transaction "
                "that is always rolled back, set queries.writes: rollback (or per side: "
                "{source: rollback, target: rollback})",
            )
    cap = spec.query.row_cap or settings.row_cap
    evidence: dict[str, Any] = {
        "source_sql": spec.source.shown,
        "source_sql_origin": spec.source.origin,
        "target_sql": spec.target.shown,
        "target_sql_origin": spec.target.origin,
        "ordered": spec.ordered,
        "row_cap": cap,
    }
    if spec.site:
        evidence["site"] = spec.site
    if spec.style != "none":
        evidence["parameter_style"] = spec.style
    if spec.as_written is not None:
        evidence["sql_as_written"] = spec.as_written
    if spec.write:
        evidence["write"] = "run in a transaction always rolled back on both sides"
    if spec.query.tolerance:
        evidence["tolerance"] = dict(spec.query.tolerance)
    if spec.query.columns:
        evidence["column_options"] = {
            name: c.model_dump() for name, c in sorted(spec.query.columns.items())
        }
    findings: list[Finding] = []
    runs: list[dict[str, Any]] = []
    differences: list[dict[str, Any]] = []
    for index, params in enumerate(param_sets):
        source = _answer(spec.source, source_db, params, cap, settings.timeout_s, spec.write)
        target = _answer(spec.target, target_db, params, cap, settings.timeout_s, spec.write)
        outcome, found, diff = _judge(spec, params, source, target, settings)
        runs.append(
            {
                "params": _plain(params),
                "source_rows": _rows(source),
                "target_rows": _rows(target),
                "outcome": outcome,
            }
        )
        if spec.write:
            runs[-1]["source_affected"] = _affected(source)
            runs[-1]["target_affected"] = _affected(target)
        for finding in found:
            # One finding per kind: the first parameter set that shows it; every set's
            # outcome is in the evidence's runs.
            if all((f.kind, f.severity) != (finding.kind, finding.severity) for f in findings):
                findings.append(finding)
        if diff is not None:
            evidence.setdefault("columns", list(_columns(source, target)))
            evidence.setdefault("column_types", list(diff.types))
            for example in diff.examples:
                if len(differences) < settings.sample_rows:
                    differences.append(
                        {
                            "param_set": index,
                            "row": example.position if example.position >= 0 else None,
                            "source": None if example.source is None else list(example.source),
                            "target": None if example.target is None else list(example.target),
                        }
                    )
        if isinstance(source, Answer) and isinstance(target, Answer):
            evidence.setdefault("columns", list(_columns(source, target)))
    evidence["runs"] = runs
    if differences:
        evidence["first_differences"] = differences
    bad = sum(r["outcome"] != "same" for r in runs)
    if bad > 1:
        findings = [
            replace(f, message=f"{f.message} (and {bad - 1} more parameter set(s))")
            if f.severity is Severity.ERROR
            else f
            for f in findings
        ]
    findings = waivers.apply_to_query(findings, expected, spec.name)
    return conclude(
        AREA,
        spec.name,
        findings,
        evidence,
        ok=f"same answer for all {len(runs)} parameter set(s) "
        f"({sum(r['target_rows'] or 0 for r in runs)} rows compared)",
    )


Failed = QueryFailed | str


def _answer(
    side: SideSql, db: Database, params: dict[str, Any], cap: int, timeout_s: float, write: bool
) -> Answer | Failed:
    if side.text is None:
        return side.problem or "no SQL"
    try:
        if write:
            return run_write(db, side.text, params, cap, timeout_s=timeout_s)
        return run(db, side.text, params, cap, timeout_s=timeout_s)
    except QueryFailed as exc:
        return exc


def _judge(
    spec: QuerySpec,
    params: dict[str, Any],
    source: Answer | Failed,
    target: Answer | Failed,
    settings: QuerySettings,
) -> tuple[str, list[Finding], AnswerDiff | None]:
    where = f" with {_params_text(params)}" if params else ""
    if not isinstance(source, Answer) or not isinstance(target, Answer):
        return "failed", [_failure(spec, source, target, where)], None
    found: list[Finding] = []
    if source.affected != target.affected:
        message = (
            f"affected rows differ{where}: the source's write changes {source.affected} "
            f"row(s), the target's {target.affected}"
        )
        found.append(
            _finding(
                spec,
                FindingKind.QUERY_ANSWER,
                Severity.ERROR,
                message,
                source=str(source.affected),
                target=str(target.affected),
            )
        )
    if source.truncated or target.truncated:
        if not spec.ordered:
            message = (
                f"more than {len(source.rows)} rows{where}: an unordered answer cannot be "
                "compared in part (raise row_cap or add ORDER BY)"
            )
            found.append(_finding(spec, FindingKind.QUERY_ANSWER, Severity.ERROR, message))
            return "too many rows", found, None
        found.append(
            _finding(
                spec,
                FindingKind.QUERY_ANSWER,
                Severity.WARNING,
                f"only the first {len(source.rows)} rows compared (row cap)",
            )
        )
    diff = compare(
        source,
        target,
        ordered=spec.ordered,
        tolerance=dict(spec.query.tolerance),
        options={
            name: CanonOptions(float_digits=c.float_digits, rtrim=c.rtrim)
            for name, c in spec.query.columns.items()
        },
        examples=settings.sample_rows,
    )
    if diff.same:
        return ("differs" if found else "same"), found, None
    if diff.columns_differ:
        message = f"different columns{where}: {diff.columns_differ}"
    else:
        message = (
            f"answers differ{where}: {diff.differing} row(s) differ "
            f"(source {diff.source_rows} rows, target {diff.target_rows})"
        )
    found.append(
        _finding(
            spec,
            FindingKind.QUERY_ANSWER,
            Severity.ERROR,
            message,
            source=str(diff.source_rows),
            target=str(diff.target_rows),
        )
    )
    return "differs", found, diff


def _failure(
    spec: QuerySpec, source: Answer | Failed, target: Answer | Failed, where: str
) -> Finding:
    parts = []
    for role, side in (("source", source), ("target", target)):
        if isinstance(side, QueryFailed):
            parts.append(f"fails on the {role}{where}: {side.text()}")
        elif isinstance(side, str):
            parts.append(f"cannot run on the {role}: {side}")
    message = "; ".join(parts)
    return _finding(
        spec,
        FindingKind.QUERY_FAILED,
        Severity.ERROR,
        message,
        source=_failure_text(source),
        target=_failure_text(target),
    )


def _failure_text(side: Answer | Failed) -> str:
    if isinstance(side, Answer):
        return f"{len(side.rows)} rows"
    return side.text() if isinstance(side, QueryFailed) else side


def _finding(
    spec: QuerySpec,
    kind: FindingKind,
    severity: Severity,
    message: str,
    *,
    source: str | None = None,
    target: str | None = None,
) -> Finding:
    return Finding(kind, severity, spec.name, message, source=source, target=target)


def _rows(side: Answer | Failed) -> int | None:
    return len(side.rows) if isinstance(side, Answer) else None


def _affected(side: Answer | Failed) -> int | None:
    return side.affected if isinstance(side, Answer) else None


def _columns(source: Answer | Failed, target: Answer | Failed) -> tuple[str, ...]:
    for side in (target, source):
        if isinstance(side, Answer):
            return side.columns
    return ()


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool) or v is None else str(v)
        for k, v in params.items()
    }
