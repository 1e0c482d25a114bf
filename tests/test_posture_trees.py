"""Posture on IaC trees written as real projects write them: one migrated and one insecure
tree in each of CloudFormation (several templates, parameters), Terraform (root and child
modules, variables, terraform.tfvars, module outputs) and CDK TypeScript source (no cdk.out).

The migrated tree passes every check the plan declares; the insecure one fails each promise
once, and each finding names the file and line where the fix belongs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.posture import PostureSettings, template_results
from harness.results.check import CheckResult, Status

DATA = Path(__file__).parent / "data"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "rds-to-dsql"

PLAN: dict[str, Any] = {
    "app_security_groups": ["app-lambda"],
    "engine": "postgres",
    "engine_version": "15",
    "require_kms_key": True,
    "serverless_v2": {"min_acu": 1, "max_acu": 4},
    "reader": True,
    "proxy": {
        "require_iam_auth": True,
        "borrow_timeout_s": 5,
        "idle_client_timeout_s": 600,
        "target": "app-aurora",
    },
    "dynamodb_tables": ["app-sessions"],
    "dynamodb_billing": "PAY_PER_REQUEST",
    "require_rotation": True,
}
"""The posture section every tree is checked against (its seeds' promises)."""

FLAVOURS = ("cfn", "terraform", "cdk")

BROKEN: dict[str, dict[tuple[str, str], str]] = {
    "cfn": {
        ("storage_encrypted", "database.yaml:ReportingDb"): "infra/database.yaml:47",
        ("backup_retention", "database.yaml:ReportingDb"): "infra/database.yaml:48",
        ("deletion_protection", "database.yaml:ReportingDb"): "infra/database.yaml:38",
        ("not_public", "database.yaml:ReportingDb"): "infra/database.yaml:49",
        ("db_ingress", "database.yaml:ReportingDb"): "infra/database.yaml:33",
        ("engine_version", "database.yaml:ReportingDb"): "infra/database.yaml:44",
        ("serverless_capacity", "aurora.yaml:AppCluster"): "infra/aurora.yaml:44",
        ("reader_instance", "aurora.yaml:AppCluster"): "infra/aurora.yaml:28",
        ("proxy_tls", "aurora.yaml:AppProxy"): "infra/aurora.yaml:72",
        ("proxy_iam_auth", "aurora.yaml:AppProxy"): "infra/aurora.yaml:75",
        ("proxy_timeouts", "aurora.yaml:AppProxy"): "infra/aurora.yaml:88",
        ("credentials_secret", "aurora.yaml:ProxySecret"): "infra/aurora.yaml:54",
        ("dynamodb_pitr", "tables.json:app-sessions"): "infra/tables.json:11",
        ("dynamodb_billing", "tables.json:app-sessions"): "infra/tables.json:8",
    },
    "terraform": {
        ("storage_encrypted", "aws_db_instance.this"): "main.tf:14",
        ("engine_version", "aws_db_instance.this"): "main.tf:15",
        ("not_public", "aws_db_instance.this"): "main.tf:16",
        ("deletion_protection", "aws_db_instance.this"): "main.tf:17",
        ("backup_retention", "aws_db_instance.this"): "terraform.tfvars:2",
        ("db_ingress", "aws_db_instance.this"): "modules/postgres/main.tf:15",
        ("serverless_capacity", "aws_rds_cluster.this"): "main.tf:28",
        ("reader_instance", "aws_rds_cluster.this"): "modules/aurora/main.tf:43",
        ("proxy_tls", "aws_db_proxy.app"): "main.tf:38",
        ("proxy_iam_auth", "aws_db_proxy.app"): "main.tf:43",
        ("proxy_timeouts", "aws_db_proxy.app"): "main.tf:54",
        ("credentials_secret", "aws_secretsmanager_secret.db"): "data.tf:18",
        ("dynamodb_pitr", "data.tf:app-sessions"): "data.tf:14",
        ("dynamodb_billing", "data.tf:app-sessions"): "data.tf:3",
    },
    "cdk": {
        ("storage_encrypted", "ts:Reporting"): "lib/database-stack.ts:23",
        ("backup_retention", "ts:Reporting"): "lib/database-stack.ts:31",
        ("deletion_protection", "ts:Reporting"): "lib/database-stack.ts:23",
        ("not_public", "ts:Reporting"): "lib/database-stack.ts:23",
        ("db_ingress", "ts:Reporting"): "lib/database-stack.ts:35",
        ("engine_version", "ts:Reporting"): "lib/database-stack.ts:25",
        ("serverless_capacity", "ts:AppCluster"): "lib/database-stack.ts:44",
        ("reader_instance", "ts:AppCluster"): "lib/database-stack.ts:38",
        ("proxy_tls", "ts:AppProxy"): "lib/database-stack.ts:58",
        ("proxy_iam_auth", "ts:AppProxy"): "lib/database-stack.ts:54",
        ("proxy_timeouts", "ts:AppProxy"): "lib/database-stack.ts:54",
        ("credentials_secret", "ts:Reporting (generated credentials)"): "lib/database-stack.ts:23",
        ("dynamodb_pitr", "data-stack.ts:app-sessions"): "lib/data-stack.ts:9",
        ("dynamodb_billing", "data-stack.ts:app-sessions"): "lib/data-stack.ts:12",
    },
}
"""Per flavour: (check, the end of its subject) → the file:line its finding must name."""


def tree(flavour: str, state: str) -> Path:
    return DATA / f"posture-{flavour}" / state


def run(path: Path, **extra: Any) -> list[CheckResult]:
    return template_results([path], PostureSettings.model_validate({**PLAN, **extra}))


def failing(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results if r.status is not Status.PASS}


@pytest.mark.parametrize("flavour", FLAVOURS)
class TestTrees:
    def test_the_migrated_tree_passes_every_declared_check(self, flavour: str) -> None:
        results = run(tree(flavour, "migrated"))
        checks = {r.name.split(":")[0] for r in results}

        assert failing(results) == {}
        assert {
            "storage_encrypted",
            "backup_retention",
            "not_public",
            "db_ingress",
            "engine_version",
            "serverless_capacity",
            "reader_instance",
            "proxy_tls",
            "proxy_iam_auth",
            "proxy_timeouts",
            "proxy_target",
            "credentials_secret",
            "dynamodb_pitr",
            "dynamodb_billing",
        } <= checks

    def test_a_standalone_instance_and_a_cluster_are_both_subjects(self, flavour: str) -> None:
        results = run(tree(flavour, "migrated"))
        encrypted = [r for r in results if r.name.startswith("storage_encrypted:")]
        assert len(encrypted) == 2

    def test_the_insecure_tree_fails_each_promise_naming_file_and_line(self, flavour: str) -> None:
        failed = failing(run(tree(flavour, "insecure")))
        expected = BROKEN[flavour]

        found = {
            (check, tail): name
            for check, tail in expected
            for name in failed
            if name.startswith(f"{check}:") and name.endswith(tail)
        }
        assert set(found) == set(expected), sorted(failed)
        for key, name in found.items():
            messages = [f.message for f in failed[name].findings if f.blocking]
            assert any(f"insecure/{expected[key]}: " in m for m in messages), (key, messages)
        assert len(failed) == len(expected), sorted(set(failed) - set(found.values()))

    def test_without_declarations_only_the_always_on_checks_run(self, flavour: str) -> None:
        results = template_results([tree(flavour, "migrated")], PostureSettings())
        checks = {r.name.split(":")[0] for r in results}
        assert not checks & {"engine_version", "serverless_capacity", "proxy_iam_auth"}
        assert "proxy_tls" in checks


class TestTheIssueExample:
    def test_a_lone_insecure_db_instance_is_no_go_naming_each_finding(self, tmp_path: Path) -> None:
        (tmp_path / "db.yaml").write_text(
            "Resources:\n"
            "  Db:\n"
            "    Type: AWS::RDS::DBInstance\n"
            "    Properties:\n"
            "      Engine: postgres\n"
            "      StorageEncrypted: false\n"
            "      BackupRetentionPeriod: 1\n"
            "      PubliclyAccessible: true\n",
            encoding="utf-8",
        )
        failed = failing(template_results([tmp_path], PostureSettings()))
        messages = {n.split(":")[0]: r.summary for n, r in failed.items()}

        assert messages["storage_encrypted"].startswith(f"{tmp_path.name}/db.yaml:6: ")
        assert messages["backup_retention"].startswith(f"{tmp_path.name}/db.yaml:7: ")
        assert messages["not_public"].startswith(f"{tmp_path.name}/db.yaml:8: ")
        assert "deletion_protection" in messages


class TestDeclaredButAbsent:
    def test_each_declaration_without_a_subject_is_its_own_finding(self) -> None:
        results = run(EXAMPLE / "after" / "cdk.out", dynamodb_tables=["lexicon-profiles", "nope"])
        missing = {r.name for r in results if r.name.startswith("no_subject:")}

        assert missing == {
            "no_subject:engine",
            "no_subject:serverless_v2",
            "no_subject:reader",
            "no_subject:proxy",
            "no_subject:require_rotation",
            "no_subject:dynamodb_tables.nope",
        }
        for result in results:
            if result.name in missing:
                assert result.status is Status.FAIL
                assert "was found in" in result.summary

    def test_a_declared_table_matches_by_its_name(self) -> None:
        results = template_results(
            [EXAMPLE / "after" / "cdk.out"],
            PostureSettings(dynamodb_tables=("lexicon-profiles",)),
        )
        assert not [r for r in results if r.name.startswith("no_subject:")]


class TestCdkSourceBesideCdkOut:
    def test_source_is_read_only_when_no_cdk_out_is_beside_it(self) -> None:
        whole = template_results([EXAMPLE / "after"], PostureSettings())
        assert {r.name.split(":", 1)[1].split("/")[1] for r in whole} == {"cdk.out"}

    def test_python_cdk_source_is_read_too(self, tmp_path: Path) -> None:
        (tmp_path / "cdk.json").write_text('{"app": "python3 app.py"}', encoding="utf-8")
        (tmp_path / "stack.py").write_text(
            "from aws_cdk import Duration, Stack\n"
            "from aws_cdk import aws_rds as rds, aws_ec2 as ec2\n"
            "\n"
            "class Db(Stack):\n"
            "    def __init__(self, scope, id, **kwargs):\n"
            "        super().__init__(scope, id, **kwargs)\n"
            "        rds.DatabaseInstance(\n"
            '            self, "Reporting",\n'
            "            engine=rds.DatabaseInstanceEngine.postgres(\n"
            "                version=rds.PostgresEngineVersion.VER_15_7),\n"
            "            instance_type=ec2.InstanceType.of(\n"
            "                ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),\n"
            "            storage_encrypted=True,\n"
            "            backup_retention=Duration.days(3),  # too few\n"
            "            deletion_protection=True,\n"
            "        )\n",
            encoding="utf-8",
        )
        settings = PostureSettings(engine_version="15", instance_class="db.t4g.medium")
        results = {r.name.split(":")[0]: r for r in template_results([tmp_path], settings)}

        assert results["storage_encrypted"].status is Status.PASS
        assert results["engine_version"].status is Status.PASS
        assert results["instance_class"].status is Status.PASS
        assert re.match(rf"{tmp_path.name}/stack.py:14: ", results["backup_retention"].summary)


class TestInstanceClass:
    @pytest.mark.parametrize("flavour", FLAVOURS)
    def test_a_declared_class_fails_an_instance_of_another(self, flavour: str) -> None:
        settings = PostureSettings(instance_class="db.r6g.large")
        results = template_results([tree(flavour, "migrated")], settings)
        classes = [r for r in results if r.name.startswith("instance_class:")]

        assert classes
        assert {r.status for r in classes} == {Status.FAIL}
        instance = next(r for r in classes if "db.t4g.medium" in r.summary)
        assert "not db.r6g.large" in instance.summary
