"""Posture facts from CDK app source (TypeScript and Python), for an app not yet synthesized.

When ``cdk.out`` is beside the app's ``cdk.json`` its templates are read instead (exact);
source is the fallback, so a repository checked in without ``cdk.out`` still gets checked.
The L2 constructs and their documented defaults:

- ``rds.DatabaseInstance`` / ``DatabaseCluster`` / ``ServerlessCluster``: ``storageEncrypted``
  (default: true only with ``storageEncryptionKey``), ``backupRetention`` /
  ``backup.retention`` (1 day), ``deletionProtection`` (true only with ``removalPolicy:
  RETAIN``), ``publiclyAccessible`` (true only in PUBLIC subnets), ``engine`` with its
  ``version``, ``instanceType`` (``db.m5.large`` for an instance), ``writer``/``readers``
  (``ClusterInstance.serverlessV2`` / ``provisioned``) or ``instances``,
  ``serverlessV2MinCapacity``/``MaxCapacity`` (0.5-2); ingress from
  ``connections.allowDefaultPortFrom`` / ``allowFrom`` and ``addIngressRule`` on its groups;
  its generated secret, rotated by ``addRotationSingleUser``/``MultiUser``.
- ``rds.DatabaseProxy`` and ``cluster.addProxy``: ``requireTLS`` (default true), ``iamAuth``
  (false), ``borrowTimeout`` (120 s), ``idleClientTimeout`` (1800 s), ``proxyTarget``.
- ``dynamodb.Table`` (provisioned by default) and ``TableV2`` (on demand by default):
  ``billingMode``/``billing``, ``pointInTimeRecovery`` or
  ``pointInTimeRecoverySpecification``; ``dsql.CfnCluster``: ``deletionProtectionEnabled``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.posture.cdksyntax import Arr, Call, Lit, Name, Node, Obj, statements
from harness.posture.facts import (
    ClusterFacts,
    DsqlFacts,
    Facts,
    Ingress,
    InstanceFacts,
    Located,
    Member,
    ProxyFacts,
    SecretFacts,
    TableFacts,
    Where,
)
from harness.posture.values import Props

_IMPORT = re.compile(r"""aws-cdk-lib|from\s+aws_cdk\b|import\s+aws_cdk\b""")

_CLASSES = {
    "burstable2": "t2",
    "burstable3": "t3",
    "burstable3_amd": "t3a",
    "burstable4_graviton": "t4g",
    "memory5": "r5",
    "memory6_graviton": "r6g",
    "memory6_intel": "r6i",
    "memory7_graviton": "r7g",
    "standard5": "m5",
    "standard6_graviton": "m6g",
    "standard6_intel": "m6i",
    "standard7_graviton": "m7g",
}


def sources(root: Path, found: Iterable[Path]) -> list[Path]:
    """CDK source files under ``root`` whose app has no ``cdk.out`` to read instead."""
    out = []
    for path in found:
        if path.suffix not in (".ts", ".py") or path.name.endswith(".d.ts"):
            continue
        inside = path.relative_to(root).parts if path.is_relative_to(root) else path.parts
        if {"cdk.out", "test", "tests"}.intersection(inside):
            continue  # synthesized output, and the app's own unit tests
        app = next((p for p in path.parents if (p / "cdk.json").is_file()), None)
        if app is not None and (app / "cdk.out").is_dir():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if _IMPORT.search(text):
            out.append(path)
    return out


def seconds(node: Node | None) -> int | None:
    """``Duration.seconds(5)`` / ``.minutes(30)`` / ``.days(7)`` in seconds."""
    if isinstance(node, Call) and node.args and isinstance(node.args[0], Lit):
        unit = {"millis": 0.001, "seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
        factor = unit.get(node.last)
        value = node.args[0].value
        if factor and isinstance(value, int | float) and not isinstance(value, bool):
            return int(value * factor)
    return None


def version(node: Node | None) -> str | None:
    """``PostgresEngineVersion.VER_15_4`` → ``15.4``; ``…EngineVersion.of('15.4', '15')``."""
    if isinstance(node, Name) and node.last.startswith("VER_"):
        return node.last[4:].replace("_", ".")
    if isinstance(node, Call) and node.last == "of" and node.args:
        first = node.args[0]
        return first.value if isinstance(first, Lit) and isinstance(first.value, str) else None
    return None


def engine(node: Node | None) -> tuple[str | None, str | None]:
    """``DatabaseInstanceEngine.postgres({version})`` → (postgres, 15.4)."""
    names = {
        "postgres": "postgres",
        "mysql": "mysql",
        "mariadb": "mariadb",
        "aurora_postgres": "aurora-postgresql",
        "aurora_postgresql": "aurora-postgresql",
        "aurora_mysql": "aurora-mysql",
        "aurora": "aurora",
    }
    if isinstance(node, Call):
        props = node.props
        return names.get(_snake(node.last)), version(props.items.get("version") if props else None)
    if isinstance(node, Name):
        return names.get(node.last.lower()), None
    return None, None


def _snake(name: str) -> str:
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def instance_type(node: Node | None) -> str | None:
    """``InstanceType.of(InstanceClass.T3, InstanceSize.MICRO)`` → ``db.t3.micro``."""
    if isinstance(node, Call) and node.last == "of" and len(node.args) >= 2:
        klass, size = node.args[0], node.args[1]
        if isinstance(klass, Name) and isinstance(size, Name):
            name = klass.last.lower()
            short = _CLASSES.get(name, name)
            match = re.fullmatch(r"xlarge(\d+)", size.last.lower())
            sized = f"{match.group(1)}xlarge" if match else size.last.lower()
            return f"db.{short}.{sized}"
    if isinstance(node, Call) and node.last == "InstanceType" and node.args:
        first = node.args[0]
        if isinstance(first, Lit) and isinstance(first.value, str):
            return f"db.{first.value}"
    return None


@dataclass
class App:
    """One source file's constructs, by variable, and what is done to them afterwards."""

    file: str
    calls: list[tuple[Call, str | None]] = field(default_factory=list)
    constants: dict[str, Node] = field(default_factory=dict)

    dynamodb: bool = False
    """The file imports the DynamoDB module (so a bare ``Table`` is a DynamoDB table)."""

    def value(self, node: Node | None) -> Node | None:
        """A name bound to a literal in the same file is that literal; a Python props
        struct (``rds.BackupProps(retention=…)``) is its keywords, as TypeScript's object."""
        if isinstance(node, Name) and node.dotted in self.constants:
            return self.constants[node.dotted]
        if isinstance(node, Call) and any(
            isinstance(a, Name) and a.dotted in self.constants for a in node.args
        ):  # Duration.days(BACKUP_DAYS)
            return Call(node.line, node.callee, tuple(self.value(a) or a for a in node.args))
        if (
            isinstance(node, Call)
            and node.last[:1].isupper()
            and len(node.args) == 1
            and isinstance(node.args[0], Obj)
        ):
            return node.args[0]
        return node

    def get(self, obj: Obj | None, key: str) -> Node | None:
        return None if obj is None else self.value(obj.items.get(key))

    def where(self, line: int) -> Where:
        return Where(self.file, line)

    def construct(self, call: Call) -> tuple[str, str]:
        """(construct id, subject) of a construct call."""
        ident = call.args[1] if len(call.args) > 1 else None
        cid = ident.value if isinstance(ident, Lit) and isinstance(ident.value, str) else "?"
        return str(cid), f"{self.file}:{cid}"

    def method_calls(self, variable: str | None, *methods: str) -> list[Call]:
        if variable is None:
            return []
        wanted = {_snake(m) for m in methods}
        owners = (variable, f"{variable}.connections")
        return [
            c
            for c, _ in self.calls
            if _snake(c.last) in wanted
            and c.callee.rsplit(".", 1)[0].removeprefix("this.").removeprefix("self.") in owners
        ]


