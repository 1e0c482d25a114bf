"""Posture facts from Terraform (the AWS provider's resources), read as modules.

Unset arguments take the provider's defaults: ``storage_encrypted`` false,
``backup_retention_period`` 1 (RDS's), ``deletion_protection`` false, ``publicly_accessible``
false, ``require_tls`` false, ``idle_client_timeout`` 1800, ``connection_borrow_timeout`` 120,
``billing_mode`` PROVISIONED, ``point_in_time_recovery`` off. A value that depends on what only
``terraform apply`` knows (a conditional, a data source, a module from a registry) is
"cannot work out", with the line that sets it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.posture.facts import (
    ClusterFacts,
    DsqlFacts,
    Facts,
    Ingress,
    InstanceFacts,
    Member,
    ProxyFacts,
    SecretFacts,
    TableFacts,
    Where,
)
from harness.posture.settings import PostureSettings
from harness.posture.tfmodules import RefValue, Resource, load
from harness.posture.values import Props, as_bool, as_float, as_int, as_str


def _read(
    props: Props,
    prop: str,
    res: Resource,
    key: str,
    convert: Any,
    default: Any = None,
    body: Any = None,
) -> Any:
    found = res.get(key, body)
    if found is None:
        return default
    if found.where is not None:
        props.lines[prop] = found.where
    converted = convert(found.value) if found.value is not None else default
    if converted is None and found.value is not None:
        props.unknown.add(prop)
    return converted


class Config:
    """Every resource of the configurations under one scanned root."""

    def __init__(self, files: list[Path], label: Callable[[Path], str]) -> None:
        self.resources = {r.address: r for root in load(files, label) for r in root.resources()}

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]

    def target(self, value: Any) -> Resource | None:
        """The resource a reference (``aws_rds_cluster.db.id``) points at."""
        return self.resources.get(value.address) if isinstance(value, RefValue) else None

    def names(self, res: Resource, *keys: str) -> tuple[str, ...]:
        found = [res.address, f"{res.type}.{res.name}", res.name]
        for key in keys:
            val = res.get(key)
            if val is not None and isinstance(val.value, str):
                found.append(val.value)
        return tuple(dict.fromkeys(found))

    def group_names(self, value: Any) -> tuple[str, ...]:
        res = self.target(value)
        if res is not None:
            return self.names(res, "name")
        return (str(value),) if isinstance(value, str) else ()

    def _list(self, res: Resource, key: str, body: Any = None) -> list[Any]:
        found = res.get(key, body)
        return found.value if found is not None and isinstance(found.value, list) else []

    def ingress(self, res: Resource, key: str) -> tuple[Ingress, ...]:
        """Rules of the security groups a database names: inline, ``aws_security_group_rule``
        and ``aws_vpc_security_group_ingress_rule``."""
        out: list[Ingress] = []
        for ref in self._list(res, key):
            group = self.target(ref)
            if group is None or group.type != "aws_security_group":
                continue
            label = group.address
            for block in group.block("ingress"):
                out.extend(self._rule(group, label, group.line(block.line), block))
            for rule in self.of_type(
                "aws_security_group_rule", "aws_vpc_security_group_ingress_rule"
            ):
                owner = rule.get("security_group_id")
                if owner is None or self.target(owner.value) is not group:
                    continue
                kind = rule.get("type")
                if rule.type == "aws_security_group_rule" and (
                    kind is None or kind.value != "ingress"
                ):
                    continue
                out.extend(self._rule(rule, label, rule.where, rule.body))
        return tuple(out)

    def _rule(self, res: Resource, group: str, where: Where, body: Any) -> list[Ingress]:
        protocol = res.get("protocol", body) or res.get("ip_protocol", body)
        every = protocol is not None and str(protocol.value) in ("-1", "all")
        low_val, high_val = res.get("from_port", body), res.get("to_port", body)
        low = None if every or low_val is None else as_int(low_val.value)
        high = None if every or high_val is None else as_int(high_val.value)
        out = []
        for key in ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"):
            out += [
                Ingress(group, low, high, str(c), where=where) for c in self._list(res, key, body)
            ]
        for key in ("cidr_ipv4", "cidr_ipv6", "prefix_list_id"):
            value = res.get(key, body)
            if value is not None:
                out.append(Ingress(group, low, high, str(value.value), where=where))
        sources = self._list(res, "security_groups", body)
        for key in ("source_security_group_id", "referenced_security_group_id"):
            value = res.get(key, body)
            if value is not None:
                sources.append(value.value)
        for source in sources:
            names = self.group_names(source) or ("a group cutover cannot work out",)
            out.append(Ingress(group, low, high, names[0], names, is_group=True, where=where))
        return out

    # -- subjects -------------------------------------------------------------------------

    def database(self, res: Resource) -> tuple[dict[str, Any], Props]:
        at = Props(res.where.file, res.where.line)
        kms = res.get("kms_key_id")
        args = {
            "subject": f"{res.where.file}:{res.address}",
            "storage_encrypted": _read(
                at, "storage_encrypted", res, "storage_encrypted", as_bool, False
            ),
            "backup_retention_days": _read(
                at, "backup_retention_days", res, "backup_retention_period", as_int, 1
            ),
            "deletion_protection": _read(
                at, "deletion_protection", res, "deletion_protection", as_bool, False
            ),
            "engine": _read(at, "engine", res, "engine", as_str),
            "engine_version": _read(at, "engine_version", res, "engine_version", as_str),
            "kms_key": None if kms is None else str(getattr(kms.value, "address", kms.value)),
            "ingress": self.ingress(res, "vpc_security_group_ids"),
        }
        managed = res.get("manage_master_user_password")
        args["secret"] = "managed" if managed is not None and managed.value is True else None
        if res.type == "aws_db_instance" and res.get("storage_encrypted") is None and kms:
            args["storage_encrypted"] = None  # RDS refuses a key without encryption: say so
        return args, at

    def clusters(self) -> list[ClusterFacts]:
        out = []
        for res in self.of_type("aws_rds_cluster"):
            args, at = self.database(res)
            capacity = None
            for block in res.block("serverlessv2_scaling_configuration"):
                at.lines["serverless_v2"] = res.line(block.line)
                low = _read(at, "serverless_v2_min", res, "min_capacity", as_float, body=block)
                high = _read(at, "serverless_v2_max", res, "max_capacity", as_float, body=block)
                capacity = (low, high)
            members = []
            for inst in self.of_type("aws_rds_cluster_instance"):
                owner = inst.get("cluster_identifier")
                if owner is None or self.target(owner.value) is not res:
                    continue
                public, klass = inst.get("publicly_accessible"), inst.get("instance_class")
                members.append(
                    Member(
                        inst.address,
                        False if public is None else as_bool(public.value),
                        None if klass is None else as_str(klass.value),
                        count=inst.count,
                        where=inst.where,
                    )
                )
            out.append(
                ClusterFacts(
                    **args,
                    names=self.names(res, "cluster_identifier"),
                    members=tuple(members),
                    serverless_v2=capacity,
                    located=at.located(),
                )
            )
        return out

    def instances(self) -> list[InstanceFacts]:
        out = []
        for res in self.of_type("aws_db_instance"):
            args, at = self.database(res)
            public = _read(at, "publicly_accessible", res, "publicly_accessible", as_bool, False)
            klass = _read(at, "instance_class", res, "instance_class", as_str)
            out.append(
                InstanceFacts(
                    **args,
                    names=self.names(res, "identifier"),
                    publicly_accessible=public,
                    instance_class=klass,
                    located=at.located(),
                )
            )
        return out

    def proxies(self) -> list[ProxyFacts]:
        out = []
        for res in self.of_type("aws_db_proxy"):
            at = Props(res.where.file, res.where.line)
            tls = _read(at, "require_tls", res, "require_tls", as_bool, False)
            idle = _read(at, "idle_timeout_s", res, "idle_client_timeout", as_int, 1800)
            auth = res.block("auth")
            iam = None
            if auth:
                modes = [res.get("iam_auth", a) for a in auth]
                iam = all(m is not None and m.value == "REQUIRED" for m in modes)
                at.lines["iam_auth"] = res.line(auth[0].line)
            borrow: int | None = 120
            targets: list[tuple[str, ...]] = []
            for group in self.of_type("aws_db_proxy_default_target_group"):
                owner = group.get("db_proxy_name")
                if owner is None or self.target(owner.value) is not res:
                    continue
                for pool in group.block("connection_pool_config"):
                    borrow = _read(
                        at,
                        "borrow_timeout_s",
                        group,
                        "connection_borrow_timeout",
                        as_int,
                        120,
                        pool,
                    )
            for target in self.of_type("aws_db_proxy_target"):
                owner = target.get("db_proxy_name")
                if owner is None or self.target(owner.value) is not res:
                    continue
                at.lines.setdefault("targets", target.where)
                for key in ("db_cluster_identifier", "db_instance_identifier"):
                    value = target.get(key)
                    if value is None:
                        continue
                    db = self.target(value.value)
                    ident = "cluster_identifier" if key.startswith("db_cluster") else "identifier"
                    targets.append(self.names(db, ident) if db else (str(value.value),))
            out.append(
                ProxyFacts(
                    f"{res.where.file}:{res.address}",
                    require_tls=tls,
                    iam_auth=iam,
                    borrow_timeout_s=borrow,
                    idle_client_timeout_s=idle,
                    targets=tuple(targets),
                    located=at.located(),
                )
            )
        return out

    def secrets(self, settings: PostureSettings) -> list[SecretFacts]:
        """Secrets rotated, named by the plan, or holding a database's connection details."""
        rotations = {}
        for rot in self.of_type("aws_secretsmanager_secret_rotation"):
            owner = rot.get("secret_id")
            secret = None if owner is None else self.target(owner.value)
            if secret is not None:
                rotations[secret.address] = rot
        databases = {r.address for r in self.of_type("aws_db_instance", "aws_rds_cluster")}
        feeding = set()
        for proxy in self.of_type("aws_db_proxy"):
            for auth in proxy.block("auth"):
                arn = proxy.get("secret_arn", auth)
                secret = None if arn is None else self.target(arn.value)
                if secret is not None:
                    feeding.add(secret.address)
        for version in self.of_type("aws_secretsmanager_secret_version"):
            owner = version.get("secret_id")
            secret = None if owner is None else self.target(owner.value)
            text = repr(version.get("secret_string"))
            if secret is not None and any(f"'{d}'" in text for d in databases):
                feeding.add(secret.address)
        out = []
        for res in self.of_type("aws_secretsmanager_secret"):
            named = settings.secret is not None and settings.secret in self.names(res, "name")
            if res.address not in rotations and res.address not in feeding and not named:
                continue
            at = Props(res.where.file, res.where.line)
            rotation = rotations.get(res.address)
            days = None
            if rotation is not None:
                at.lines["rotation_enabled"] = rotation.where
                for rules in rotation.block("rotation_rules"):
                    found = rotation.get("automatically_after_days", rules)
                    days = None if found is None else as_int(found.value)
            out.append(
                SecretFacts(
                    f"{res.where.file}:{res.address}",
                    True,
                    rotation is not None,
                    days,
                    located=at.located(),
                )
            )
        return out

    def dsql(self) -> list[DsqlFacts]:
        out = []
        for res in self.of_type("aws_dsql_cluster"):
            at = Props(res.where.file, res.where.line)
            on = _read(at, "deletion_protection", res, "deletion_protection_enabled", as_bool)
            out.append(DsqlFacts(f"{res.where.file}:{res.address}", None, on, located=at.located()))
        return out

    def tables(self) -> list[TableFacts]:
        out = []
        for res in self.of_type("aws_dynamodb_table"):
            at = Props(res.where.file, res.where.line)
            pitr = False
            for block in res.block("point_in_time_recovery"):
                pitr = _read(at, "pitr", res, "enabled", as_bool, False, block)
                at.lines.setdefault("pitr", res.line(block.line))
            billing = _read(at, "billing_mode", res, "billing_mode", as_str)
            names = self.names(res, "name")
            out.append(
                TableFacts(
                    f"{res.where.file}:{names[-1]}",
                    pitr,
                    billing,
                    names=names,
                    located=at.located(),
                )
            )
        return out


def gather(files: list[Path], label: Callable[[Path], str], settings: PostureSettings) -> Facts:
    """Every subject the Terraform configurations in ``files`` define."""
    config = Config(files, label)
    clusters, instances = config.clusters(), config.instances()
    secrets = config.secrets(settings)
    for db in (*clusters, *instances):
        if db.secret == "managed":
            where = db.located.where
            secrets.append(
                SecretFacts(
                    f"{db.subject} (RDS-managed)", True, True, 7, located=type(db.located)(where)
                )
            )
    return Facts(
        tuple(clusters),
        tuple(instances),
        tuple(config.proxies()),
        tuple(secrets),
        tuple(config.dsql()),
        tuple(config.tables()),
    )
