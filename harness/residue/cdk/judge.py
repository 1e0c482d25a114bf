"""Decide on a CDK file's :class:`~harness.residue.cdk.model.Extract`, whatever its language.

- The **retired database** is every call of a :data:`~harness.residue.cdk.model.CONSTRUCTS`
  member, and of an :data:`~harness.residue.cdk.model.INSTANCES` member the plan retires; a
  variable holding one is retired too, and each use of it is a finding (RES201).
- A **serving** construct (RES204) is an RDS parameter group, subnet group, option group,
  secret or ``Credentials`` call written inside a retired call, or held by a variable used
  inside one; the secret handed to ``Credentials.fromSecret`` and a security group only the
  retired database is given serve it too. Their uses outside the retired calls are findings:
  RES402 when a security group opens a port (``addIngressRule``, ``connections.allow…``),
  RES204 otherwise.
- Inside a retired or serving call, ``removalPolicy: RETAIN`` and ``deletionProtection: true``
  keep it after a destroy (RES501), ``removalPolicy: SNAPSHOT`` keeps a snapshot (RES502).
- ``iam.PolicyStatement`` calls are judged by :mod:`harness.residue.iam`; CloudWatch alarms,
  dashboards and metrics on the retired database (RES403) and Route 53 records pointing at
  it (RES404) are the calls that use it; a security group no call is given (RES503) is
  attached to nothing.

With ``last_rds_database`` every RDS instance and serving construct is residue.
"""

from __future__ import annotations

import re

from harness.residue import iam
from harness.residue.cdk.model import (
    CLUSTERS,
    CONSTRUCTS,
    DNS_RECORDS,
    INSTANCES,
    SERVING,
    WATCHERS,
    Call,
    Extract,
    Use,
)
from harness.residue.cfn import names_plan_ids, points_at_endpoint
from harness.residue.hits import Context, Definition, Hit
from harness.residue.settings import RetiredSettings

_PORT_OPENERS = re.compile(
    r"^\.(?:addIngressRule|addEgressRule|add_ingress_rule|add_egress_rule|connections\.allow\w*)"
)
_WATCHING = re.compile(r"^\.(?:metric\w*|metric_\w*)")
_ATTACHES_NOTHING = re.compile(
    r"^\.(?:addIngressRule|addEgressRule|add_ingress_rule|add_egress_rule|connections)"
)


def judge(
    extract: Extract, settings: RetiredSettings, path: str, *, instances_retired: bool = False
) -> tuple[list[Hit], list[Definition]]:
    """The hits and the census of one file.

    ``instances_retired``: every RDS instance the tree defines is retired, so a name typed as
    one (``db: rds.IDatabaseInstance``) holds the retired database (see
    :func:`instances_retired`).
    """
    retired = [c for c in extract.calls if is_retired(c, settings)]
    retired_vars = {c.var for c in retired if c.var} | set(extract.typed.values())
    if instances_retired or settings.last_rds_database:
        retired_vars |= set(extract.typed_instances.values())
    serving = _serving(extract, settings, retired, retired_vars)
    serving_vars = {c.var for c in serving if c.var}
    flagged_calls = retired + serving
    hits = list(extract.imports) + list(extract.mentions)
    for call in extract.calls:
        if call.module != "rds" or call.member not in INSTANCES | SERVING:
            continue
        if call in retired:
            hits.append(_hit("RES201", call, f"RDS construct {call.member} (the retired database)"))
        elif call in serving:
            hits.append(_hit("RES204", call, f"{call.text} serves the retired database"))
    for call in serving:
        if call.module != "rds":
            what = "security group" if call.member == "SecurityGroup" else "secret"
            hits.append(_hit("RES204", call, f"{call.text}: the retired database's {what}"))
    for use in extract.uses:
        if use.var in retired_vars:
            hits.append(_use_hit("RES201", use, _retired_use(use)))
        elif use.var in serving_vars and not any(c.contains(use.start) for c in flagged_calls):
            opens = _PORT_OPENERS.match(use.tail)
            hits.append(
                _use_hit(
                    "RES402" if opens else "RES204",
                    use,
                    f"{use.var}{use.tail} opens a port of the retired database's security group"
                    if opens
                    else f"uses {use.var!r}, which serves the retired database",
                )
            )
    for prop in extract.props:
        owner = _innermost([c for c in flagged_calls if c.contains(prop.start)])
        if owner is None:
            continue
        value = prop.value.replace(" ", "")
        rule = None
        if prop.name == "deletionProtection" and value in ("true", "True"):
            rule, message = "RES501", f"deletion protection keeps {owner.text} after a destroy"
        elif prop.name == "removalPolicy" and re.search(r"RETAIN", value):
            rule, message = "RES501", f"{value} leaves {owner.text} in the account after a destroy"
        elif prop.name == "removalPolicy" and value.endswith("SNAPSHOT"):
            rule, message = "RES502", f"{value} keeps a snapshot of {owner.text} after a destroy"
        if rule is not None:
            hits.append(Hit(rule, prop.line, prop.column, prop.text, Context.CODE, message))
    scope = iam.Scope(settings, frozenset(retired_vars | serving_vars))
    for statement in extract.statements:
        hits += iam.judge(iam.Statement(statement.actions, statement.resources), scope)
    hits += _watchers_and_records(extract, settings, retired_vars | serving_vars)
    hits += _unattached(extract)
    return hits, _definitions(extract, retired, path)


