"""The leftover kinds read from a Terraform resource's attributes, beyond references.

- **RES401, RES601 to RES603**: IAM statements (``aws_iam_policy_document`` statement
  blocks; ``policy`` written with ``jsonencode({...})`` or as a JSON heredoc), judged by
  :mod:`harness.residue.iam`.
- **RES403**: a CloudWatch alarm or dashboard on ``AWS/RDS`` metrics of the retired database
  (its dimensions refer to it or name it, or the plan retires the last RDS database).
- **RES404**: a Route 53 record pointing at the retired database's endpoint.
- **RES501, RES502**: a retired or serving resource that a destroy would keep:
  ``deletion_protection = true``, ``lifecycle { prevent_destroy = true }``, a ``removed``
  block with ``destroy = false``; a final snapshot (``skip_final_snapshot = false`` or a
  ``final_snapshot_identifier``).
- **RES503**: a security group nothing in the tree attaches.

They run on ``.tf`` source only: a plan's JSON holds values, not how they were written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import yaml

from harness.iac import cfn as templates
from harness.iac import hcl
from harness.residue import iam
from harness.residue.graph import Node, unattached_groups
from harness.residue.hits import Context, Hit
from harness.residue.identifiers import RDS_ENDPOINT
from harness.residue.terraform.config import Module, Resource, TfFile, sites
from harness.residue.terraform.engine import (
    DATABASE_PREFIXES,
    SERVING_TYPES,
    Graph,
    Report,
    node_id,
)

ALARM_TYPES = frozenset({"aws_cloudwatch_metric_alarm", "aws_cloudwatch_dashboard"})
DNS_TYPES = frozenset({"aws_route53_record"})
POLICY_TYPES = frozenset(
    {
        "aws_iam_policy",
        "aws_iam_role_policy",
        "aws_iam_user_policy",
        "aws_iam_group_policy",
        "aws_iam_role",
    }
)
_HEREDOC_BODY = re.compile(r"<<-?[ \t]*([A-Za-z_]\w*)[ \t]*\n")


def judge_kinds(
    graph: Graph,
    files: Mapping[str, TfFile],
    report: Report,
    nodes: Mapping[str, Node],
    flagged: frozenset[str],
) -> None:
    """Add the hits of the module docstring to ``report``."""
    settings = graph.settings
    scope = iam.Scope(settings, flagged)
    for module in graph.modules.values():
        for resource in module.resources.values():
            if resource.block is None:
                continue
            file = files[resource.file]
            ident = node_id(module, resource.address)
            if ident in flagged:
                _destroy(file, resource.block, report)
                continue
            for statement in _statements(graph, module, file, resource):
                for hit in iam.judge(statement, scope):
                    report.add(file.key, hit)
            if resource.type in ALARM_TYPES and _on_retired_metrics(
                graph, module, file, resource, flagged
            ):
                what = "dashboard" if resource.type.endswith("dashboard") else "alarm"
                _header(
                    report,
                    file,
                    resource,
                    "RES403",
                    f"{resource.address}: a CloudWatch {what} on the retired database's metrics",
                )
            if resource.type in DNS_TYPES and _points_at_endpoint(
                graph, module, file, resource, flagged
            ):
                _header(
                    report,
                    file,
                    resource,
                    "RES404",
                    f"{resource.address} points at the retired database's endpoint",
                )
        for call in module.calls.values():
            if call.block is not None and node_id(module, f"module.{call.name}") in flagged:
                _destroy(files[call.file], call.block, report)
    referenced = {
        target
        for module in graph.modules.values()
        for output in module.outputs.values()
        for target in graph.resolve_sites(module, output.sites)
    }
    for ident in unattached_groups(nodes, referenced):
        module_key, address = ident.split("#", 1)
        resource = graph.modules[module_key].resources[address]
        _header(
            report,
            files[resource.file],
            resource,
            "RES503",
            f"{address} is attached to nothing in the tree: a leftover of a deleted database?",
        )
    for file in files.values():
        for block in file.blocks:
            if block.kind == "removed":
                _removed(file, block, report)


def _header(report: Report, file: TfFile, resource: Resource, rule: str, message: str) -> None:
    line, column = file.where.position(resource.offset)
    kind = "data" if resource.data else "resource"
    report.add(
        file.key, Hit(rule, line, column, f'{kind} "{resource.type}"', Context.CODE, message)
    )


def _attribute_hit(file: TfFile, attribute: hcl.Attribute, rule: str, message: str) -> Hit:
    line, column = file.where.position(attribute.start)
    text = " ".join(file.code[attribute.start : attribute.value_end].split())
    return Hit(rule, line, column, text, Context.CODE, message)


def _destroy(file: TfFile, block: hcl.Block, report: Report) -> None:
    protection = block.attribute("deletion_protection")
    if hcl.literal(file.code, protection) == "true":
        assert protection is not None
        report.add(
            file.key,
            _attribute_hit(
                file,
                protection,
                "RES501",
                "deletion protection keeps the retired database when its stack is destroyed",
            ),
        )
    for lifecycle in block.children("lifecycle"):
        prevent = lifecycle.attribute("prevent_destroy")
        if hcl.literal(file.code, prevent) == "true":
            assert prevent is not None
            report.add(
                file.key,
                _attribute_hit(
                    file,
                    prevent,
                    "RES501",
                    "prevent_destroy refuses to destroy the retired database",
                ),
            )
    skip = block.attribute("skip_final_snapshot")
    final = block.attribute("final_snapshot_identifier")
    if hcl.literal(file.code, skip) == "false" or (
        final is not None and hcl.literal(file.code, skip) != "true"
    ):
        attribute = final if final is not None else skip
        assert attribute is not None
        report.add(
            file.key,
            _attribute_hit(
                file,
                attribute,
                "RES502",
                "a final snapshot of the retired database is kept after destroy",
            ),
        )


def _removed(file: TfFile, block: hcl.Block, report: Report) -> None:
    source = block.attribute("from")
    if source is None:
        return
    target = file.code[source.value_start : source.value_end].strip()
    kind = target.split(".")[0]
    if not (
        kind.startswith(DATABASE_PREFIXES) or kind in SERVING_TYPES or kind == "aws_db_instance"
    ):
        return
    for lifecycle in block.children("lifecycle"):
        destroy = lifecycle.attribute("destroy")
        if hcl.literal(file.code, destroy) == "false":
            assert destroy is not None
            report.add(
                file.key,
                _attribute_hit(
                    file,
                    destroy,
                    "RES501",
                    f"removed {{ from = {target} }} forgets it without destroying it: it stays "
                    "in the account",
                ),
            )


def _text(file: TfFile, resource: Resource) -> str:
    assert resource.block is not None
    return file.code[resource.block.open : resource.block.close]


def _names_plan_ids(graph: Graph, text: str) -> bool:
    settings = graph.settings
    names = (*settings.cluster_ids, *settings.instance_ids)
    return any(
        re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text, re.IGNORECASE)
        for name in names
    )


def _refers_to_flagged(
    graph: Graph, module: Module, resource: Resource, flagged: frozenset[str]
) -> bool:
    return bool(graph.resolve_sites(module, resource.sites) & flagged)


def _on_retired_metrics(
    graph: Graph, module: Module, file: TfFile, resource: Resource, flagged: frozenset[str]
) -> bool:
    text = _text(file, resource)
    if "AWS/RDS" not in text:
        return False
    return (
        graph.settings.last_rds_database
        or _refers_to_flagged(graph, module, resource, flagged)
        or _names_plan_ids(graph, text)
    )


def _points_at_endpoint(
    graph: Graph, module: Module, file: TfFile, resource: Resource, flagged: frozenset[str]
) -> bool:
    text = _text(file, resource)
    hostnames = graph.settings.hostnames
    return (
        _refers_to_flagged(graph, module, resource, flagged)
        or bool(RDS_ENDPOINT.search(text))
        or any(h.lower() in text.lower() for h in hostnames)
    )


def _statements(
    graph: Graph, module: Module, file: TfFile, resource: Resource
) -> list[iam.Statement]:
    assert resource.block is not None
    found: list[iam.Statement] = []
    if resource.data and resource.type == "aws_iam_policy_document":
        for statement in resource.block.children("statement"):
            if hcl.literal(file.code, statement.attribute("effect")) == "Deny":
                continue
            found.append(
                iam.Statement(
                    _block_items(graph, module, file, statement.attribute("actions")),
                    _block_items(graph, module, file, statement.attribute("resources")),
                )
            )
        return found
    if resource.type not in POLICY_TYPES:
        return found
    policies = [resource.block.attribute("policy")] + [
        b.attribute("policy") for b in resource.block.children("inline_policy")
    ]
    for policy in policies:
        if policy is not None:
            found += _policy(graph, module, file, policy)
    return found


def _block_items(
    graph: Graph, module: Module, file: TfFile, attribute: hcl.Attribute | None
) -> tuple[iam.Item, ...]:
    if attribute is None:
        return ()
    read = hcl.value(file.code, attribute.value_start, attribute.value_end)
    return tuple(_item(graph, module, file, v) for v in read.elements())


def _item(graph: Graph, module: Module, file: TfFile, read: hcl.Value) -> iam.Item:
    line, column = file.where.position(read.start)
    refs = graph.resolve_sites(module, sites(file, read.start, read.end))
    return iam.Item(read.text, line, column, refs)


def _policy(
    graph: Graph, module: Module, file: TfFile, attribute: hcl.Attribute
) -> list[iam.Statement]:
    start, end = attribute.value_start, attribute.value_end
    heredoc = _HEREDOC_BODY.match(file.code, start)
    if heredoc is not None:
        return _json_policy(graph, module, file, heredoc.end(), end)
    read = hcl.value(file.code, start, end)
    if read.kind != "object":
        return []
    statements = read.get("Statement")
    found = []
    for statement in statements.elements() if statements else []:
        if statement.kind != "object":
            continue
        effect = statement.get("Effect")
        if effect is not None and effect.text == "Deny":
            continue
        actions = statement.get("Action")
        resources = statement.get("Resource")
        found.append(
            iam.Statement(
                tuple(_item(graph, module, file, v) for v in actions.elements()) if actions else (),
                tuple(_item(graph, module, file, v) for v in resources.elements())
                if resources
                else (),
            )
        )
    return found


def _json_policy(
    graph: Graph, module: Module, file: TfFile, start: int, end: int
) -> list[iam.Statement]:
    body = file.code[start:end]
    body = body[: body.rfind("\n")] if "\n" in body else body  # the closing marker's line
    try:
        doc = templates.load(body, positions=True)
    except yaml.YAMLError:
        return []
    first_line, _ = file.where.position(start)

    def refs_of(value: object) -> frozenset[str]:
        text = iam.render(value)
        found: set[str] = set()
        for match in re.finditer(r"\$\{([^}]*)\}", text):
            inner = TfFile.read(file.key, file.folder, match.group(1))
            found |= graph.resolve_sites(module, sites(inner, 0, len(inner.masked)))
        return frozenset(found)

    return iam.document_statements(doc, refs_of, line_offset=first_line - 1)
