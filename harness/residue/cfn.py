"""CloudFormation (JSON and YAML, ``cdk.out``, SAM, Serverless ``resources``), with lines.

Templates are read as YAML node trees (JSON is YAML here, and so needs no second reader), so
every mapping keeps the line of each of its keys; short-form intrinsic tags (``!Ref X``,
``!GetAtt A.B``, ``!Sub …``) become their long form (``{"Ref": "X"}``…) so the analysis has
one shape to walk. The analysis is a small reference graph: retired resources, the resources
that only serve them, and every other place that points at them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from harness.residue.hits import Context, Hit

_Composer: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
        "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::SecretTargetAttachment",
        "AWS::SecretsManager::RotationSchedule",
    }
)
"""Types that exist only for a database: flagged when connected to a retired one."""
DSQL_CLUSTER = "AWS::DSQL::Cluster"


class LocDict(dict[str, Any]):
    """A mapping that remembers its own line and the line of each key."""

    line: int
    key_lines: dict[str, int]


class CfnLoader(yaml.SafeLoader):
    """A PyYAML loader that accepts CloudFormation's short-form intrinsic tags."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return _long_form(suffix, value)


CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def _long_form(tag: str, value: Any) -> dict[str, Any]:
    if tag == "Ref" or tag == "Condition":
        return {tag: value}
    if tag == "GetAtt" and isinstance(value, str):
        logical, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical, attribute]}
    return {f"Fn::{tag}": value}


def load(text: str) -> Any:
    """Parse a template (YAML or JSON) into plain data with line-aware mappings.

    Raises :class:`yaml.YAMLError` for text that is neither.
    """
    node = yaml.compose(text, Loader=_Composer)
    return None if node is None else _convert(node)


def _convert(node: yaml.Node) -> Any:
    line = node.start_mark.line + 1
    tag = node.tag or ""
    if isinstance(node, yaml.MappingNode):
        out = LocDict()
        out.line, out.key_lines = line, {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[key] = _convert(value_node)
            out.key_lines[key] = key_node.start_mark.line + 1
        value: Any = out
    elif isinstance(node, yaml.SequenceNode):
        value = [_convert(item) for item in node.value]
    else:
        value = _scalar(node)
    if tag.startswith("!"):
        wrapped = LocDict(_long_form(tag[1:], value))
        wrapped.line, wrapped.key_lines = line, dict.fromkeys(wrapped, line)
        return wrapped
    return value


def _scalar(node: yaml.Node) -> Any:
    value = str(node.value)
    if node.tag == "tag:yaml.org,2002:bool":
        return value.lower() in ("true", "yes", "on", "y")
    if node.tag == "tag:yaml.org,2002:int":
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if node.tag == "tag:yaml.org,2002:null":
        return None
    return value


def resources(doc: Any) -> LocDict | None:
    """The ``Resources`` mapping of a template (or of a Serverless ``resources:`` block)."""
    if not isinstance(doc, dict):
        return None
    section = doc.get("Resources")
    if section is None and isinstance(doc.get("resources"), dict) and "service" in doc:
        section = doc["resources"].get("Resources")  # serverless.yml
    if not isinstance(section, LocDict):
        return None
    typed = [r for r in section.values() if isinstance(r, dict) and isinstance(r.get("Type"), str)]
    return section if typed and len(typed) == len(section) else None


def is_aurora_instance(resource: dict[str, Any]) -> bool:
    props = resource.get("Properties")
    if not isinstance(props, dict):
        return False
    engine = props.get("Engine")
    return "DBClusterIdentifier" in props or (
        isinstance(engine, str) and engine.lower().startswith("aurora")
    )


def retired_ids(section: dict[str, Any]) -> set[str]:
    """Logical ids of the RDS clusters (and Aurora instances) a template defines."""
    return {
        logical
        for logical, res in section.items()
        if res["Type"] in CLUSTER_TYPES
        or (res["Type"] == "AWS::RDS::DBInstance" and is_aurora_instance(res))
    }


def references(value: Any, line: int) -> Iterator[tuple[str, int, str]]:
    """Every (logical id, line, text) that ``value`` points at through an intrinsic."""
    if isinstance(value, list):
        for item in value:
            yield from references(item, line)
        return
    if not isinstance(value, dict):
        return
    here = value.line if isinstance(value, LocDict) else line
    for key, item in value.items():
        item_line = value.key_lines.get(key, here) if isinstance(value, LocDict) else here
        if key == "Ref" and isinstance(item, str):
            yield item, item_line, f"Ref {item}"
        elif key == "Fn::GetAtt":
            parts = item.split(".", 1) if isinstance(item, str) else item
            if isinstance(parts, list) and parts and isinstance(parts[0], str):
                yield parts[0], item_line, "Fn::GetAtt " + ".".join(str(p) for p in parts)
        elif key == "Fn::Sub":
            template = item[0] if isinstance(item, list) and item else item
            if isinstance(template, str):
                for match in re.finditer(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}", template):
                    yield match.group(1), item_line, f"Fn::Sub {match.group(0)}"
            yield from references(item, item_line)
        else:
            yield from references(item, item_line)


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


def scan(doc: Any) -> list[Hit]:
    """RES101 to RES103 hits of one template; [] for anything that is not a template."""
    section = resources(doc)
    if section is None:
        return []
    retired = retired_ids(section)
    edges = _edges(section)
    serving: set[str] = set()
    changed = bool(retired)
    while changed:  # a proxy serves the cluster through its target group: follow the chain
        changed = False
        flagged = retired | serving
        for logical, res in section.items():
            if logical in flagged or res["Type"] not in SERVING_TYPES:
                continue
            points_at = any(target in flagged for target, _, _ in edges[logical])
            pointed_at = any(logical in {t for t, _, _ in edges[f]} for f in flagged)
            if points_at or pointed_at:
                serving.add(logical)
                changed = True
    hits = [
        Hit(
            "RES101" if logical in retired else "RES102",
            section.key_lines[logical],
            1,
            section[logical]["Type"],
            Context.CODE,
            f"{section[logical]['Type']} {logical!r} "
            + (
                "defines the retired database"
                if logical in retired
                else "serves the retired database"
            ),
        )
        for logical in section
        if logical in retired or logical in serving
    ]
    flagged = retired | serving
    for logical, found in edges.items():
        if logical in flagged:
            continue
        for target, line, text in found:
            if target in flagged:
                hits.append(_reference(text, line, f"resource {logical!r}", target))
    outputs = doc.get("Outputs") if isinstance(doc, dict) else None
    if isinstance(outputs, LocDict):
        for name, output in outputs.items():
            for target, line, text in references(output, outputs.key_lines[name]):
                if target in flagged:
                    hits.append(_reference(text, line, f"output {name!r}", target))
    return hits


def _reference(text: str, line: int, owner: str, target: str) -> Hit:
    return Hit("RES103", line, 1, text, Context.CODE, f"{owner} refers to retired {target!r}")


def census(doc: Any) -> dict[str, list[str]]:
    """Logical ids of DSQL clusters and of RDS clusters a template defines (for SC-001)."""
    section = resources(doc)
    if section is None:
        return {"dsql": [], "rds": []}
    return {
        "dsql": [k for k, r in section.items() if r["Type"] == DSQL_CLUSTER],
        "rds": sorted(retired_ids(section)),
    }