def instances_retired(extracts: list[Extract], settings: RetiredSettings) -> bool:
    """Whether the tree defines RDS instances and the plan retires every one of them."""
    instances = [
        c
        for e in extracts
        for c in e.calls
        if c.module == "rds" and c.member in INSTANCES and c.method is None
    ]
    return bool(instances) and all(is_retired(c, settings) for c in instances)


def is_retired(call: Call, settings: RetiredSettings) -> bool:
    if call.module != "rds":
        return False
    if call.member in CONSTRUCTS:
        return True
    if call.member in INSTANCES:
        return (
            settings.last_rds_database
            or "aurora" in call.source.lower()
            or names_plan_ids(call.source, settings)
        )
    return False


def _serving(
    extract: Extract, settings: RetiredSettings, retired: list[Call], retired_vars: set[str]
) -> list[Call]:
    inside_retired = _used_inside(extract, retired)
    serving: list[Call] = []
    for call in extract.calls:
        if call.module != "rds" or call.member not in SERVING or call in retired:
            continue
        if (
            settings.last_rds_database
            or any(r.contains(call.start) for r in retired)
            or (call.var is not None and call.var in inside_retired)
        ):
            serving.append(call)
    handed = {a for c in serving if c.member == "Credentials" for a in c.args}
    by_var = {c.var: c for c in extract.calls if c.var}
    for name in sorted(handed):
        holder = by_var.get(name)
        if holder is not None and holder not in serving and holder not in retired:
            serving.append(holder)
    flagged = retired + serving
    for call in extract.calls:
        if call.module != "ec2" or call.member != "SecurityGroup" or call.var is None:
            continue
        uses = [u for u in extract.uses if u.var == call.var]
        given = [u for u in uses if any(c.contains(u.start) for c in flagged)]
        # Anywhere else the group is handed over (a function's securityGroups, an id in a
        # property) it is attached to something that stays; its own rule methods are not.
        elsewhere = [u for u in uses if u not in given and not _ATTACHES_NOTHING.match(u.tail)]
        if given and not elsewhere and call not in serving:
            serving.append(call)
    return serving


def _used_inside(extract: Extract, calls: list[Call]) -> set[str]:
    return {u.var for u in extract.uses if any(c.contains(u.start) for c in calls)}


def _innermost(calls: list[Call]) -> Call | None:
    return min(calls, key=lambda c: c.end - c.start) if calls else None


def _retired_use(use: Use) -> str:
    if _PORT_OPENERS.match(use.tail):
        return f"{use.var}{use.tail} opens the retired database's port"
    if _WATCHING.match(use.tail):
        return f"{use.var}{use.tail}: a metric of the retired database (alarm or dashboard)"
    return f"uses the RDS construct {use.var!r}"


def _watchers_and_records(
    extract: Extract, settings: RetiredSettings, flagged_vars: set[str]
) -> list[Hit]:
    hits: list[Hit] = []
    watchers = [c for c in extract.calls if c.module == "cloudwatch" and c.member in WATCHERS]
    outer = [w for w in watchers if not any(o is not w and o.contains(w.start) for o in watchers)]
    for call in outer:
        uses = any(u.var in flagged_vars and call.contains(u.start) for u in extract.uses)
        names = "AWS/RDS" in call.source and (
            settings.last_rds_database or names_plan_ids(call.source, settings)
        )
        if uses or names:
            hits.append(_hit("RES403", call, f"{call.text} watches the retired database's metrics"))
    for call in extract.calls:
        if call.module != "route53" or call.member not in DNS_RECORDS:
            continue
        uses = any(u.var in flagged_vars and call.contains(u.start) for u in extract.uses)
        if uses or points_at_endpoint(call.source, settings):
            hits.append(_hit("RES404", call, f"{call.text} points at the retired database"))
    return hits


def _unattached(extract: Extract) -> list[Hit]:
    hits = []
    for call in extract.calls:
        if call.module != "ec2" or call.member != "SecurityGroup" or call.var is None:
            continue
        if call.var.startswith(("this.", "self.")):
            continue  # a field: other files and stacks may attach it
        uses = [u for u in extract.uses if u.var == call.var]
        if all(_ATTACHES_NOTHING.match(u.tail) for u in uses):
            hits.append(
                _hit(
                    "RES503",
                    call,
                    f"security group {call.var!r} is given to nothing: a leftover of a deleted "
                    "database?",
                )
            )
    return hits


def _definitions(extract: Extract, retired: list[Call], path: str) -> list[Definition]:
    found = [
        Definition("dsql", "cdk", path, c.line, c.construct_id or c.text)
        for c in extract.calls
        if c.module == "dsql" and c.member == "CfnCluster" and c.method is None
    ]
    found += [
        Definition("rds", "cdk", path, c.line, c.construct_id or c.text)
        for c in retired
        if c.method is None and (c.member in CLUSTERS or c.member in INSTANCES)
    ]
    return found


def _hit(rule: str, call: Call, message: str) -> Hit:
    return Hit(rule, call.line, call.column, call.text, Context.CODE, message)


def _use_hit(rule: str, use: Use, message: str) -> Hit:
    return Hit(rule, use.line, use.column, use.var, Context.CODE, message)
