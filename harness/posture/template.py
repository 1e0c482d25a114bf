"""Posture facts from synthesized CloudFormation, for when no account is reachable.

The same rules as the live checks, applied to what the templates declare. A property a
template leaves out takes CloudFormation's default, which for these settings is the unsafe
one (no encryption, one day of backups, no deletion protection, no PITR), so "unset" fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.posture import checks
from harness.posture.facts import ClusterFacts, DsqlFacts, Ingress, SecretFacts, TableFacts
from harness.posture.settings import PostureSettings
from harness.residue import cfn
from harness.results.check import CheckResult, errored

_SUFFIXES = (".json", ".yaml", ".yml", ".template")


def load_templates(paths: Sequence[Path]) -> list[tuple[str, dict[str, Any]]]:
    """(name, Resources) of every CloudFormation template under ``paths``; a template is
    named by the folder it was found under and its path inside (``cdk.out/App.template.json``),
    so check names do not depend on where the checkout lives."""
    found: list[tuple[str, dict[str, Any]]] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.suffix not in _SUFFIXES or "node_modules" in path.parts:
                continue
            try:
                doc = cfn.load(path.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError, OSError):
                continue
            section = cfn.resources(doc)
            if section is not None:
                name = path.name if path == root else f"{root.name}/{path.relative_to(root)}"
                found.append((Path(name).as_posix(), section))
    return found


def _ref(value: Any) -> str | None:
    """The logical id a ``Ref``/``Fn::GetAtt`` names, else None."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att:
            return str(att[0])
        if isinstance(att, str):
            return att.split(".")[0]
    return None


def _props(resource: dict[str, Any]) -> dict[str, Any]:
    props = resource.get("Properties")
    return props if isinstance(props, dict) else {}


def _port(value: Any) -> int | None:
    return value if isinstance(value, int) else None  # a GetAtt port is known only at deploy


def _group_ingress(resources: dict[str, Any], group: str) -> list[Ingress]:
    """Inline and standalone ingress rules of the group with logical id ``group``."""
    rules = list(_props(resources[group]).get("SecurityGroupIngress") or [])
    rules += [
        _props(r)
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress" and _ref(_props(r).get("GroupId")) == group
    ]
    out = []
    for rule in rules:
        every = str(rule.get("IpProtocol")) == "-1"
        low = None if every else _port(rule.get("FromPort"))
        high = None if every else _port(rule.get("ToPort"))
        for key in ("CidrIp", "CidrIpv6", "SourcePrefixListId"):
            if key in rule:
                out.append(Ingress(group, low, high, str(rule[key])))
        source = rule.get("SourceSecurityGroupId")
        if source is not None:
            logical = _ref(source)
            names = [logical] if logical else [str(source)]
            if logical in resources:
                name = _props(resources[logical]).get("GroupName")
                names += [str(name)] if isinstance(name, str) else []
            out.append(Ingress(group, low, high, names[0], tuple(names), is_group=True))
    return out


def cluster_facts(path: str, resources: dict[str, Any]) -> list[ClusterFacts]:
    facts = []
    for logical, res in resources.items():
        if res["Type"] != "AWS::RDS::DBCluster":
            continue
        props = _props(res)
        instances = {
            name: _props(r).get("PubliclyAccessible")
            for name, r in resources.items()
            if r["Type"] == "AWS::RDS::DBInstance"
            and _ref(_props(r).get("DBClusterIdentifier")) == logical
        }
        groups = [_ref(g) for g in props.get("VpcSecurityGroupIds") or []]
        ingress = [i for g in groups if g in resources for i in _group_ingress(resources, g)]
        facts.append(
            ClusterFacts(
                subject=f"{path}:{logical}",
                storage_encrypted=props.get("StorageEncrypted"),
                backup_retention_days=props.get("BackupRetentionPeriod"),
                deletion_protection=props.get("DeletionProtection"),
                instances={k: v if isinstance(v, bool) else None for k, v in instances.items()},
                ingress=tuple(ingress),
                secret="managed" if props.get("ManageMasterUserPassword") is True else None,
            )
        )
    return facts


def secret_facts(path: str, resources: dict[str, Any]) -> list[SecretFacts]:
    """Secrets attached to a cluster, with their rotation schedule if any."""
    attached = {
        _ref(_props(r).get("SecretId"))
        for r in resources.values()
        if r["Type"] == "AWS::SecretsManager::SecretTargetAttachment"
    }
    rotations = {
        _ref(_props(r).get("SecretId")): _props(r)
        for r in resources.values()
        if r["Type"] == "AWS::SecretsManager::RotationSchedule"
    }
    out = []
    for logical in sorted(a for a in attached if a):
        rotation = rotations.get(logical)
        days = ((rotation or {}).get("RotationRules") or {}).get("AutomaticallyAfterDays")
        out.append(
            SecretFacts(
                f"{path}:{logical}",
                exists=logical in resources,
                rotation_enabled=rotation is not None,
                rotation_days=days if isinstance(days, int) else None,
            )
        )
    return out


def template_results(paths: Sequence[Path], settings: PostureSettings) -> list[CheckResult]:
    """Every posture check on what the templates under ``paths`` define."""
    templates = load_templates(paths)
    if not templates:
        return [errored(checks.AREA, "templates", "no CloudFormation template found to check")]
    results: list[CheckResult] = []
    for path, resources in templates:
        for cluster in cluster_facts(path, resources):
            results.extend(checks.cluster_checks(cluster, settings))
            if cluster.secret == "managed":
                managed = SecretFacts(f"{cluster.subject} (RDS-managed)", True, True, 7)
                results.append(checks.secret_check(managed, settings))
        results.extend(checks.secret_check(s, settings) for s in secret_facts(path, resources))
        for logical, res in resources.items():
            props = _props(res)
            if res["Type"] == "AWS::DSQL::Cluster":
                protected = props.get("DeletionProtectionEnabled")
                facts = DsqlFacts(
                    f"{path}:{logical}", None, protected if isinstance(protected, bool) else None
                )
                results.append(checks.dsql_check(facts))
            elif res["Type"] == "AWS::DynamoDB::Table":
                spec = props.get("PointInTimeRecoverySpecification") or {}
                enabled = spec.get("PointInTimeRecoveryEnabled")
                name = (
                    props.get("TableName") if isinstance(props.get("TableName"), str) else logical
                )
                table = TableFacts(f"{path}:{name}", enabled if isinstance(enabled, bool) else None)
                results.append(checks.pitr_check(table))
    return results
