"""Scan results as the harness's check results: one per file, one for the target (SC-001).

Scenarios call these and nothing else::

    settings = load_section(plan_path, "retired")
    for source in discover(paths, settings):      # parametrize on these
        result = check_file(source, settings)
    result = check_target(paths, settings)         # SC-001
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.residue.hits import Context, Hit
from harness.residue.identifiers import Matcher
from harness.residue.rules import BY_ID
from harness.residue.scan import FileScan, Source, discover, scan_file, short_names
from harness.residue.settings import RetiredSettings
from harness.residue.tree import CDK_SUFFIXES, Tree, build, for_root
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
_IAC_SUFFIXES = (
    ".json",
    ".yaml",
    ".yml",
    ".template",
    ".tf",
    ".ts",
    ".tsx",
    ".js",
    ".mjs",
    ".cjs",
    ".py",
)
"""Files that can define a database: templates, plans, Terraform and CDK source."""


def check_file(
    source: Source,
    settings: RetiredSettings,
    *,
    matcher: Matcher | None = None,
    tree: Tree | None = None,
) -> CheckResult:
    """SC-004 for one file: no unallowed reference to the retired cluster in its code.

    ``tree``: the analysis of the tree the file is in; by default the tree under
    ``source.root``, read once per process.
    """
    if tree is None and (source.path.suffix == ".tf" or source.path.suffix in CDK_SUFFIXES):
        tree = for_root(source.root, settings)
    facts = tree.facts(source) if tree is not None else None
    return file_result(scan_file(source, settings, matcher, tree=facts), settings)


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
    tree = build(sources, settings)
    scans = [scan_file(s, settings, matcher, tree=tree.facts(s)) for s in sources]
    return [file_result(scan, settings) for scan in scans] + [target_result(scans, settings)]


def check_target(
    paths: Sequence[Path], settings: RetiredSettings, *, short: bool = False
) -> CheckResult:
    """SC-001: the tree under ``paths`` defines exactly one DSQL cluster and no RDS database,
    whichever way it is written (CloudFormation, CDK, Terraform, a Terraform plan).

    ``short``: name files by their root folder and path inside it (see ``short_names``).
    """
    sources = [s for s in discover(paths, settings) if s.path.suffix in _IAC_SUFFIXES]
    if short:
        sources = short_names(sources)
    matcher = Matcher(settings)
    tree = build(sources, settings)
    scans = [scan_file(s, settings, matcher, tree=tree.facts(s)) for s in sources]
    return target_result(scans, settings)


def target_result(scans: Iterable[FileScan], settings: RetiredSettings) -> CheckResult:
    """SC-001 from finished scans: every flavour of infrastructure code counts.

    Where a synthesized form exists, it is the word on what will be deployed: an app's
    ``cdk.out`` templates replace its CDK source, and ``terraform show -json`` output
    replaces the ``.tf`` source.
    """
    name = settings.target
    if settings.target == "none":
        return CheckResult(TARGET_AREA, name, Status.SKIP, "the plan expects no target cluster")
    scans = list(scans)
    iac = [s for s in scans if s.flavour is not None]
    if not iac:
        return errored(
            TARGET_AREA,
            name,
            "no infrastructure code found: no CloudFormation template (or cdk.out), CDK app, "
            "Terraform or `terraform show -json` output under the scanned paths",
        )
    templates = [s for s in iac if s.flavour == "cloudformation"]
    plans = [s for s in iac if s.flavour == "terraform-plan"]
    counted = [
        s
        for s in iac
        if not (s.flavour == "terraform" and plans)
        and not (s.flavour == "cdk" and _synthesized(s, templates))
    ]
    definitions = [d for s in counted for d in s.definitions]
    dsql = [d.where for d in definitions if d.kind == "dsql"]
    rds = [d for d in definitions if d.kind == "rds"]
    findings: list[Finding] = []
    if len(dsql) != 1:
        findings.append(
            Finding(
                RESIDUE_KIND,
                Severity.ERROR,
                "DSQL cluster",
                f"expected exactly one DSQL cluster, found {len(dsql)}"
                + (f" ({', '.join(dsql)})" if dsql else ""),
                source="1",
                target=str(len(dsql)),
            )
        )
    findings.extend(
        Finding(
            RESIDUE_KIND,
            Severity.ERROR,
            d.where,
            f"an RDS database is still defined ({d.flavour}): {d.where}",
            source="0",
            target=str(len(rds)),
        )
        for d in rds
    )
    flavours = sorted({s.flavour for s in counted if s.flavour})
    evidence = {
        "templates": [s.path for s in templates],
        "counted": {f: [s.path for s in counted if s.flavour == f] for f in flavours},
        "dsql_clusters": dsql,
        "rds": [d.where for d in rds],
    }
    return conclude(
        TARGET_AREA,
        name,
        findings,
        evidence,
        ok=f"one DSQL cluster ({dsql[0] if dsql else ''}) and no RDS database in "
        f"{len(counted)} file(s) of {', '.join(flavours)}",
    )


def _synthesized(scan: FileScan, templates: list[FileScan]) -> bool:
    """Whether ``cdk synth`` output of the app ``scan`` belongs to was scanned too."""
    if not templates:
        return False
    where = Path(scan.resolved or scan.path)
    for folder in where.parents:
        config = folder / "cdk.json"
        if config.is_file():
            output = _output_folder(config)
            return any((folder / output) in Path(t.resolved or t.path).parents for t in templates)
    return any("cdk.out" in Path(t.resolved or t.path).parts for t in templates)


def _output_folder(config: Path) -> str:
    try:
        value = json.loads(config.read_text(encoding="utf-8")).get("output", "cdk.out")
    except (OSError, ValueError, AttributeError):
        return "cdk.out"
    return value if isinstance(value, str) else "cdk.out"
