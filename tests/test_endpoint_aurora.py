"""``aurora`` endpoints: credentials from a moto Secrets Manager, a real password-checking
PostgreSQL behind real TLS standing in for the cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from harness.endpoints.connectivity import check_connect, check_reader
from harness.endpoints.resolve import Connector, connect_postgres, resolve
from harness.endpoints.settings import AuroraEndpoint
from harness.errors import EndpointError
from tests.aws_support import (
    APP_DB,
    APP_USER,
    REGION,
    SECRET_ID,
    StandIn,
    aws_env,
    put_secret,
    standin,
)

__all__ = ["aws_env", "standin"]  # fixtures used by name below


@pytest.fixture
def sm(aws_env: None) -> Iterator[Any]:
    """An in-process moto Secrets Manager in the secret's region."""
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def aurora(**fields: Any) -> AuroraEndpoint:
    return AuroraEndpoint.model_validate({"kind": "aurora", **fields})


def resolved(spec: AuroraEndpoint, role: str = "target") -> Connector:
    with ExitStack() as resources:
        return resolve(spec, role, resources)


def rds_secret(standin: StandIn, **extra: Any) -> dict[str, Any]:
    return {"username": APP_USER, "password": standin.app_password, **extra}


class TestSecretShapes:
    def test_an_rds_managed_secret_with_host_from_the_plan_connects_over_tls(
        self, sm: Any, standin: StandIn
    ) -> None:
        put_secret(sm, rds_secret(standin))
        spec = aurora(
            secret=SECRET_ID,
            region=REGION,
            host="127.0.0.1",
            port=standin.tls_port,
            database=APP_DB,
        )
        with connect_postgres(resolved(spec)) as conn:
            assert conn.execute("SELECT current_user, current_database()").fetchone() == (
                APP_USER,
                APP_DB,
            )
            assert conn.pgconn.ssl_in_use

    def test_a_secret_with_host_port_and_dbname_needs_nothing_else(
        self, sm: Any, standin: StandIn
    ) -> None:
        put_secret(
            sm,
            rds_secret(
                standin, host="127.0.0.1", port=standin.tls_port, dbname=APP_DB, engine="postgres"
            ),
        )
        connector = resolved(aurora(secret=SECRET_ID, region=REGION))
        with connect_postgres(connector) as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone() == (2,)
        assert connector.evidence["secret_shape"] == "json"

    def test_a_connection_string_in_a_json_field(self, sm: Any, standin: StandIn) -> None:
        url = (
            f"postgresql://{APP_USER}:{standin.app_password}@127.0.0.1:{standin.tls_port}/{APP_DB}"
        )
        put_secret(sm, {"url": url})
        connector = resolved(aurora(secret=SECRET_ID, region=REGION))
        with connect_postgres(connector) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (APP_USER,)
        assert connector.evidence["secret_shape"] == "connection-string"

    def test_a_plain_connection_string_secret(self, sm: Any, standin: StandIn) -> None:
        url = (
            f"postgresql://{APP_USER}:{standin.app_password}@127.0.0.1:{standin.tls_port}/{APP_DB}"
        )
        put_secret(sm, url)
        with connect_postgres(resolved(aurora(secret=SECRET_ID, region=REGION))) as conn:
            assert conn.pgconn.ssl_in_use

    def test_the_plan_host_wins_over_the_secret_host(self, sm: Any, standin: StandIn) -> None:
        put_secret(sm, rds_secret(standin, host="old-cluster.invalid", port=1, dbname=APP_DB))
        spec = aurora(secret=SECRET_ID, region=REGION, host="127.0.0.1", port=standin.tls_port)
        with connect_postgres(resolved(spec)) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (APP_DB,)


