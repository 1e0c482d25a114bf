"""IAM policy statements: grants for the retired database, and DSQL least privilege.

Each flavour finds its statements (a CloudFormation ``PolicyDocument``, a Terraform
``aws_iam_policy_document`` or ``jsonencode`` policy, a CDK ``PolicyStatement``) and reduces
them to :class:`Statement` values; :func:`judge` decides, the same way for all of them:

- **RES401**, a grant for the retired database: ``rds-db:connect`` on an ARN naming one of the
  plan's ``resource_ids`` or a retired resource; ``rds:…`` and ``rds-data:…`` actions on a
  resource naming the retired cluster or instance; ``secretsmanager:GetSecretValue`` on the
  retired secret. When the plan retires the last RDS database (``last_rds_database``) every
  RDS grant is residue, whatever its resource. A grant whose resource cannot be tied to the
  retired database (``rds-db:connect`` on ``*`` with no ``resource_ids`` given) is not
  reported: it may serve a database that stays.
- **RES601 to RES603**, least privilege with a DSQL target (FR-003): the backend connects
  with ``dsql:DbConnect`` (``dsql:DbConnectAdmin`` where the plan says ``dsql_role: admin``)
  on the cluster's ARN. ``dsql:*`` and other wildcards, a DSQL grant on ``Resource: "*"`` (or
  any ARN pattern), and ``DbConnectAdmin`` for a custom role are findings. Other DSQL actions
  (``dsql:GetCluster`` for a dashboard, cluster management for a deploy role) are not
  judged: they do not open the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.residue.hits import Context, Hit
from harness.residue.settings import RetiredSettings

_RDS_SECRET = re.compile(r"(?i)rds!(?:cluster|db)-[0-9a-f-]{36}")
_SECRET_READS = re.compile(r"(?i)^secretsmanager:(?:GetSecretValue|Get\*|\*)$")


@dataclass(frozen=True)
class Item:
    """One action or resource of a statement: its text and where it is written."""

    text: str
    """A literal's value, or an expression's source text."""
    line: int
    column: int = 1
    refs: frozenset[str] = frozenset()
    """Ids of the flavour's nodes (or variables) the expression refers to."""


@dataclass(frozen=True)
class Statement:
    """An ``Allow`` statement: its actions and resources."""

    actions: tuple[Item, ...]
    resources: tuple[Item, ...]


@dataclass(frozen=True)
class Scope:
    """What a statement is judged against: the plan and the flavour's flagged nodes."""

    settings: RetiredSettings
    flagged: frozenset[str] = frozenset()
    """Node ids (or CDK variable names) of the retired database and what serves it."""


def document_statements(
    doc: Any, refs_of: Callable[[Any], frozenset[str]], *, line: int = 1, line_offset: int = 0
) -> list[Statement]:
    """The ``Allow`` statements of every policy document inside ``doc``: a template, a policy
    file, a heredoc. ``doc`` comes from :func:`harness.iac.cfn.load` with positions, so
    each action and resource keeps its line; ``refs_of`` names what an intrinsic refers to;
    ``line_offset`` places a document read out of a larger file.
    """
    found: list[Statement] = []
    if isinstance(doc, list):
        for item in doc:
            found += document_statements(item, refs_of, line=line, line_offset=line_offset)
        return found
    if not isinstance(doc, dict):
        return found
    here = getattr(doc, "line", line)
    statements = doc.get("Statement")
    if isinstance(statements, list) or (isinstance(statements, dict) and "Version" in doc):
        for statement in statements if isinstance(statements, list) else [statements]:
            if isinstance(statement, dict) and statement.get("Effect", "Allow") != "Deny":
                at = getattr(statement, "key_lines", {})
                found.append(
                    Statement(
                        _items(
                            statement.get("Action"), at.get("Action", here), refs_of, line_offset
                        ),
                        _items(
                            statement.get("Resource"),
                            at.get("Resource", here),
                            refs_of,
                            line_offset,
                        ),
                    )
                )
        return found
    for key, value in doc.items():
        key_line = getattr(doc, "key_lines", {}).get(key, here)
        found += document_statements(value, refs_of, line=key_line, line_offset=line_offset)
    return found


def _items(
    value: Any, line: int, refs_of: Callable[[Any], frozenset[str]], line_offset: int
) -> tuple[Item, ...]:
    values = value if isinstance(value, list) else [] if value is None else [value]
    items = []
    for entry in values:
        where = getattr(entry, "line", line) + line_offset
        column = getattr(entry, "column", 1)
        if isinstance(entry, str):
            refs = refs_of({"Fn::Sub": entry}) if "${" in entry else frozenset()
            items.append(Item(str(entry), where, column, refs))
        else:
            items.append(Item(render(entry), where, column, refs_of(entry)))
    return tuple(items)


