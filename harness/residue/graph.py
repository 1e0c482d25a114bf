"""Which resources are the retired database, and which exist only to serve it.

CloudFormation and Terraform both describe infrastructure as resources that refer to one
another; each flavour's scanner reduces its resources to :class:`Node` values (a role and the
nodes it refers to, references through Terraform variables, locals and module outputs already
resolved) and :func:`classify` decides, the same way for both:

- a ``DATABASE`` node is retired; an ``INSTANCE`` node is retired when its scanner said so
  (an Aurora member, an identifier the plan names, or the plan retires the last RDS database);
- a ``SERVING`` node (subnet group, parameter group, proxy, the database's secret…) serves the
  retired database when it points at a flagged node or a flagged node points at it, so a
  proxy's target group brings in the proxy, and the proxy its own secret;
- a ``SECURITY_GROUP`` serves it when flagged nodes attach it and nothing else does: a group
  the application's functions share with the cluster is still in use (rules and other groups
  name a group as a peer; they do not attach it);
- a ``SECURITY_RULE`` (ingress or egress) is never flagged itself but is *open to* the
  retired database when it refers to a flagged node: its scanner reports it (RES402) beside
  the references it holds.

Roles are assigned by each flavour's tables; the rules above are the only place the decision
is made.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Role(enum.Enum):
    """What a resource is to a database, for the classification."""

    DATABASE = "database"
    """An RDS cluster or global cluster (or a module that builds one): always retired."""
    INSTANCE = "instance"
    """An RDS DB instance: retired when its scanner says so."""
    SERVING = "serving"
    """Exists only for a database: serves the retired one when connected to it."""
    SECURITY_GROUP = "security_group"
    """Serves the retired database when only flagged nodes attach it."""
    SECURITY_RULE = "security_rule"
    """An ingress or egress rule: open to the retired database when it refers to it."""
    OTHER = "other"
    """Anything else: refers, never serves."""


@dataclass(frozen=True)
class Node:
    """One resource reduced to what the classification needs."""

    id: str
    role: Role
    edges: frozenset[str] = frozenset()
    """Ids of the nodes this resource refers to."""
    retired: bool = False
    """For ``INSTANCE``: the scanner decided this instance is retired."""
    owns: frozenset[str] = frozenset()
    """For ``SECURITY_RULE``: the group the rule belongs to (its other edges are peers)."""


@dataclass(frozen=True)
class Classes:
    """The outcome: retired nodes, nodes serving them, and rules open to them."""

    retired: frozenset[str]
    serving: frozenset[str]
    open_rules: frozenset[str]

    @property
    def flagged(self) -> frozenset[str]:
        return self.retired | self.serving


def classify(nodes: Mapping[str, Node]) -> Classes:
    """Apply the rules of the module docstring until nothing changes."""
    retired = {
        n.id
        for n in nodes.values()
        if n.role is Role.DATABASE or (n.role is Role.INSTANCE and n.retired)
    }
    pointed_by: dict[str, set[str]] = {}
    for node in nodes.values():
        for target in node.edges:
            pointed_by.setdefault(target, set()).add(node.id)
    serving: set[str] = set()
    changed = bool(retired)
    while changed:
        changed = False
        flagged = retired | serving
        for node in nodes.values():
            if node.id in flagged:
                continue
            if node.role is Role.SERVING:
                joins = bool(node.edges & flagged) or bool(pointed_by.get(node.id, set()) & flagged)
            elif node.role is Role.SECURITY_GROUP:
                joins = _attached_only_by(node.id, pointed_by, nodes, flagged)
            else:
                joins = False
            if joins:
                serving.add(node.id)
                changed = True
    flagged = retired | serving
    open_rules = {
        n.id for n in nodes.values() if n.role is Role.SECURITY_RULE and n.edges & flagged
    }
    return Classes(frozenset(retired), frozenset(serving), frozenset(open_rules))


def _attached_only_by(
    group: str,
    pointed_by: Mapping[str, Iterable[str]],
    nodes: Mapping[str, Node],
    flagged: set[str],
) -> bool:
    users = [u for u in pointed_by.get(group, ()) if u in nodes and _attaches(nodes[u])]
    return bool(users) and all(u in flagged for u in users)


def _attaches(node: Node) -> bool:
    """Rules and other groups name a group as a peer; only other resources attach it."""
    return node.role not in (Role.SECURITY_RULE, Role.SECURITY_GROUP)


def unattached_groups(nodes: Mapping[str, Node], referenced: Iterable[str] = ()) -> list[str]:
    """Security groups that nothing in the tree attaches or names.

    A rule's own group is the only reference that does not count: a group named as a rule's
    peer (``source_security_group_id``) or in another group's inline rule is the identity of
    clients that may be deployed from elsewhere. ``referenced``: node ids referred to from
    outside any resource (an output, an export), so a group handed on counts as attached.
    """
    used = set(referenced)
    for node in nodes.values():
        used |= (node.edges - node.owns) - {node.id}
    return sorted(
        n.id for n in nodes.values() if n.role is Role.SECURITY_GROUP and n.id not in used
    )
