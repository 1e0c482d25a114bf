"""Posture's new checks against an account (moto): a standalone RDS instance, an RDS Proxy,
Serverless v2 capacity and readers, DynamoDB billing; and declarations nothing answers."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from harness.posture import PostureSettings, live_results
from harness.results.check import CheckResult, Status

REGION = "us-east-1"


@pytest.fixture(scope="module")
def account() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            patch.setenv(name, value)
        with mock_aws():
            build()
            yield


def build() -> None:
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_instance(
        DBInstanceIdentifier="pg-safe",
        DBInstanceClass="db.t4g.medium",
        Engine="postgres",
        EngineVersion="15.7",
        StorageEncrypted=True,
        BackupRetentionPeriod=7,
        DeletionProtection=True,
        PubliclyAccessible=False,
        AllocatedStorage=20,
        MasterUsername="a",
        MasterUserPassword="password1234",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="pg-unsafe",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        EngineVersion="14.12",
        StorageEncrypted=False,
        BackupRetentionPeriod=1,
        PubliclyAccessible=True,
        AllocatedStorage=20,
        MasterUsername="a",
        MasterUserPassword="password1234",
    )
    rds.create_db_cluster(
        DBClusterIdentifier="aurora",
        Engine="aurora-postgresql",
        EngineVersion="15.4",
        MasterUsername="a",
        MasterUserPassword="password1234",
        StorageEncrypted=True,
        BackupRetentionPeriod=7,
        DeletionProtection=True,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 16},
    )
    rds.create_db_instance(
        DBInstanceIdentifier="aurora-1",
        DBInstanceClass="db.serverless",
        Engine="aurora-postgresql",
        DBClusterIdentifier="aurora",
    )
    ec2 = boto3.client("ec2", region_name=REGION)
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"][:2]]
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="proxy", SecretString="{}"
    )
    rds.create_db_proxy(
        DBProxyName="proxy",
        EngineFamily="POSTGRESQL",
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": secret["ARN"], "IAMAuth": "DISABLED"}],
        RoleArn="arn:aws:iam::123456789012:role/proxy",
        VpcSubnetIds=subnets,
        RequireTLS=False,
    )
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="provisioned",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


@pytest.mark.usefixtures("account")
class TestAccount:
    def test_a_safe_standalone_instance_passes(self) -> None:
        settings = PostureSettings(
            region=REGION,
            rds_instances=("pg-safe",),
            engine="postgres",
            engine_version="15",
            instance_class="db.t4g.medium",
        )
        results = by_name(live_results(settings))
        assert {n: r.status for n, r in results.items()} == dict.fromkeys(results, Status.PASS)
        assert "engine_version:pg-safe" in results

    def test_an_unsafe_standalone_instance_fails_each_check(self) -> None:
        settings = PostureSettings(
            region=REGION,
            rds_instances=("pg-unsafe",),
            engine_version="15",
            instance_class="db.t4g.medium",
        )
        results = by_name(live_results(settings))
        for check in (
            "storage_encrypted",
            "backup_retention",
            "deletion_protection",
            "not_public",
            "engine_version",
            "instance_class",
        ):
            assert results[f"{check}:pg-unsafe"].status is Status.FAIL, check

    def test_serverless_capacity_and_the_missing_reader_are_findings(self) -> None:
        settings = PostureSettings(
            region=REGION,
            rds_cluster="aurora",
            serverless_v2={"min_acu": 1, "max_acu": 4},
            reader=True,
        )
        results = by_name(live_results(settings))
        assert results["serverless_capacity:aurora"].status is Status.FAIL
        assert "16 ACU, not 4" in results["serverless_capacity:aurora"].summary
        assert results["reader_instance:aurora"].status is Status.FAIL

    def test_the_proxy_is_held_to_tls_iam_and_its_timeouts(self) -> None:
        settings = PostureSettings(
            region=REGION,
            proxy={"name": "proxy", "require_iam_auth": True, "idle_client_timeout_s": 600},
        )
        results = by_name(live_results(settings))
        assert results["proxy_tls:proxy"].status is Status.FAIL
        assert results["proxy_iam_auth:proxy"].status is Status.FAIL
        assert results["proxy_timeouts:proxy"].status is Status.FAIL

    def test_a_provisioned_table_fails_a_declared_on_demand_billing(self) -> None:
        settings = PostureSettings(
            region=REGION, dynamodb_tables=("provisioned",), dynamodb_billing="PAY_PER_REQUEST"
        )
        results = by_name(live_results(settings))
        assert results["dynamodb_billing:provisioned"].status is Status.FAIL
        assert "PROVISIONED" in results["dynamodb_billing:provisioned"].summary

    def test_a_declaration_with_no_subject_named_is_a_finding(self) -> None:
        settings = PostureSettings(region=REGION, engine_version="15", proxy={})
        results = by_name(live_results(settings))
        assert results["no_subject:engine_version"].status is Status.FAIL
        assert results["no_subject:proxy"].status is Status.FAIL

    def test_a_named_instance_that_does_not_exist_is_an_error(self) -> None:
        results = by_name(live_results(PostureSettings(region=REGION, rds_instances=("ghost",))))
        assert results["rds_instance:ghost"].status is Status.ERROR
        assert not [n for n in results if n.startswith("no_subject:")]


def test_plan_settings_are_checked() -> None:
    with pytest.raises(ValueError, match=r"min_acu 8\.0 is above max_acu 4\.0"):
        PostureSettings.model_validate({"serverless_v2": {"min_acu": 8, "max_acu": 4}})
