"""Scan results as the harness's check results: one per file, one for the target (SC-001).

Scenarios call these and nothing else::

    settings = load_section(plan_path, "retired")
    for source in discover(paths, settings):      # parametrize on these
        result = check_file(source, settings)
    result = check_target(paths, settings)         # SC-001
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.residue.hits import Context, Hit
from harness.residue.identifiers import Matcher
from harness.residue.rules import BY_ID
from harness.residue.scan import FileScan, Source, discover, scan_file, short_names
from harness.residue.settings import RetiredSettings
from harness.results.check import (
    CheckResult,
    Finding,
    FindingKind,
    Severity,
    Status,
    Waiver,
    conclude,
    errored,
)

AREA = "residue"
TARGET_AREA = "residue_target"

RESIDUE_KIND = FindingKind.RESIDUE
_TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")


def check_file(
    source: Source, settings: RetiredSettings, *, matcher: Matcher | None = None
) -> CheckResult:
    """SC-004 for one file: no unallowed reference to the retired cluster in its code."""
    return file_result(scan_file(source, settings, matcher), settings)


def file_result(scan: FileScan, settings: RetiredSettings) -> CheckResult:
    """The check result of a finished :class:`FileScan`."""
    if scan.error is not None:
        return errored(AREA, scan.path, scan.error)
    findings = [_finding(hit, scan, settings) for hit in scan.hits]
    evidence: dict[str, object] = {
        "kind": scan.kind,
        "code": [h.to_dict() for h in scan.hits if h.context is Context.CODE],
        "comments": [h.to_dict() for h in scan.hits if h.context is Context.COMMENT],
    }
    if scan.sha256 and scan.resolved:
        evidence["inputs"] = [{"path": scan.resolved, "sha256": scan.sha256, "kind": "iac"}]
    return conclude(AREA, scan.path, findings, evidence, ok="no reference to the retired cluster")


def _finding(hit: Hit, scan: FileScan, settings: RetiredSettings) -> Finding:
    if hit.context is Context.COMMENT:
        severity = Severity(settings.comments)
        where = " (in a comment)"
    else:
        severity = BY_ID[hit.rule].severity
        where = ""
    waiver = None
    if hit.allowed_by is not None:
        entry = hit.allowed_by
        waiver = Waiver(
            entry.reason,
            entry.reviewer or "(allowlist)",
            entry.expires.isoformat() if entry.expires else None,
            settings.allow.index(entry),
        )
    return Finding(
        RESIDUE_KIND,
        severity,
        f"{scan.path}:{hit.line}",
        f"{scan.path}:{hit.line}: {hit.message}{where} [{hit.rule}]",
        source=hit.text,
        target=hit.context.value,
        waived_by=waiver,
    )


def check_paths(
    paths: Sequence[Path], settings: RetiredSettings, *, skip: Sequence[Path] = ()
) -> list[CheckResult]:
    """Every file's result, then the target's (when the plan expects one); ``skip``: files
    not to scan (the plan)."""
    matcher = Matcher(settings)
    sources = discover(paths, settings, skip=skip)
    scans = [scan_file(source, settings, matcher) for source in sources]
    return [file_result(scan, settings) for scan in scans] + [target_result(scans, settings)]


def check_target(
    paths: Sequence[Path], settings: RetiredSettings, *, short: bool = False
) -> CheckResult:
    """SC-001: the templates under ``paths`` define exactly one DSQL cluster and no RDS one.

    ``short``: name templates by their root folder and path inside it (see ``short_names``).
    """
    sources = [s for s in discover(paths, settings) if s.path.suffix in _TEMPLATE_SUFFIXES]
    if short:
        sources = short_names(sources)
    matcher = Matcher(settings)
    return target_result([scan_file(s, settings, matcher) for s in sources], settings)


def target_result(scans: Iterable[FileScan], settings: RetiredSettings) -> CheckResult:
    """SC-001 from finished scans (only templates count)."""
    name = settings.target
    if settings.target == "none":
        return CheckResult(TARGET_AREA, name, Status.SKIP, "the plan expects no target cluster")
    templates = [s for s in scans if s.census is not None]
    if not templates:
        return errored(
            TARGET_AREA,
            name,
            "no CloudFormation template found; synthesize first (cdk synth) and scan cdk.out",
        )
    dsql = [f"{s.path}:{logical}" for s in templates for logical in (s.census or {})["dsql"]]
    rds = [f"{s.path}:{logical}" for s in templates for logical in (s.census or {})["rds"]]
    findings: list[Finding] = []
    if len(dsql) != 1:
        findings.append(
            Finding(
                RESIDUE_KIND,
                Severity.ERROR,
                "AWS::DSQL::Cluster",
                f"expected exactly one AWS::DSQL::Cluster, found {len(dsql)}"
                + (f" ({', '.join(dsql)})" if dsql else ""),
                source="1",
                target=str(len(dsql)),
            )
        )
    findings.extend(
        Finding(
            RESIDUE_KIND,
            Severity.ERROR,
            where,
            f"an RDS cluster (or Aurora instance) is still defined: {where}",
            source="0",
            target=str(len(rds)),
        )
        for where in rds
    )
    evidence = {"templates": [s.path for s in templates], "dsql_clusters": dsql, "rds": rds}
    return conclude(
        TARGET_AREA,
        name,
        findings,
        evidence,
        ok=f"one AWS::DSQL::Cluster ({dsql[0] if dsql else ''}) and no RDS cluster "
        f"in {len(templates)} template(s)",
    )
