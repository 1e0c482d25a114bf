"""Posture checks on purpose-built moto resources, and the same rules on templates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from harness.plan.load import load_section
from harness.posture import PostureSettings, live_results, template_results
from harness.posture.mode import posture_results, resolve_mode
from harness.results.check import CheckResult, Severity, Status

REGION = "us-east-1"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "rds-to-dsql"


@pytest.fixture(scope="module")
def account() -> Iterator[dict[str, Any]]:
    """One mocked account holding a safe and an unsafe setup, built once per worker."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            patch.setenv(name, value)
        with mock_aws():
            boto3.client("secretsmanager", region_name=REGION).create_secret(
                Name="app/db", SecretString="{}"
            )
            yield {"safe": build(safe=True), "unsafe": build(safe=False)}


def by_id(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def build(*, safe: bool) -> dict[str, Any]:
    """An Aurora cluster, its groups, a DSQL cluster and a table: all safe or all unsafe."""
    tag = "safe" if safe else "unsafe"
    ec2 = boto3.client("ec2", region_name=REGION)
    rds = boto3.client("rds", region_name=REGION)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    app = ec2.create_security_group(GroupName=f"app-fn-{tag}", Description="a", VpcId=vpc)
    other = ec2.create_security_group(GroupName=f"bastion-{tag}", Description="b", VpcId=vpc)
    db = ec2.create_security_group(GroupName=f"db-{tag}", Description="d", VpcId=vpc)["GroupId"]
    to_app = {"GroupId": app["GroupId"]}
    permissions: list[dict[str, Any]] = [
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [to_app]}
    ]
    if not safe:
        everyone = {"CidrIp": "0.0.0.0/0"}
        permissions.append(
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [everyone]}
        )
        permissions.append(
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": other["GroupId"]}]}
        )
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=permissions)
    rds.create_db_cluster(
        DBClusterIdentifier=f"app-db-{tag}",
        Engine="aurora-postgresql",
        MasterUsername="app",
        ManageMasterUserPassword=True,
        StorageEncrypted=safe,
        BackupRetentionPeriod=14 if safe else 1,
        DeletionProtection=safe,
        VpcSecurityGroupIds=[db],
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"app-db-{tag}-1",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
        DBClusterIdentifier=f"app-db-{tag}",
        PubliclyAccessible=not safe,
    )
    cluster = boto3.client("dsql", region_name=REGION).create_cluster(
        deletionProtectionEnabled=safe
    )
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=f"profiles-{tag}",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if safe:
        dynamodb.update_continuous_backups(
            TableName=f"profiles-{tag}",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    return {"dsql": cluster["identifier"], "tag": tag}


def settings(made: dict[str, Any], **extra: Any) -> PostureSettings:
    tag = made["tag"]
    return PostureSettings(
        region=REGION,
        rds_cluster=f"app-db-{tag}",
        app_security_groups=(f"app-fn-{tag}",),
        dsql_cluster=made["dsql"],
        dynamodb_tables=(f"profiles-{tag}",),
        **extra,
    )


def every_check(made: dict[str, Any]) -> set[str]:
    tag = made["tag"]
    return {
        f"storage_encrypted:app-db-{tag}",
        f"backup_retention:app-db-{tag}",
        f"deletion_protection:app-db-{tag}",
        f"not_public:app-db-{tag}",
        f"db_ingress:app-db-{tag}",
        f"dynamodb_pitr:profiles-{tag}",
        f"dsql_cluster:{made['dsql']}",
    }


class TestLiveAccount:
    def test_a_safe_setup_passes_every_check(self, account: dict[str, Any]) -> None:
        made = account["safe"]
        results = by_id(live_results(settings(made)))

        assert set(results) >= every_check(made)
        assert {name: r.status for name, r in results.items()} == dict.fromkeys(
            results, Status.PASS
        )
        assert results[f"dsql_cluster:{made['dsql']}"].evidence["status"] == "ACTIVE"

    def test_an_unsafe_setup_fails_each_check_for_its_own_reason(
        self, account: dict[str, Any]
    ) -> None:
        made = account["unsafe"]
        results = by_id(live_results(settings(made)))

        for name in every_check(made):
            assert results[name].status is Status.FAIL, name
        assert "fewer than 7" in results["backup_retention:app-db-unsafe"].summary
        ingress = results["db_ingress:app-db-unsafe"]
        assert "0.0.0.0/0" in ingress.summary
        assert len(ingress.findings) == 2  # the open range and the all-ports bastion group

    def test_the_managed_secret_is_found_and_rotation_is_reported_not_failed(
        self, account: dict[str, Any]
    ) -> None:
        results = live_results(settings(account["safe"]))
        (secret,) = [r for r in results if r.name.startswith("credentials_secret:")]

        assert "rds!cluster-" in secret.name
        assert secret.status is Status.PASS
        assert secret.evidence["exists"] is True

    def test_rotation_fails_only_when_the_plan_requires_it(self, account: dict[str, Any]) -> None:
        made = account["safe"]
        lenient = by_id(live_results(settings(made, secret="app/db")))
        strict = by_id(live_results(settings(made, secret="app/db", require_rotation=True)))

        assert lenient["credentials_secret:app/db"].status is Status.PASS
        assert lenient["credentials_secret:app/db"].findings[0].severity is Severity.WARNING
        assert strict["credentials_secret:app/db"].status is Status.FAIL

    def test_a_missing_secret_fails(self, account: dict[str, Any]) -> None:
        results = by_id(live_results(settings(account["safe"], secret="no/such/secret")))
        assert results["credentials_secret:no/such/secret"].status is Status.FAIL

    def test_a_cluster_that_does_not_exist_is_an_error_never_a_pass(
        self, account: dict[str, Any]
    ) -> None:
        (result,) = live_results(PostureSettings(region=REGION, rds_cluster="ghost"))
        assert result.status is Status.ERROR
        assert "ghost" in result.summary


class TestTemplates:
    def test_the_example_after_template_passes(self) -> None:
        results = template_results(
            [EXAMPLE / "after" / "cdk.out"], load_section(EXAMPLE / "plan.yaml", "posture")
        )
        names = {r.name.split(":")[0] for r in results}

        assert names == {"dsql_cluster", "dynamodb_pitr"}
        assert {r.status for r in results} == {Status.PASS}

    def test_the_example_before_template_checks_the_aurora_cluster_too(self) -> None:
        results = template_results(
            [EXAMPLE / "before" / "cdk.out"],
            PostureSettings(app_security_groups=("ProfilesFnSecurityGroup5D4C3B2A",)),
        )
        statuses = {r.name.split(":")[0]: r.status for r in results}

        assert statuses["storage_encrypted"] is Status.PASS
        assert statuses["db_ingress"] is Status.PASS
        assert statuses["credentials_secret"] is Status.PASS  # exists; rotation not required
        assert statuses["not_public"] is Status.PASS

    def test_unset_properties_take_the_unsafe_default(self, tmp_path: Path) -> None:
        (tmp_path / "t.yaml").write_text(
            "Resources:\n"
            "  Db:\n    Type: AWS::RDS::DBCluster\n    Properties:\n"
            "      VpcSecurityGroupIds: [!GetAtt Sg.GroupId]\n"
            "  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
            "      SecurityGroupIngress:\n"
            "        - {IpProtocol: tcp, FromPort: 5432, ToPort: 5432, CidrIp: 10.0.0.0/8}\n"
            "  Ledger:\n    Type: AWS::DSQL::Cluster\n"
            "  Table:\n    Type: AWS::DynamoDB::Table\n"
        )
        results = {r.name.split(":")[0]: r for r in template_results([tmp_path], PostureSettings())}

        for check in (
            "storage_encrypted",
            "backup_retention",
            "deletion_protection",
            "db_ingress",
            "dsql_cluster",
            "dynamodb_pitr",
        ):
            assert results[check].status is Status.FAIL, check

    def test_no_template_is_an_error(self, tmp_path: Path) -> None:
        (result,) = template_results([tmp_path], PostureSettings())
        assert result.status is Status.ERROR


class TestMode:
    @pytest.fixture
    def no_credentials(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    @pytest.mark.usefixtures("no_credentials")
    def test_auto_reads_the_templates_when_no_credentials_resolve(self) -> None:
        settings = PostureSettings(templates=(EXAMPLE / "after" / "cdk.out",))
        assert resolve_mode(settings) == "templates"
        results = posture_results(settings)
        assert {r.evidence["mode"] for r in results} == {"templates"}
        assert {r.status for r in results} == {Status.PASS}

    @pytest.mark.usefixtures("no_credentials")
    def test_auto_without_templates_asks_the_account_so_no_account_is_an_error(self) -> None:
        settings = PostureSettings(region=REGION, dynamodb_tables=("profiles",))
        assert resolve_mode(settings) == "account"
        (result,) = posture_results(settings)
        assert result.status is Status.ERROR

    def test_auto_uses_the_account_when_credentials_resolve(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        settings = PostureSettings(templates=(EXAMPLE / "after" / "cdk.out",))
        assert resolve_mode(settings) == "account"

    @pytest.mark.usefixtures("no_credentials")
    def test_a_profile_that_does_not_exist_counts_as_no_account(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
        settings = PostureSettings(templates=(EXAMPLE / "after" / "cdk.out",))
        assert resolve_mode(settings) == "templates"

    def test_an_explicit_mode_is_kept(self) -> None:
        assert resolve_mode(PostureSettings(mode="templates")) == "templates"