def render(value: Any) -> str:
    """An intrinsic as a person reads it: ``Fn::Join`` joined, ``Ref``/``GetAtt`` as ``${…}``."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if key == "Ref":
            return f"${{{inner}}}"
        if key == "Fn::GetAtt":
            parts = inner if isinstance(inner, list) else str(inner).split(".")
            return "${" + ".".join(str(p) for p in parts) + "}"
        if key == "Fn::Sub":
            return render(inner[0] if isinstance(inner, list) and inner else inner)
        if key == "Fn::Join" and isinstance(inner, list) and len(inner) == 2:
            separator, parts = inner
            if isinstance(parts, list):
                return str(separator).join(render(p) for p in parts)
    return json.dumps(value, default=str)


def judge(statement: Statement, context: Scope) -> list[Hit]:
    """RES401 and RES601 to RES603 hits of one statement (see the module docstring)."""
    settings = context.settings
    hits: list[Hit] = []
    names_retired = [r for r in statement.resources if _names_retired(r, context)]
    for action in statement.actions:
        name = action.text.strip()
        lowered = name.lower()
        if lowered.startswith("rds-db:"):
            target = _first([r for r in statement.resources if _names_resource_id(r, context)]) or (
                _first(statement.resources) if settings.last_rds_database else None
            )
            if target is not None:
                hits.append(_grant(action, f"grants {name} on the retired database", target))
        elif lowered.startswith(("rds:", "rds-data:")):
            target = _first(names_retired) or (
                _first(statement.resources) if settings.last_rds_database else None
            )
            if target is not None:
                hits.append(_grant(action, f"grants {name} on the retired database", target))
        elif _SECRET_READS.match(name):
            target = _first([r for r in statement.resources if _names_secret(r, context)])
            if target is not None:
                hits.append(_grant(action, f"grants {name} on the retired secret", target))
    if settings.target == "dsql":
        hits += _least_privilege(statement, settings)
    return hits


def _least_privilege(statement: Statement, settings: RetiredSettings) -> list[Hit]:
    dsql = [a for a in statement.actions if a.text.strip().lower().startswith("dsql:")]
    if not dsql:
        return []
    hits: list[Hit] = []
    for action in dsql:
        name = action.text.strip()
        if "*" in name or "?" in name:
            hits.append(
                Hit(
                    "RES601",
                    action.line,
                    action.column,
                    name,
                    Context.CODE,
                    f"{name} grants every matching DSQL action; the backend needs only "
                    f"{_connect_action(settings)}",
                )
            )
        elif name.lower() == "dsql:dbconnectadmin" and settings.dsql_role == "custom":
            hits.append(
                Hit(
                    "RES603",
                    action.line,
                    action.column,
                    name,
                    Context.CODE,
                    "dsql:DbConnectAdmin connects as the admin role; the plan's backend uses a "
                    "custom role (dsql:DbConnect), or set retired.dsql_role: admin",
                )
            )
    connects = any(
        "*" in a.text or a.text.strip().lower().startswith("dsql:dbconnect") for a in dsql
    )
    if connects:
        for resource in statement.resources:
            if _is_literal_pattern(resource.text):
                hits.append(
                    Hit(
                        "RES602",
                        resource.line,
                        resource.column,
                        resource.text,
                        Context.CODE,
                        f"DSQL connect granted on {resource.text!r}: grant it on the cluster's "
                        "ARN only",
                    )
                )
    return hits


def _connect_action(settings: RetiredSettings) -> str:
    return "dsql:DbConnectAdmin" if settings.dsql_role == "admin" else "dsql:DbConnect"


def _is_literal_pattern(text: str) -> bool:
    """``*`` or an ARN pattern: a wildcard outside any ``${…}`` interpolation."""
    outside = re.sub(r"\$\{[^}]*\}", "", text)
    return "*" in outside


def _names_resource_id(item: Item, context: Scope) -> bool:
    return bool(item.refs & context.flagged) or _mentions(item.text, context.settings.resource_ids)


def _names_retired(item: Item, context: Scope) -> bool:
    settings = context.settings
    return (
        bool(item.refs & context.flagged)
        or _mentions(item.text, settings.resource_ids)
        or _mentions_arn_name(item.text, (*settings.cluster_ids, *settings.instance_ids))
    )


def _names_secret(item: Item, context: Scope) -> bool:
    return (
        bool(item.refs & context.flagged)
        or _mentions(item.text, context.settings.secrets)
        or bool(_RDS_SECRET.search(item.text))
    )


def _mentions(text: str, values: Iterable[str]) -> bool:
    lowered = text.lower()
    return any(v.lower() in lowered for v in values)


def _mentions_arn_name(text: str, names: Iterable[str]) -> bool:
    """``…:cluster:lexicon-aurora`` or ``…:db:lexicon-db``: the name as an ARN's last part."""
    return any(
        re.search(r"(?i):(?:cluster|db):" + re.escape(name) + r"(?![A-Za-z0-9-])", text)
        for name in names
    )


def _first(items: Sequence[Item]) -> Item | None:
    return items[0] if items else None


def _grant(action: Item, message: str, resource: Item) -> Hit:
    shown = resource.text if len(resource.text) <= 80 else resource.text[:77] + "..."
    return Hit(
        "RES401",
        action.line,
        action.column,
        action.text.strip(),
        Context.CODE,
        f"{message} ({shown})",
    )
