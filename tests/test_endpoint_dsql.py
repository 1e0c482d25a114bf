"""``dsql`` endpoints: the IAM token boto3 signs is the password that reaches the server.

With static credentials and botocore's clock pinned, a token is deterministic; the stand-in
server's role is given exactly that token as its password, and the socket goes to 127.0.0.1
through ``hostaddr`` while the token is signed for (and TLS verifies) the DSQL host name.
"""

from __future__ import annotations

import datetime
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from harness.endpoints.resolve import Connector, connect_postgres, resolve
from harness.endpoints.settings import DsqlEndpoint
from harness.errors import EndpointError
from tests.aws_support import (
    DSQL_HOST,
    DSQL_ID,
    FROZEN,
    StandIn,
    aws_env,
    dsql_token,
    frozen_clock,
    standin,
)

__all__ = ["aws_env", "standin"]  # fixtures used by name below


def dsql(**fields: Any) -> DsqlEndpoint:
    return DsqlEndpoint.model_validate({"kind": "dsql", **fields})


def resolved(spec: DsqlEndpoint, role: str = "target") -> Connector:
    with ExitStack() as resources:
        return resolve(spec, role, resources)


def tunnelled(standin: StandIn, **fields: Any) -> DsqlEndpoint:
    return dsql(
        endpoint=DSQL_HOST,
        hostaddr="127.0.0.1",
        port=standin.tls_port,
        sslmode="verify-full",
        sslrootcert=str(standin.cluster.ca_file),
        **fields,
    )


class TestToken:
    def test_the_admin_token_reaches_the_server_as_the_password(
        self, aws_env: None, standin: StandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        frozen_clock(monkeypatch)
        standin.set_password("admin", dsql_token(admin=True))
        with connect_postgres(resolved(tunnelled(standin))) as conn:
            assert conn.execute("SELECT current_user, current_database()").fetchone() == (
                "admin",
                "postgres",
            )
            assert conn.pgconn.ssl_in_use

    def test_direct_tls_negotiation_carries_the_token_too(
        self, aws_env: None, standin: StandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        frozen_clock(monkeypatch)
        standin.set_password("admin", dsql_token(admin=True))
        connector = resolved(tunnelled(standin, sslnegotiation="direct"))
        assert "sslnegotiation=direct" in connector.display
        with connect_postgres(connector) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("admin",)
            assert conn.pgconn.ssl_in_use

    def test_a_token_signed_at_another_time_is_refused(
        self, aws_env: None, standin: StandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        frozen_clock(monkeypatch)
        standin.set_password("admin", dsql_token(admin=True))
        connector = resolved(tunnelled(standin))
        # A fresh token per connection: one minute later the planted token no longer matches.
        frozen_clock(monkeypatch, FROZEN + datetime.timedelta(minutes=1))
        with pytest.raises(EndpointError) as info:
            connect_postgres(connector)
        message = str(info.value)
        assert message.startswith("target: cannot connect: wrong user name or password")
        assert "the IAM token for role 'admin' was refused: check the AWS credentials in use " in (
            message
        )
        assert "dsql:DbConnectAdmin" in message

    def test_a_custom_role_gets_a_dbconnect_token(
        self, aws_env: None, standin: StandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        frozen_clock(monkeypatch)
        token = dsql_token(admin=False, expires_in=3600)
        assert parse_qs(urlsplit("https://" + token).query)["Action"] == ["DbConnect"]
        standin.set_password("app_reader", token)
        spec = tunnelled(standin, role="app_reader", expires_in=3600)
        with connect_postgres(resolved(spec)) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("app_reader",)

    def test_the_expiry_is_signed_into_the_token(
        self, aws_env: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from harness.endpoints.dsql import make_token

        frozen_clock(monkeypatch)
        connector = resolved(dsql(endpoint=DSQL_HOST, expires_in=1234))
        assert connector.token is not None
        token = make_token(connector.token, "target")
        assert token == dsql_token(admin=True, expires_in=1234)
        assert parse_qs(urlsplit("https://" + token).query)["X-Amz-Expires"] == ["1234"]

    def test_no_credentials_is_one_line_naming_what_to_set(
        self, aws_env: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        with pytest.raises(
            EndpointError,
            match=f"target: cannot sign a DSQL auth token for {DSQL_HOST}: no usable AWS "
            r"credentials \(NoCredentialsError\) — set AWS_PROFILE or AWS_ACCESS_KEY_ID",
        ):
            resolved(dsql(endpoint=DSQL_HOST))


class TestPlan:
    def test_cluster_id_and_region_name_the_same_endpoint(self) -> None:
        spec = dsql(cluster_id=DSQL_ID, region="us-east-1")
        assert spec.hostname == DSQL_HOST
        assert spec.signing_region == "us-east-1"

    def test_the_region_comes_from_the_endpoint_name(self) -> None:
        assert dsql(endpoint=DSQL_HOST).signing_region == "us-east-1"

    def test_the_display_and_evidence_hold_no_token(self, aws_env: None) -> None:
        connector = resolved(dsql(endpoint=DSQL_HOST))
        assert connector.display == (
            f"dsql: postgresql://admin@{DSQL_HOST}:5432/postgres?sslmode=require "
            "(IAM token, us-east-1)"
        )
        assert "X-Amz" not in repr(connector.to_dict())

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"endpoint": "mydb.cluster-x.us-east-1.rds.amazonaws.com"}, "is not a DSQL endpoint"),
            ({}, "give exactly one of 'endpoint' or 'cluster_id'"),
            ({"cluster_id": DSQL_ID}, "'cluster_id' needs 'region'"),
            ({"endpoint": DSQL_HOST, "expires_in": 604_801}, "less than or equal to 604800"),
            ({"endpoint": DSQL_HOST, "password": "x"}, "credentials never go in the plan; DSQL"),
            ({"endpoint": DSQL_HOST, "database": "app"}, "Input should be 'postgres'"),
        ],
    )
    def test_bad_dsql_endpoints_are_refused(self, fields: dict[str, Any], message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            dsql(**fields)