class TestOverrides:
    def test_the_side_variable_beats_the_global_one_and_the_plan(
        self, sm: Any, standin: StandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        put_secret(sm, rds_secret(standin, host="127.0.0.1", port=standin.tls_port), "side")
        monkeypatch.setenv("CUTOVER_TARGET_SECRET_ID", "side")
        monkeypatch.setenv("CUTOVER_SECRET_ID", "global-missing")
        connector = resolved(aurora(secret="plan-missing", region=REGION))
        assert connector.evidence["secret_id"] == "side"
        assert connector.evidence["secret_from"] == "CUTOVER_TARGET_SECRET_ID"

    def test_the_global_variable_beats_the_plan(
        self, sm: Any, standin: StandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        put_secret(sm, rds_secret(standin, host="127.0.0.1", port=standin.tls_port), "global")
        monkeypatch.setenv("CUTOVER_SECRET_ID", "global")
        connector = resolved(aurora(secret="plan-missing", region=REGION))
        assert connector.evidence["secret_from"] == "CUTOVER_SECRET_ID"

    def test_aws_region_beats_the_plan_region(
        self, sm: Any, standin: StandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        put_secret(sm, rds_secret(standin, host="127.0.0.1", port=standin.tls_port))
        monkeypatch.setenv("AWS_REGION", REGION)
        connector = resolved(aurora(secret=SECRET_ID, region="eu-west-1"))
        assert (connector.evidence["region"], connector.evidence["region_from"]) == (
            REGION,
            "AWS_REGION",
        )

    def test_the_side_region_beats_aws_region(
        self, sm: Any, standin: StandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        put_secret(sm, rds_secret(standin, host="127.0.0.1", port=standin.tls_port))
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        monkeypatch.setenv("CUTOVER_TARGET_REGION", REGION)
        connector = resolved(aurora(secret=SECRET_ID))
        assert connector.evidence["region_from"] == "CUTOVER_TARGET_REGION"

    def test_the_region_of_a_secret_arn_is_used(self, sm: Any, standin: StandIn) -> None:
        arn = sm.create_secret(
            Name="by-arn",
            SecretString=f'{{"username": "{APP_USER}", "password": "{standin.app_password}"}}',
        )["ARN"]
        connector = resolved(aurora(secret=arn, host="127.0.0.1", port=standin.tls_port))
        assert connector.evidence["region_from"] == "secret ARN"

    def test_the_resolved_endpoint_is_shown_redacted(self, sm: Any, standin: StandIn) -> None:
        put_secret(sm, rds_secret(standin))
        spec = aurora(secret=SECRET_ID, region=REGION, host="127.0.0.1", port=standin.tls_port)
        connector = resolved(spec)
        assert connector.display == (
            f"aurora: postgresql://{APP_USER}@127.0.0.1:{standin.tls_port}/postgres"
            f"?sslmode=require (secret '{SECRET_ID}' in {REGION})"
        )
        assert standin.app_password not in repr(connector)
        assert standin.app_password not in str(connector.evidence)


def _verify_full(standin: StandIn, host: str) -> Any:
    """An aurora endpoint named ``host`` (reached at 127.0.0.1) checking the stand-in's
    certificate against that name."""
    return aurora(
        secret=SECRET_ID,
        region=REGION,
        host=host,
        hostaddr="127.0.0.1",
        port=standin.tls_port,
        sslmode="verify-full",
        sslrootcert=str(standin.cluster.ca_file),
    )


class TestTls:
    def test_verify_full_checks_the_certificate_against_the_host(
        self, sm: Any, standin: StandIn
    ) -> None:
        put_secret(sm, rds_secret(standin))
        with connect_postgres(resolved(_verify_full(standin, "localhost"))) as conn:
            assert conn.pgconn.ssl_in_use

    def test_verify_full_refuses_a_certificate_for_another_name(
        self, sm: Any, standin: StandIn
    ) -> None:
        put_secret(sm, rds_secret(standin))
        spec = _verify_full(standin, "cluster.example.internal")
        with pytest.raises(EndpointError, match="TLS certificate was not accepted"):
            connect_postgres(resolved(spec))

    def test_verify_full_without_a_ca_bundle_is_a_plan_error(self) -> None:
        with pytest.raises(ValidationError, match="sslmode verify-full needs 'sslrootcert'"):
            aurora(secret=SECRET_ID, sslmode="verify-full")


class TestPlanRejectsCredentials:
    @pytest.mark.parametrize("key", ["password", "username", "user", "dsn"])
    def test_credentials_in_the_plan_are_refused(self, key: str) -> None:
        with pytest.raises(
            ValidationError,
            match=f"'{key}' is not allowed here: credentials never go in the plan; store them "
            "in the Secrets Manager secret named by 'secret'",
        ):
            aurora(secret=SECRET_ID, **{key: "x"})


class TestReader:
    def test_a_reader_that_is_the_writer_answers_the_same_with_zero_lag(
        self, sm: Any, standin: StandIn
    ) -> None:
        put_secret(sm, rds_secret(standin, dbname=APP_DB))
        spec = aurora(
            secret=SECRET_ID,
            region=REGION,
            host="127.0.0.1",
            reader_host="localhost",
            port=standin.tls_port,
        )
        result = check_reader(resolved(spec))
        assert result.status.value == "pass", result.summary
        assert result.evidence["replica_lag_s"] == 0.0
        assert result.evidence["reader"]["tables"] == 1
        assert result.evidence["reader_dsn"].startswith(f"postgresql://{APP_USER}@localhost:")

    def test_a_reader_on_another_database_is_reported(self, sm: Any, standin: StandIn) -> None:
        # The reader endpoint resolves to a server whose catalog differs: a different database.
        put_secret(sm, rds_secret(standin, dbname=APP_DB))
        spec = aurora(
            secret=SECRET_ID,
            region=REGION,
            host="127.0.0.1",
            reader_host="localhost",
            port=standin.tls_port,
        )
        connector = resolved(spec)
        assert connector.reader_address is not None
        other = connector.reader_address.replace(f"dbname={APP_DB}", "dbname=postgres")
        broken = Connector(**{**connector.to_dict(), "reader_address": other})
        result = check_reader(broken)
        assert result.status.value == "fail"
        assert "the reader answers differently from the writer (database" in result.summary


class TestConnectCheck:
    def test_the_check_records_version_endpoint_and_attempts(
        self, sm: Any, standin: StandIn
    ) -> None:
        put_secret(sm, rds_secret(standin))
        spec = aurora(secret=SECRET_ID, region=REGION, host="127.0.0.1", port=standin.tls_port)
        result = check_connect(resolved(spec), budget_s=30)
        assert result.status.value == "pass"
        assert result.evidence["server_version"].startswith("PostgreSQL 16")
        assert result.evidence["tls"] is True
        assert result.evidence["endpoint"]["secret_id"] == SECRET_ID
        assert [a["outcome"] for a in result.evidence["attempts"]] == ["ok"]

    def test_a_connect_over_the_budget_fails_the_check(self, sm: Any, standin: StandIn) -> None:
        put_secret(sm, rds_secret(standin))
        spec = aurora(secret=SECRET_ID, region=REGION, host="127.0.0.1", port=standin.tls_port)
        result = check_connect(resolved(spec), budget_s=0.0)  # no connect takes zero seconds
        assert result.status.value == "fail"
        assert "over the 0 s connect budget (PostgreSQL 16" in result.summary
