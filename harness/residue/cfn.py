"""CloudFormation residue: the analysis of templates as :mod:`harness.iac.cfn` reads them (with
lines, intrinsics in their long form). It is a small reference graph (classified by
:mod:`harness.residue.graph`): retired resources, the resources that only serve them, and
every other place that points at them; then the kinds read from properties — IAM statements,
alarms, DNS records, deletion policies, security groups attached to nothing.
"""

from __future__ import annotations

import re
from typing import Any

from harness.iac.cfn import LocDict, references, resources
from harness.residue import iam
from harness.residue.graph import Node, Role, classify, unattached_groups
from harness.residue.hits import Context, Definition, Hit
from harness.residue.identifiers import RDS_ENDPOINT
from harness.residue.settings import RetiredSettings

CLUSTER_TYPES = frozenset({"AWS::RDS::DBCluster", "AWS::RDS::GlobalCluster"})
SERVING_TYPES = frozenset(
    {
        "AWS::RDS::DBSubnetGroup",
        "AWS::RDS::DBClusterParameterGroup",
        "AWS::RDS::DBParameterGroup",
        "AWS::RDS::DBProxy",
        "AWS::RDS::DBProxyTargetGroup",
        "AWS::RDS::DBProxyEndpoint",
        "AWS::RDS::EventSubscription",
        "AWS::RDS::OptionGroup",
        "AWS::RDS::DBSecurityGroup",
        "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::SecretTargetAttachment",
        "AWS::SecretsManager::RotationSchedule",
    }
)
"""Types that exist only for a database: flagged when connected to a retired one."""
DSQL_CLUSTER = "AWS::DSQL::Cluster"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
RULE_TYPES = frozenset({"AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"})
ALARM_TYPES = frozenset({"AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard"})
DNS_TYPES = frozenset({"AWS::Route53::RecordSet", "AWS::Route53::RecordSetGroup"})


def is_aurora_instance(resource: dict[str, Any]) -> bool:
    props = resource.get("Properties")
    if not isinstance(props, dict):
        return False
    engine = props.get("Engine")
    return "DBClusterIdentifier" in props or (
        isinstance(engine, str) and engine.lower().startswith("aurora")
    )


def instance_retired(resource: dict[str, Any], settings: RetiredSettings | None = None) -> bool:
    """An Aurora member, an instance the plan names, or any when the plan retires the last
    RDS database."""
    if is_aurora_instance(resource):
        return True
    if settings is None:
        return False
    props = resource.get("Properties")
    name = props.get("DBInstanceIdentifier") if isinstance(props, dict) else None
    names = {n.lower() for n in (*settings.instance_ids, *settings.cluster_ids)}
    return settings.last_rds_database or (isinstance(name, str) and name.lower() in names)


def retired_ids(section: dict[str, Any], settings: RetiredSettings | None = None) -> set[str]:
    """Logical ids of the RDS clusters (and retired instances) a template defines."""
    return {
        logical
        for logical, res in section.items()
        if res["Type"] in CLUSTER_TYPES
        or (res["Type"] == "AWS::RDS::DBInstance" and instance_retired(res, settings))
    }


def _edges(section: LocDict) -> dict[str, list[tuple[str, int, str]]]:
    """Outgoing references of every resource, ``DependsOn`` included."""
    edges: dict[str, list[tuple[str, int, str]]] = {}
    for logical, res in section.items():
        found = list(references(res.get("Properties"), res.line))
        depends = res.get("DependsOn")
        for target in [depends] if isinstance(depends, str) else depends or []:
            if isinstance(target, str):
                found.append(
                    (target, res.key_lines.get("DependsOn", res.line), f"DependsOn {target}")
                )
        edges[logical] = found
    return edges