def _bool(node: Node | None) -> bool | None:
    return node.value if isinstance(node, Lit) and isinstance(node.value, bool) else None


def _num(node: Node | None) -> float | None:
    if (
        isinstance(node, Lit)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return float(node.value)
    return None


class Gatherer:
    def __init__(self, app: App) -> None:
        self.app = app
        self.names: dict[str, tuple[str, ...]] = {}
        """Variable → the names its construct goes by (variable, construct id, name prop)."""
        for call, variable in app.calls:
            if variable is None or len(call.args) < 2:
                continue
            cid, _ = app.construct(call)
            props = call.props
            extra = [
                n.value
                for key in ("security_group_name", "cluster_identifier", "instance_identifier")
                if isinstance(n := app.get(props, key), Lit) and isinstance(n.value, str)
            ]
            self.names[variable] = tuple(dict.fromkeys([cid, variable, *extra]))

    def _read(
        self,
        at: Props,
        prop: str,
        obj: Obj | None,
        key: str,
        convert: Callable[[Node | None], Any],
    ) -> Any:
        node = self.app.get(obj, key)
        if obj is not None and key in obj.key_lines:
            at.lines[prop] = self.app.where(obj.key_lines[key])
        if node is None:
            return None
        value = convert(node)
        if value is None:
            at.unknown.add(prop)
        return value

    def peers(
        self, node: Node | None, group: str, low: int | None, high: int | None, line: int
    ) -> list[Ingress]:
        where = self.app.where(line)
        if isinstance(node, Call) and node.last in ("anyIpv4", "any_ipv4"):
            return [Ingress(group, low, high, "0.0.0.0/0", where=where)]
        if isinstance(node, Call) and node.last in ("anyIpv6", "any_ipv6"):
            return [Ingress(group, low, high, "::/0", where=where)]
        if isinstance(node, Call) and node.last in ("ipv4", "ipv6") and node.args:
            cidr = node.args[0]
            text = cidr.value if isinstance(cidr, Lit) else "a range cutover cannot work out"
            return [Ingress(group, low, high, str(text), where=where)]
        if isinstance(node, Name):
            var = node.dotted.removeprefix("this.").removeprefix("self.")
            names = self.names.get(var, (var,))
            return [Ingress(group, low, high, names[0], names, is_group=True, where=where)]
        return [Ingress(group, low, high, "a peer cutover cannot work out", where=where)]

    def ingress(self, variable: str | None, groups: Node | None, port: int) -> tuple[Ingress, ...]:
        out: list[Ingress] = []
        for call in self.app.method_calls(variable, "allowDefaultPortFrom", "allowFrom"):
            if not call.args:
                continue
            out += self.peers(call.args[0], variable or "?", port, port, call.line)
        for call in self.app.method_calls(variable, "allowDefaultPortFromAnyIpv4"):
            out.append(
                Ingress(variable or "?", port, port, "0.0.0.0/0", where=self.app.where(call.line))
            )
        group_vars = [
            g.dotted.removeprefix("this.").removeprefix("self.")
            for g in (groups.items if isinstance(groups, Arr) else ())
            if isinstance(g, Name)
        ]
        for group in group_vars:
            for call in self.app.method_calls(group, "addIngressRule", "allowFrom"):
                if len(call.args) < 2:
                    continue
                ports = self.port_range(call.args[1])
                out += self.peers(call.args[0], group, *ports, call.line)
        return tuple(out)

    def port_range(self, node: Node) -> tuple[int | None, int | None]:
        if isinstance(node, Call) and node.last == "tcp" and node.args:
            value = _num(self.app.value(node.args[0]))
            return (int(value), int(value)) if value is not None else (None, None)
        if (
            isinstance(node, Call)
            and node.last in ("tcpRange", "tcp_range")
            and len(node.args) >= 2
        ):
            low, high = _num(node.args[0]), _num(node.args[1])
            return (None if low is None else int(low), None if high is None else int(high))
        return (None, None)  # allTraffic, allTcp, or what cannot be worked out

    def database(self, call: Call, variable: str | None, port: int) -> tuple[dict[str, Any], Props]:
        app, props = self.app, call.props
        cid, subject = app.construct(call)
        at = Props(app.file, call.line)
        key = app.get(props, "storage_encryption_key")
        encrypted = self._read(at, "storage_encrypted", props, "storage_encrypted", _bool)
        if encrypted is None and key is not None:
            encrypted = True
        retention_obj = props
        retention_key = "backup_retention"
        backup = app.get(props, "backup")
        if isinstance(backup, Obj):
            retention_obj, retention_key = backup, "retention"
        days = self._read(at, "backup_retention_days", retention_obj, retention_key, seconds)
        policy = app.get(props, "removal_policy")
        protection = self._read(at, "deletion_protection", props, "deletion_protection", _bool)
        if protection is None and "deletion_protection" not in at.unknown:
            protection = isinstance(policy, Name) and policy.last == "RETAIN"
        engine_node = app.get(props, "engine")
        engine_name, engine_version = engine(engine_node)
        if props is not None and "engine" in props.key_lines:
            at.lines["engine"] = at.lines["engine_version"] = app.where(props.key_lines["engine"])
        args: dict[str, Any] = {
            "subject": subject,
            "storage_encrypted": encrypted,
            "kms_key": None if key is None else getattr(key, "dotted", "a KMS key"),
            "backup_retention_days": 1
            if days is None and "backup_retention_days" not in at.unknown
            else (None if days is None else int(days) // 86400),
            "deletion_protection": protection,
            "engine": engine_name,
            "engine_version": engine_version,
            "ingress": self.ingress(variable, app.get(props, "security_groups"), port),
            "names": self.names.get(variable or "", (cid,)),
        }
        return args, at

    def public(self, props: Obj | None) -> bool:
        subnets = self.app.get(props, "vpc_subnets")
        kind = self.app.get(subnets, "subnet_type") if isinstance(subnets, Obj) else None
        return isinstance(kind, Name) and kind.last == "PUBLIC"

    def secret(self, subject: str, variable: str | None, line: int) -> SecretFacts:
        rotations = self.app.method_calls(variable, "addRotationSingleUser", "addRotationMultiUser")
        located = Located(
            self.app.where(line),
            {"rotation_enabled": self.app.where(rotations[0].line)} if rotations else {},
        )
        return SecretFacts(
            f"{subject} (generated credentials)", True, bool(rotations), None, located
        )

    def gather(self, port: int) -> Facts:
        clusters: list[ClusterFacts] = []
        instances: list[InstanceFacts] = []
        proxies: list[tuple[Call, str | None, Call | None]] = []
        secrets: list[SecretFacts] = []
        dsql: list[DsqlFacts] = []
        tables: list[TableFacts] = []
        for call, variable in self.app.calls:
            kind = call.last
            if kind in ("DatabaseInstance", "DatabaseInstanceFromSnapshot"):
                args, at = self.database(call, variable, port)
                public = self._read(
                    at, "publicly_accessible", call.props, "publicly_accessible", _bool
                )
                klass = self._read(at, "instance_class", call.props, "instance_type", instance_type)
                instances.append(
                    InstanceFacts(
                        **args,
                        publicly_accessible=self.public(call.props)
                        if public is None
                        else bool(public),
                        instance_class="db.m5.large"
                        if klass is None and "instance_class" not in at.unknown
                        else klass,
                        located=at.located(),
                    )
                )
                secrets.append(self.secret(str(args["subject"]), variable, call.line))
            elif kind in ("DatabaseCluster", "ServerlessCluster"):
                clusters.append(self.cluster(call, variable, port))
                secrets.append(self.secret(clusters[-1].subject, variable, call.line))
            elif kind == "DatabaseProxy":
                proxies.append((call, variable, None))
            elif kind in ("addProxy", "add_proxy"):
                proxies.append((call, None, call))
            elif kind in ("Table", "TableV2") and (
                "dynamodb" in call.callee.lower() or self.app.dynamodb
            ):
                tables.append(self.table(call))
            elif kind == "CfnCluster" and "dsql" in call.callee.lower():
                _, subject = self.app.construct(call)
                at = Props(self.app.file, call.line)
                on = self._read(
                    at, "deletion_protection", call.props, "deletion_protection_enabled", _bool
                )
                dsql.append(
                    DsqlFacts(subject, None, on if isinstance(on, bool) else None, at.located())
                )
        return Facts(
            tuple(clusters),
            tuple(instances),
            tuple(self.proxy(c, v, added) for c, v, added in proxies),
            tuple(secrets),
            tuple(dsql),
            tuple(tables),
        )

    def cluster(self, call: Call, variable: str | None, port: int) -> ClusterFacts:
        app, props = self.app, call.props
        args, at = self.database(call, variable, port)
        if call.last == "ServerlessCluster":
            args["storage_encrypted"] = True  # Serverless v1 storage is always encrypted
        members: list[Member] = []
        serverless = False
        writer = app.get(props, "writer")
        readers = app.get(props, "readers")
        for node, is_writer in [
            (writer, True),
            *[(r, False) for r in (readers.items if isinstance(readers, Arr) else ())],
        ]:
            if not isinstance(node, Call):
                continue
            options = node.props
            serverless |= node.last in ("serverlessV2", "serverless_v2")
            public = _bool(app.get(options, "publicly_accessible"))
            klass = (
                "db.serverless"
                if node.last in ("serverlessV2", "serverless_v2")
                else instance_type(app.get(options, "instance_type"))
            )
            name = next((a.value for a in node.args if isinstance(a, Lit)), "instance")
            members.append(
                Member(
                    f"{args['subject']}/{name}",
                    public if public is not None else self.public(props),
                    klass,
                    is_writer,
                    where=app.where(node.line),
                )
            )
        count = app.get(props, "instances")
        legacy = app.get(props, "instance_props")
        if not members and call.last == "DatabaseCluster":
            n = int(_num(count) or 2)
            klass = (
                instance_type(app.get(legacy, "instance_type")) if isinstance(legacy, Obj) else None
            )
            public = (
                _bool(app.get(legacy, "publicly_accessible")) if isinstance(legacy, Obj) else None
            )
            members = [
                Member(
                    f"{args['subject']}/Instance{i + 1}",
                    bool(public),
                    klass,
                    i == 0,
                    where=app.where(call.line),
                )
                for i in range(n)
            ]
        capacity = None
        if serverless or (props is not None and "serverless_v2_min_capacity" in props.items):
            low = self._read(at, "serverless_v2_min", props, "serverless_v2_min_capacity", _num)
            high = self._read(at, "serverless_v2_max", props, "serverless_v2_max_capacity", _num)
            capacity = (0.5 if low is None else low, 2.0 if high is None else high)
        return ClusterFacts(
            **args, members=tuple(members), serverless_v2=capacity, located=at.located()
        )

    def proxy(self, call: Call, variable: str | None, added: Call | None) -> ProxyFacts:
        app, props = self.app, call.props
        at = Props(app.file, call.line)
        if added is not None:
            owner = added.callee.rsplit(".", 1)[0].removeprefix("this.").removeprefix("self.")
            first = added.args[0] if added.args else None
            cid = first.value if isinstance(first, Lit) else "proxy"
            subject = f"{app.file}:{cid}"
            targets = [self.names.get(owner, (owner,))]
        else:
            _, subject = app.construct(call)
            target = app.get(props, "proxy_target")
            targets = []
            if isinstance(target, Call) and target.args and isinstance(target.args[0], Name):
                var = target.args[0].dotted.removeprefix("this.").removeprefix("self.")
                targets.append(self.names.get(var, (var,)))
                if props is not None:
                    at.lines["targets"] = app.where(props.key_lines.get("proxy_target", call.line))
        tls = self._read(at, "require_tls", props, "require_tls", _bool)
        iam = self._read(at, "iam_auth", props, "iam_auth", _bool)
        borrow = self._read(at, "borrow_timeout_s", props, "borrow_timeout", seconds)
        idle = self._read(at, "idle_timeout_s", props, "idle_client_timeout", seconds)
        return ProxyFacts(
            subject,
            require_tls=True if tls is None and "require_tls" not in at.unknown else tls,
            iam_auth=bool(iam),
            borrow_timeout_s=120
            if borrow is None and "borrow_timeout_s" not in at.unknown
            else borrow,
            idle_client_timeout_s=1800
            if idle is None and "idle_timeout_s" not in at.unknown
            else idle,
            targets=tuple(targets),
            located=at.located(),
        )

    def table(self, call: Call) -> TableFacts:
        app, props = self.app, call.props
        cid, _ = app.construct(call)
        at = Props(app.file, call.line)
        pitr = self._read(at, "pitr", props, "point_in_time_recovery", _bool)
        spec = app.get(props, "point_in_time_recovery_specification")
        if isinstance(spec, Obj):
            pitr = self._read(at, "pitr", spec, "point_in_time_recovery_enabled", _bool)
        billing: str | None
        if call.last == "TableV2":
            billing_node = app.get(props, "billing")
            billing = "PAY_PER_REQUEST"
            if isinstance(billing_node, Call):
                billing = "PROVISIONED" if billing_node.last == "provisioned" else "PAY_PER_REQUEST"
                if props is not None:
                    at.lines["billing_mode"] = app.where(props.key_lines["billing"])
        else:
            node = self._read(
                at,
                "billing_mode",
                props,
                "billing_mode",
                lambda n: n.last if isinstance(n, Name) else None,
            )
            billing = str(node) if node else None
        name_node = app.get(props, "table_name")
        name = (
            name_node.value
            if isinstance(name_node, Lit) and isinstance(name_node.value, str)
            else cid
        )
        return TableFacts(
            f"{app.file}:{name}",
            pitr if isinstance(pitr, bool) else (None if "pitr" in at.unknown else False),
            billing,
            names=tuple(dict.fromkeys([name, cid])),
            located=at.located(),
        )


def gather(paths: list[Path], label: Callable[[Path], str], *, port: int = 5432) -> Facts:
    """Every subject the CDK source files define."""
    facts = Facts()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        found = statements(text, python=path.suffix == ".py")
        app = App(label(path), dynamodb=bool(re.search(r"aws[-_]dynamodb", text)))
        for statement in found:
            app.calls.append((statement.call, statement.variable))
        for match in re.finditer(
            r"(?m)^\s*(?:const|let|var)?\s*([A-Za-z_]\w*)\s*(?::\s*\w+)?\s*=\s*(\d+(?:\.\d+)?|true|false|True|False)\s*;?\s*$",
            text,
        ):
            raw = match.group(2)
            line = text.count("\n", 0, match.start(2)) + 1
            value: bool | int | float = (
                raw.lower() == "true"
                if raw.lower() in ("true", "false")
                else (float(raw) if "." in raw else int(raw))
            )
            app.constants[match.group(1)] = Lit(line, value)
        facts += Gatherer(app).gather(port)
    return facts
