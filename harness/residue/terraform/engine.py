"""Resolve Terraform references through the module graph, classify, and report.

A reference resolves to the resources it finally stands for: an address to its resource in
the same module; ``local.x`` to what its expression refers to; ``var.x`` to what every caller
passes for it (so a module used twice carries both callers' values); ``module.m.out`` to
what the child module's output refers to (a module outside the tree stands for itself).
Resources, reduced to :class:`~harness.residue.graph.Node` values with resolved edges, are
classified by :func:`harness.residue.graph.classify`; every reference that resolves to a
flagged resource, outside a flagged block, is a finding where it is written, and so is the
declaration of a variable that receives one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.iac.lexers import Locator
from harness.residue.graph import Classes, Node, Role, classify
from harness.residue.hits import Context, Definition, Hit
from harness.residue.settings import RetiredSettings
from harness.residue.terraform.config import Call, Module, Resource, Site

DATABASE_PREFIXES = ("aws_rds_cluster", "aws_rds_global_cluster")
"""``aws_rds_cluster``, its instances, endpoints and parameter groups: Aurora only."""
CENSUS_TYPES = frozenset({"aws_rds_cluster", "aws_rds_global_cluster", "aws_rds_cluster_instance"})
"""What SC-001 counts as an RDS cluster (with retired ``aws_db_instance`` resources)."""
DSQL_TYPE = "aws_dsql_cluster"
SERVING_TYPES = frozenset(
    {
        "aws_db_subnet_group",
        "aws_db_parameter_group",
        "aws_db_option_group",
        "aws_db_proxy",
        "aws_db_proxy_default_target_group",
        "aws_db_proxy_target",
        "aws_db_proxy_endpoint",
        "aws_db_event_subscription",
        "aws_db_instance_role_association",
        "aws_db_snapshot",
        "aws_db_cluster_snapshot",
        "aws_secretsmanager_secret",
        "aws_secretsmanager_secret_version",
        "aws_secretsmanager_secret_rotation",
    }
)
"""Types that exist only for a database: flagged when connected to a retired one."""
SECURITY_GROUP = "aws_security_group"
RULE_TYPES = frozenset(
    {
        "aws_security_group_rule",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
    }
)
AURORA_MODULE = "rds-aurora"
"""terraform-aws-modules/rds-aurora/aws, whatever its registry or git address."""
INSTANCE_MODULES = ("terraform-aws-modules/rds/aws", "terraform-aws-modules/terraform-aws-rds")


def instance_retired(values: Mapping[str, object], settings: RetiredSettings) -> bool:
    """An RDS instance is retired when the plan retires the last RDS database, when it is an
    Aurora member, or when its identifier is one the plan names."""
    if settings.last_rds_database:
        return True
    engine = values.get("engine")
    if isinstance(engine, str) and engine.lower().startswith("aurora"):
        return True
    names = {n.lower() for n in (*settings.instance_ids, *settings.cluster_ids)}
    return any(
        isinstance(values.get(key), str) and str(values[key]).lower() in names
        for key in ("identifier", "db_instance_identifier", "cluster_identifier")
    )


def resource_role(resource: Resource, settings: RetiredSettings) -> tuple[Role, bool]:
    kind = resource.type
    if kind.startswith(DATABASE_PREFIXES):
        return Role.DATABASE, True
    if kind == "aws_db_instance":
        retired = instance_retired(resource.values, settings)
        return Role.INSTANCE, retired
    if kind in SERVING_TYPES:
        return Role.SERVING, False
    if not resource.data and kind == SECURITY_GROUP:
        return Role.SECURITY_GROUP, False
    if not resource.data and kind in RULE_TYPES:
        return Role.SECURITY_RULE, False
    return Role.OTHER, False


def call_role(call: Call, settings: RetiredSettings) -> tuple[Role, bool]:
    """A module outside the tree, judged by its source."""
    if AURORA_MODULE in call.source:
        return Role.DATABASE, True
    if any(call.source.startswith(m) for m in INSTANCE_MODULES):
        return Role.INSTANCE, instance_retired(call.values, settings)
    return Role.OTHER, False


def node_id(module: Module, address: str) -> str:
    return f"{module.key}#{address}"


@dataclass
class Graph:
    """The modules of one tree (or plan) and what their references resolve to."""

    modules: dict[str, Module]
    settings: RetiredSettings
    labels: dict[str, str] = field(default_factory=dict)
    """How to show a node: its address, and its module when that is not the root."""
    _memo: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    _callers: dict[str, list[tuple[Module, Call]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for module in self.modules.values():
            for call in module.calls.values():
                if call.child is not None:
                    self._callers.setdefault(call.child, []).append((module, call))
        for module in self.modules.values():
            for address in (*module.resources, *(f"module.{c}" for c in module.calls)):
                self.labels[node_id(module, address)] = (
                    address
                    if not self._callers or module.key not in self._callers
                    else f"{address} in {module.label}"
                )

    def resolve(self, module: Module, ref: str) -> frozenset[str]:
        """The node ids ``ref``, written in ``module``, finally stands for."""
        key = (module.key, ref)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = frozenset()  # a cycle resolves to nothing, not to a recursion error
        parts = ref.split(".")
        found: set[str] = set()
        if parts[0] == "var" and len(parts) > 1:
            for parent, call in self._callers.get(module.key, []):
                found |= self.resolve_sites(parent, call.args.get(parts[1], []))
        elif parts[0] == "local" and len(parts) > 1:
            local = module.locals.get(parts[1])
            if local is not None:
                found |= self.resolve_sites(module, local.sites)
        elif parts[0] == "module" and len(parts) > 1:
            found |= self._module_ref(module, parts)
        elif ref in module.resources:
            found.add(node_id(module, ref))
        self._memo[key] = frozenset(found)
        return self._memo[key]

    def _module_ref(self, module: Module, parts: list[str]) -> set[str]:
        call = module.calls.get(parts[1])
        if call is None:
            return set()
        child = self.modules.get(call.child) if call.child else None
        if child is None or len(parts) < 3:
            return {node_id(module, f"module.{call.name}")}
        output = child.outputs.get(parts[2])
        return set(self.resolve_sites(child, output.sites)) if output else set()

    def resolve_sites(self, module: Module, sites: Iterable[Site]) -> frozenset[str]:
        found: set[str] = set()
        for site in sites:
            found |= self.resolve(module, site.ref)
        return frozenset(found)

    def nodes(self) -> dict[str, Node]:
        """Every resource and every call of a module outside the tree, with resolved edges."""
        nodes: dict[str, Node] = {}
        for module in self.modules.values():
            for address, resource in module.resources.items():
                role, retired = resource_role(resource, self.settings)
                edges = self.resolve_sites(module, resource.sites) - {node_id(module, address)}
                owner = resource.block.attribute("security_group_id") if resource.block else None
                owns = (
                    self.resolve_sites(
                        module,
                        [
                            s
                            for s in resource.sites
                            if owner.value_start <= s.offset < owner.value_end
                        ],
                    )
                    if owner is not None and role is Role.SECURITY_RULE
                    else frozenset()
                )
                nodes[node_id(module, address)] = Node(
                    node_id(module, address), role, edges, retired, owns
                )
            for call in module.calls.values():
                if call.child is None:
                    role, retired = call_role(call, self.settings)
                    edges = self.resolve_sites(module, [s for a in call.args.values() for s in a])
                    ident = node_id(module, f"module.{call.name}")
                    nodes[ident] = Node(ident, role, edges, retired)
        return nodes

    def wrapping(self, classes: Classes) -> frozenset[str]:
        """Calls of modules in the tree that (directly or deeper) hold a retired resource."""
        holds: dict[str, bool] = {}

        def holds_retired(key: str, seen: frozenset[str]) -> bool:
            if key in holds:
                return holds[key]
            module = self.modules.get(key)
            if module is None or key in seen:
                return False
            found = any(node_id(module, a) in classes.retired for a in module.resources) or any(
                node_id(module, f"module.{c.name}") in classes.retired
                or (c.child is not None and holds_retired(c.child, seen | {key}))
                for c in module.calls.values()
            )
            holds[key] = found
            return found

        return frozenset(
            node_id(module, f"module.{call.name}")
            for module in self.modules.values()
            for call in module.calls.values()
            if call.child is not None and holds_retired(call.child, frozenset())
        )


@dataclass
class Report:
    """Hits by file, and the census, of one Terraform analysis."""

    hits: dict[str, list[Hit]] = field(default_factory=dict)
    definitions: list[Definition] = field(default_factory=list)

    def add(self, file: str, hit: Hit) -> None:
        self.hits.setdefault(file, []).append(hit)


def judge(
    graph: Graph,
    locators: Mapping[str, Locator],
    shown: Mapping[str, str],
    *,
    flavour: str = "terraform",
) -> tuple[Report, Classes, dict[str, Node], frozenset[str]]:
    """References, retired and serving resources, and the census, as hits by file."""
    nodes = graph.nodes()
    classes = classify(nodes)
    wrapping = graph.wrapping(classes)
    flagged = classes.flagged | wrapping
    report = Report()

    def hit(rule: str, file: str, offset: int, text: str, message: str) -> None:
        line, column = locators[file].position(offset)
        report.add(file, Hit(rule, line, column, text, Context.CODE, message))

    def describe(targets: frozenset[str]) -> str:
        """``retired X`` for the database itself, ``X (serving it)`` for the rest."""
        return ", ".join(
            sorted(
                f"retired {graph.labels.get(t, t)}"
                if t in classes.retired or t in wrapping
                else f"{graph.labels.get(t, t)} (serving the retired database)"
                for t in targets
            )
        )

    def refer(module: Module, sites: Iterable[Site], owner: str, rule: str = "RES303") -> None:
        for site in sites:
            targets = graph.resolve(module, site.ref) & flagged
            if targets:
                hit(
                    rule, site.file, site.offset, site.ref, f"{owner} refers to {describe(targets)}"
                )

    for module in graph.modules.values():
        for address, resource in module.resources.items():
            ident = node_id(module, address)
            header = f'{"data" if resource.data else "resource"} "{resource.type}"'
            if ident in classes.flagged:
                retired = ident in classes.retired
                what = (
                    "serves it"
                    if not retired
                    else "defines the retired database"
                    if resource.data
                    or resource.type in CENSUS_TYPES
                    or resource.type == "aws_db_instance"
                    else "exists only for an Aurora cluster"
                )
                hit(
                    "RES301" if retired else "RES302",
                    resource.file,
                    resource.offset,
                    header,
                    f"{graph.labels[ident]} {what}",
                )
                continue
            if ident in classes.open_rules:
                hit(
                    "RES402",
                    resource.file,
                    resource.offset,
                    header,
                    f"{address} opens a port of the retired database's security group",
                )
            rule_sites, other_sites = _split_rule_sites(resource)
            refer(module, other_sites, address)
            refer(module, rule_sites, address, "RES402")
        for call in module.calls.values():
            ident = node_id(module, f"module.{call.name}")
            if ident in flagged:
                where = f" (in {graph.modules[call.child].label})" if call.child else ""
                hit(
                    "RES301",
                    call.file,
                    call.offset,
                    f'module "{call.name}"',
                    f"module.{call.name} builds the retired database{where}",
                )
                continue
            for argument, sites in call.args.items():
                refer(module, sites, f"module.{call.name} argument {argument}")
        for named in (*module.outputs.values(), *module.locals.values(), *module.others):
            refer(module, named.sites, named.title)
        for name, variable in module.variables.items():
            targets = graph.resolve(module, f"var.{name}") & flagged
            if targets:
                hit(
                    "RES303",
                    variable.file,
                    variable.offset,
                    variable.title,
                    f"{variable.title} receives {describe(targets)} from its callers",
                )
        for resource in module.resources.values():
            role, retired = resource_role(resource, graph.settings)
            ident = node_id(module, resource.address)
            if resource.data:
                continue
            kind = (
                "dsql"
                if resource.type == DSQL_TYPE
                else "rds"
                if ident in classes.retired
                and (resource.type in CENSUS_TYPES or role is Role.INSTANCE)
                else None
            )
            if kind is not None:
                line, _ = locators[resource.file].position(resource.offset)
                report.definitions.append(
                    Definition(
                        kind, flavour, shown[resource.file], line, module.prefix + resource.address
                    )
                )
        for call in module.calls.values():
            if node_id(module, f"module.{call.name}") in classes.retired:
                line, _ = locators[call.file].position(call.offset)
                report.definitions.append(
                    Definition(
                        "rds",
                        flavour,
                        shown[call.file],
                        line,
                        f"{module.prefix}module.{call.name}",
                    )
                )
    return report, classes, nodes, flagged


def _split_rule_sites(resource: Resource) -> tuple[list[Site], list[Site]]:
    """References inside an ``ingress``/``egress`` block open a port (RES402); the rest are
    plain references (RES303; a rule resource of its own gets RES402 on its header)."""
    if resource.block is None:
        return [], list(resource.sites)
    spans = [
        (b.open, b.close)
        for b in resource.block.walk()
        if b.kind in ("ingress", "egress")
        or (b.kind == "dynamic" and b.labels[:1] in (("ingress",), ("egress",)))
    ]
    inside = [s for s in resource.sites if any(a <= s.offset < b for a, b in spans)]
    return inside, [s for s in resource.sites if s not in inside]