def _role(resource: dict[str, Any], settings: RetiredSettings | None) -> tuple[Role, bool]:
    kind = resource["Type"]
    if kind in CLUSTER_TYPES:
        return Role.DATABASE, True
    if kind == "AWS::RDS::DBInstance":
        return Role.INSTANCE, instance_retired(resource, settings)
    if kind in SERVING_TYPES:
        return Role.SERVING, False
    if kind == SECURITY_GROUP:
        return Role.SECURITY_GROUP, False
    if kind in RULE_TYPES:
        return Role.SECURITY_RULE, False
    return Role.OTHER, False


def _nodes(
    section: LocDict, edges: dict[str, list[tuple[str, int, str]]], settings: RetiredSettings | None
) -> dict[str, Node]:
    nodes = {}
    for logical, res in section.items():
        role, retired = _role(res, settings)
        targets = frozenset(t for t, _, _ in edges[logical] if t in section and t != logical)
        props = res.get("Properties")
        owner = props.get("GroupId") if isinstance(props, dict) else None
        owns = (
            frozenset(t for t, _, _ in references(owner, 0))
            if role is Role.SECURITY_RULE
            else frozenset()
        )
        nodes[logical] = Node(logical, role, targets, retired, owns)
    return nodes


def scan(doc: Any, settings: RetiredSettings | None = None) -> list[Hit]:
    """The hits of one template; [] for anything that is not a template.

    RES101 to RES103 (the database, what serves it, references to either), RES402 (rules
    opening its security group), RES501/RES502 (what a destroy would keep), and, with
    ``settings``: RES401 and RES601 to RES603 (IAM), RES403 (alarms and dashboards), RES404
    (DNS records), RES503 (security groups attached to nothing).
    """
    section = resources(doc)
    if section is None:
        return policy_file(doc, settings) if settings is not None else []
    edges = _edges(section)
    nodes = _nodes(section, edges, settings)
    classes = classify(nodes)
    flagged = classes.flagged
    hits: list[Hit] = []
    for logical, res in section.items():
        line = section.key_lines[logical]
        if logical in flagged:
            retired = logical in classes.retired
            hits.append(
                Hit(
                    "RES101" if retired else "RES102",
                    line,
                    1,
                    res["Type"],
                    Context.CODE,
                    f"{res['Type']} {logical!r} "
                    + (
                        "defines the retired database" if retired else "serves the retired database"
                    ),
                )
            )
            hits += _destroy(logical, res)
            continue
        if logical in classes.open_rules:
            hits.append(
                Hit(
                    "RES402",
                    line,
                    1,
                    res["Type"],
                    Context.CODE,
                    f"{logical!r} opens a port of the retired database's security group",
                )
            )
        for target, ref_line, text in edges[logical]:
            if target in flagged:
                hits.append(_reference(text, ref_line, f"resource {logical!r}", target))
    outputs = doc.get("Outputs") if isinstance(doc, dict) else None
    exported: set[str] = set()
    if isinstance(outputs, LocDict):
        for name, output in outputs.items():
            for target, line, text in references(output, outputs.key_lines[name]):
                exported.add(target)
                if target in flagged:
                    hits.append(_reference(text, line, f"output {name!r}", target))
    if settings is not None:
        hits += _kinds(section, edges, flagged, settings)
        for logical in unattached_groups(nodes, exported):
            hits.append(
                Hit(
                    "RES503",
                    section.key_lines[logical],
                    1,
                    SECURITY_GROUP,
                    Context.CODE,
                    f"security group {logical!r} is attached to nothing in the template: a "
                    "leftover of a deleted database?",
                )
            )
    return hits


def _reference(text: str, line: int, owner: str, target: str) -> Hit:
    return Hit("RES103", line, 1, text, Context.CODE, f"{owner} refers to retired {target!r}")


