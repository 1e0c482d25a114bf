"""Posture facts from CloudFormation (hand-written or synthesized by ``cdk synth``).

A property a template leaves out takes CloudFormation's default, which for these settings is
the unsafe one (no encryption, one day of backups, no deletion protection, no TLS on a proxy,
no PITR, provisioned billing), so "unset" fails. ``!Ref`` to a parameter reads its
``Default``; any other intrinsic is a value known only at deploy time ("cannot work out").
Every fact keeps the file and line that set it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from harness.iac import cfn
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
from harness.posture.values import UNKNOWN, Props, as_bool, as_float, as_int, as_str

SUFFIXES = (".json", ".yaml", ".yml", ".template")


def load(path: Path) -> dict[str, Any] | None:
    """The template in ``path`` (its Resources typed), or None for anything else."""
    try:
        doc = cfn.load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return None
    return doc if cfn.resources(doc) is not None else None


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


def _key_line(mapping: Any, key: str) -> int | None:
    return mapping.key_lines.get(key) if isinstance(mapping, cfn.LocDict) else None


class Template:
    """One template: its resources, parameters, and how to read a property."""

    def __init__(self, name: str, doc: dict[str, Any]) -> None:
        self.name = name
        found = cfn.resources(doc)
        assert found is not None  # load() keeps only templates
        self.resources: cfn.LocDict = found
        params = doc.get("Parameters")
        self.params: dict[str, Any] = params if isinstance(params, dict) else {}

    def of_type(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical, res in self.resources.items():
            if res["Type"] in types:
                yield logical, res

    def value(self, raw: Any) -> Any:
        """A literal, a parameter's default, or :data:`UNKNOWN` for other intrinsics."""
        if isinstance(raw, dict):
            ref = raw.get("Ref") if len(raw) == 1 else None
            if isinstance(ref, str) and isinstance(self.params.get(ref), dict):
                return self.params[ref].get("Default", UNKNOWN)
            return UNKNOWN
        return raw

    def props(self, logical: str) -> Props:
        return Props(self.name, self.resources.key_lines[logical])

    def read(
        self, into: Props, prop: str, mapping: Any, key: str, convert: Any, default: Any = None
    ) -> Any:
        raw = mapping.get(key) if isinstance(mapping, dict) else None
        return into.read(
            prop,
            None if raw is None else self.value(raw),
            _key_line(mapping, key),
            convert,
            default,
        )

    def names(self, logical: str, *name_keys: str) -> tuple[str, ...]:
        """A resource's logical id, physical name(s) and CDK construct path."""
        res = self.resources[logical]
        found = [logical]
        for key in name_keys:
            value = self.value(_props(res).get(key))
            if isinstance(value, str):
                found.append(value)
        path = (res.get("Metadata") or {}).get("aws:cdk:path")
        if isinstance(path, str):
            parts = path.split("/")[1:]
            if parts and parts[-1] in ("Resource", "Default"):
                parts = parts[:-1]
            if parts:
                found.append("/".join(parts))
        return tuple(dict.fromkeys(found))

    def ingress(self, groups: list[Any]) -> tuple[Ingress, ...]:
        """Inline and standalone ingress rules of the groups a database names."""
        out: list[Ingress] = []
        for ref in groups:
            group = _ref(ref)
            if group is None or group not in self.resources:
                continue
            inline = _props(self.resources[group]).get("SecurityGroupIngress") or []
            rules = [r for r in inline if isinstance(r, dict)]
            rules += [
                _props(r)
                for _, r in self.of_type("AWS::EC2::SecurityGroupIngress")
                if _ref(_props(r).get("GroupId")) == group
            ]
            out.extend(i for rule in rules if (i := self._rule(group, rule)) is not None)
        return tuple(out)

    def _rule(self, group: str, rule: dict[str, Any]) -> Ingress | None:
        every = str(rule.get("IpProtocol")) == "-1"
        low = None if every else as_int(self.value(rule.get("FromPort")))
        high = None if every else as_int(self.value(rule.get("ToPort")))
        line = rule.line if isinstance(rule, cfn.LocDict) else self.resources.key_lines[group]
        where = Where(self.name, line)
        for key in ("CidrIp", "CidrIpv6", "SourcePrefixListId"):
            if key in rule:
                return Ingress(group, low, high, str(self.value(rule[key])), where=where)
        source = rule.get("SourceSecurityGroupId")
        if source is None:
            return None
        logical = _ref(source)
        if logical is not None and logical in self.resources:
            names = self.names(logical, "GroupName")
        elif logical is not None and logical in self.params:  # a group passed in
            default = self.value(source)
            names = (logical, *([default] if isinstance(default, str) else []))
        else:
            names = (str(self.value(source)),)
        return Ingress(group, low, high, names[0], names, is_group=True, where=where)

    # -- subjects -------------------------------------------------------------------------

    def database(self, logical: str, kind: str) -> dict[str, Any]:
        """The properties clusters and instances share, as keyword arguments for the facts."""
        props = _props(self.resources[logical])
        at = self.props(logical)
        args: dict[str, Any] = {
            "subject": f"{self.name}:{logical}",
            "storage_encrypted": self.read(
                at, "storage_encrypted", props, "StorageEncrypted", as_bool, False
            ),
            "kms_key": self.read(at, "kms_key", props, "KmsKeyId", as_str),
            "backup_retention_days": self.read(
                at, "backup_retention_days", props, "BackupRetentionPeriod", as_int, 1
            ),
            "deletion_protection": self.read(
                at, "deletion_protection", props, "DeletionProtection", as_bool, False
            ),
            "engine": self.read(at, "engine", props, "Engine", as_str),
            "engine_version": self.read(at, "engine_version", props, "EngineVersion", as_str),
            "secret": "managed"
            if self.value(props.get("ManageMasterUserPassword")) is True
            else None,
        }
        if "KmsKeyId" in props:
            args["kms_key"] = args["kms_key"] or str(_ref(props["KmsKeyId"]) or "a KMS key")
            at.unknown.discard("kms_key")
        groups_key = "VpcSecurityGroupIds" if kind == "cluster" else "VPCSecurityGroups"
        args["ingress"] = self.ingress(list(props.get(groups_key) or []))
        args["_at"] = at
        return args

    def clusters(self) -> list[ClusterFacts]:
        out = []
        for logical, _ in self.of_type("AWS::RDS::DBCluster"):
            args = self.database(logical, "cluster")
            at: Props = args.pop("_at")
            props = _props(self.resources[logical])
            scaling = props.get("ServerlessV2ScalingConfiguration")
            capacity = None
            if isinstance(scaling, dict):
                at.lines["serverless_v2"] = at.where(
                    _key_line(props, "ServerlessV2ScalingConfiguration")
                )
                low = self.read(at, "serverless_v2_min", scaling, "MinCapacity", as_float)
                high = self.read(at, "serverless_v2_max", scaling, "MaxCapacity", as_float)
                capacity = (low, high)
            members = tuple(
                Member(
                    name,
                    as_bool(self.value(_props(r).get("PubliclyAccessible"))),
                    as_str(self.value(_props(r).get("DBInstanceClass"))),
                    where=Where(self.name, self.resources.key_lines[name]),
                )
                for name, r in self.of_type("AWS::RDS::DBInstance")
                if _ref(_props(r).get("DBClusterIdentifier")) == logical
            )
            out.append(
                ClusterFacts(
                    **args,
                    names=self.names(logical, "DBClusterIdentifier"),
                    members=members,
                    serverless_v2=capacity,
                    located=at.located(),
                )
            )
        return out

    def instances(self) -> list[InstanceFacts]:
        out = []
        for logical, res in self.of_type("AWS::RDS::DBInstance"):
            props = _props(res)
            if "DBClusterIdentifier" in props:
                continue  # a cluster member: judged with its cluster
            args = self.database(logical, "instance")
            at: Props = args.pop("_at")
            public = self.read(at, "publicly_accessible", props, "PubliclyAccessible", as_bool)
            instance_class = self.read(at, "instance_class", props, "DBInstanceClass", as_str)
            out.append(
                InstanceFacts(
                    **args,
                    names=self.names(logical, "DBInstanceIdentifier"),
                    publicly_accessible=public,
                    instance_class=instance_class,
                    located=at.located(),
                )
            )
        return out

    def proxies(self, databases: dict[str, tuple[str, ...]]) -> list[ProxyFacts]:
        out = []
        for logical, res in self.of_type("AWS::RDS::DBProxy"):
            props = _props(res)
            at = self.props(logical)
            tls = self.read(at, "require_tls", props, "RequireTLS", as_bool, False)
            auth = [a for a in props.get("Auth") or [] if isinstance(a, dict)]
            iam: bool | None = None
            if auth:
                modes = [self.value(a.get("IAMAuth", "DISABLED")) for a in auth]
                iam = all(m == "REQUIRED" for m in modes)
                at.lines["iam_auth"] = at.where(_key_line(props, "Auth"))
            idle = self.read(at, "idle_timeout_s", props, "IdleClientTimeout", as_int, 1800)
            borrow: int | None = 120
            targets: list[tuple[str, ...]] = []
            for _, group in self.of_type("AWS::RDS::DBProxyTargetGroup"):
                gprops = _props(group)
                if _ref(gprops.get("DBProxyName")) != logical:
                    continue
                pool = gprops.get("ConnectionPoolConfigurationInfo")
                if isinstance(pool, dict):
                    borrow = self.read(
                        at, "borrow_timeout_s", pool, "ConnectionBorrowTimeout", as_int, 120
                    )
                for key in ("DBClusterIdentifiers", "DBInstanceIdentifiers"):
                    for target in gprops.get(key) or []:
                        at.lines.setdefault("targets", at.where(_key_line(gprops, key)))
                        ref = _ref(target)
                        if ref in databases:
                            targets.append(databases[ref])
                        else:
                            targets.append((str(ref or self.value(target)),))
            out.append(
                ProxyFacts(
                    f"{self.name}:{logical}",
                    require_tls=tls,
                    iam_auth=iam,
                    borrow_timeout_s=borrow,
                    idle_client_timeout_s=idle,
                    targets=tuple(targets),
                    located=at.located(),
                )
            )
        return out

    def secrets(self, settings_secret: str | None) -> list[SecretFacts]:
        """Secrets attached to a database, rotated, or named by the plan."""
        rotations = {
            _ref(_props(r).get("SecretId")): (name, _props(r))
            for name, r in self.of_type("AWS::SecretsManager::RotationSchedule")
        }
        attached = {
            _ref(_props(r).get("SecretId"))
            for _, r in self.of_type("AWS::SecretsManager::SecretTargetAttachment")
        }
        out = []
        for logical, _ in self.of_type("AWS::SecretsManager::Secret"):
            named = settings_secret is not None and settings_secret in self.names(logical, "Name")
            if logical not in attached and logical not in rotations and not named:
                continue
            at = self.props(logical)
            rotation = rotations.get(logical)
            days = None
            if rotation is not None:
                rules = rotation[1].get("RotationRules") or {}
                days = as_int(self.value(rules.get("AutomaticallyAfterDays")))
                at.lines["rotation_enabled"] = Where(
                    self.name, self.resources.key_lines[rotation[0]]
                )
            out.append(
                SecretFacts(
                    f"{self.name}:{logical}",
                    exists=True,
                    rotation_enabled=rotation is not None,
                    rotation_days=days,
                    located=at.located(),
                )
            )
        return out

    def dsql(self) -> list[DsqlFacts]:
        out = []
        for logical, res in self.of_type("AWS::DSQL::Cluster"):
            at = self.props(logical)
            on = self.read(
                at, "deletion_protection", _props(res), "DeletionProtectionEnabled", as_bool
            )
            out.append(DsqlFacts(f"{self.name}:{logical}", None, on, located=at.located()))
        return out

    def tables(self) -> list[TableFacts]:
        out = []
        for logical, res in self.of_type("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            props = _props(res)
            at = self.props(logical)
            if res["Type"] == "AWS::DynamoDB::Table":
                spec = props.get("PointInTimeRecoverySpecification")
                pitr = self.read(at, "pitr", spec or {}, "PointInTimeRecoveryEnabled", as_bool)
                if spec is None:
                    at.lines.pop("pitr", None)
            else:  # TableV2: PITR per replica, every replica must have it
                found = [
                    self.read(
                        at,
                        "pitr",
                        r.get("PointInTimeRecoverySpecification") or {},
                        "PointInTimeRecoveryEnabled",
                        as_bool,
                    )
                    for r in props.get("Replicas") or []
                    if isinstance(r, dict)
                ]
                pitr = (
                    all(found)
                    if found and None not in found
                    else (False if False in found else None)
                )
            billing = self.read(at, "billing_mode", props, "BillingMode", as_str)
            names = self.names(logical, "TableName")
            table_name = self.value(props.get("TableName"))
            name = table_name if isinstance(table_name, str) else logical
            out.append(
                TableFacts(
                    f"{self.name}:{name}",
                    pitr,
                    billing,
                    names=names,
                    located=at.located(),
                )
            )
        return out

    def facts(self, settings_secret: str | None) -> Facts:
        clusters, instances = self.clusters(), self.instances()
        databases = {f.names[0]: f.names for f in (*clusters, *instances)}
        secrets = self.secrets(settings_secret)
        for db in (*clusters, *instances):
            if db.secret == "managed":
                managed = Located(db.located.where, {}, frozenset())
                secrets.append(SecretFacts(f"{db.subject} (RDS-managed)", True, True, 7, managed))
        return Facts(
            tuple(clusters),
            tuple(instances),
            tuple(self.proxies(databases)),
            tuple(secrets),
            tuple(self.dsql()),
            tuple(self.tables()),
        )