def _destroy(logical: str, res: LocDict) -> list[Hit]:
    """RES501/RES502: what deleting the stack (or the resource) would leave behind."""
    hits = []
    policy = res.get("DeletionPolicy")
    if isinstance(policy, str) and policy in ("Retain", "RetainExceptOnCreate", "Snapshot"):
        snapshot = policy == "Snapshot"
        hits.append(
            Hit(
                "RES502" if snapshot else "RES501",
                res.key_lines["DeletionPolicy"],
                1,
                f"DeletionPolicy: {policy}",
                Context.CODE,
                f"deleting {logical!r} keeps a snapshot of it"
                if snapshot
                else f"deleting {logical!r} leaves it in the account",
            )
        )
    props = res.get("Properties")
    if isinstance(props, LocDict) and props.get("DeletionProtection") is True:
        hits.append(
            Hit(
                "RES501",
                props.key_lines["DeletionProtection"],
                1,
                "DeletionProtection: true",
                Context.CODE,
                f"deletion protection keeps {logical!r} when its stack is destroyed",
            )
        )
    return hits


def _kinds(
    section: LocDict,
    edges: dict[str, list[tuple[str, int, str]]],
    flagged: frozenset[str],
    settings: RetiredSettings,
) -> list[Hit]:
    """RES401/RES6xx (IAM), RES403 (alarms, dashboards) and RES404 (DNS) of one template."""
    hits: list[Hit] = []
    scope = iam.Scope(settings, flagged)

    def refs_of(value: Any) -> frozenset[str]:
        return frozenset(t for t, _, _ in references(value, 0))

    for logical, res in section.items():
        if logical in flagged:
            continue
        kind = res["Type"]
        line = section.key_lines[logical]
        refers = any(t in flagged for t, _, _ in edges[logical])
        for statement in iam.document_statements(res.get("Properties"), refs_of, line=line):
            hits += iam.judge(statement, scope)
        text = iam.render(res.get("Properties") or {})
        watches = refers or settings.last_rds_database or names_plan_ids(text, settings)
        if kind in ALARM_TYPES and "AWS/RDS" in text and watches:
            what = "dashboard" if kind.endswith("Dashboard") else "alarm"
            hits.append(
                Hit(
                    "RES403",
                    line,
                    1,
                    kind,
                    Context.CODE,
                    f"CloudWatch {what} {logical!r} watches the retired database's metrics",
                )
            )
        if kind in DNS_TYPES and (refers or points_at_endpoint(text, settings)):
            hits.append(
                Hit(
                    "RES404",
                    line,
                    1,
                    kind,
                    Context.CODE,
                    f"DNS record {logical!r} points at the retired database's endpoint",
                )
            )
    return hits


def policy_file(doc: Any, settings: RetiredSettings) -> list[Hit]:
    """RES401 and RES601 to RES603 in a policy document kept as a file of its own."""
    scope = iam.Scope(settings)
    hits: list[Hit] = []
    for statement in iam.document_statements(doc, lambda _value: frozenset()):
        hits += iam.judge(statement, scope)
    return hits


def names_plan_ids(text: str, settings: RetiredSettings) -> bool:
    """Whether ``text`` names a cluster or instance the plan retires."""
    return any(
        re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text, re.IGNORECASE)
        for name in (*settings.cluster_ids, *settings.instance_ids)
    )


def points_at_endpoint(text: str, settings: RetiredSettings) -> bool:
    """Whether ``text`` holds an Aurora endpoint or one of the plan's host names."""
    lowered = text.lower()
    return bool(RDS_ENDPOINT.search(text)) or any(h.lower() in lowered for h in settings.hostnames)


def census(doc: Any, settings: RetiredSettings | None = None) -> dict[str, list[str]]:
    """Logical ids of DSQL clusters and of RDS databases a template defines (for SC-001)."""
    section = resources(doc)
    if section is None:
        return {"dsql": [], "rds": []}
    return {
        "dsql": [k for k, r in section.items() if r["Type"] == DSQL_CLUSTER],
        "rds": sorted(retired_ids(section, settings)),
    }


def definitions(doc: Any, path: str, settings: RetiredSettings) -> list[Definition]:
    """The census as :class:`Definition` values, each with its line."""
    section = resources(doc)
    if section is None:
        return []
    found = census(doc, settings)
    return [
        Definition(kind, "cloudformation", path, section.key_lines[logical], logical)
        for kind in ("dsql", "rds")
        for logical in found[kind]
    ]
