"""``aurora`` with ``auth: iam``: a fresh RDS IAM token per connection, checked end to end.

The stand-in is :class:`harness.embedded.iam_front.IamFront`: real TLS in front of a real
PostgreSQL, taking the password in clear text inside TLS as RDS does and checking it with the
SigV4 verifier the local DSQL uses (:meth:`TokenVerifier.for_rds`) against the keys
:func:`aws_env` sets; only then does it log in to PostgreSQL as that user. So a token signed
with another key, for another user or port, or expired, is refused as RDS refuses it.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
import yaml
from pydantic import ValidationError

from harness.dsql_local.tokens import SigningIdentity, TokenRejected, TokenVerifier
from harness.embedded.iam_front import IamFront
from harness.embedded.provision import PostgresCluster, self_signed_certificate
from harness.endpoints.resolve import Connector, connect_postgres, resolve
from harness.endpoints.settings import AuroraEndpoint
from harness.errors import EndpointError
from harness.latency.check import check_connect
from harness.latency.health import connections
from harness.latency.settings import ConnectBudget
from harness.results.check import Status
from tests.aws_support import ACCESS_KEY, SECRET_KEY, aws_env, frozen_clock
from tests.conftest import run_cutover

__all__ = ["aws_env"]  # a fixture used by name below

IAM_HOST = "cutover-test.cluster-c9akciq32.us-east-2.rds.amazonaws.com"
IAM_USER = "app_iam"
IAM_DB = "appdb"
NOT_GRANTED = "app_password_only"


@dataclass(frozen=True)
class IamStandIn:
    front: IamFront
    ca_file: Path

    @property
    def port(self) -> int:
        return self.front.port


@pytest.fixture(scope="module")
def iam_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IamStandIn]:
    folder = tmp_path_factory.mktemp("iam")
    cert, key = self_signed_certificate((IAM_HOST, "127.0.0.1"))
    (folder / "ca.crt").write_bytes(cert)
    (folder / "key.pem").write_bytes(key)
    (folder / "key.pem").chmod(0o600)
    with PostgresCluster() as cluster:
        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE ROLE rds_iam")
            conn.execute(f"CREATE ROLE {IAM_USER} LOGIN IN ROLE rds_iam")
            conn.execute(f"CREATE ROLE {NOT_GRANTED} LOGIN")
            conn.execute(f"CREATE DATABASE {IAM_DB} OWNER {IAM_USER}")
        front = IamFront(
            IAM_HOST,
            "us-east-2",
            SigningIdentity(ACCESS_KEY, SECRET_KEY),
            backend_socket=cluster.socket_dir / f".s.PGSQL.{cluster.port}",
            cert_file=folder / "ca.crt",
            key_file=folder / "key.pem",
        ).start()
        try:
            yield IamStandIn(front, folder / "ca.crt")
        finally:
            front.stop()


def iam(standin: IamStandIn, **fields: Any) -> AuroraEndpoint:
    plan = {
        "kind": "aurora",
        "auth": "iam",
        "host": IAM_HOST,
        "hostaddr": "127.0.0.1",
        "port": standin.port,
        "database": IAM_DB,
        "user": IAM_USER,
        "sslmode": "verify-full",
        "sslrootcert": str(standin.ca_file),
        "schema": "public",
    }
    return AuroraEndpoint.model_validate({**plan, **fields})


def resolved(spec: AuroraEndpoint) -> Connector:
    with ExitStack() as resources:
        return resolve(spec, "target", resources)


class TestConnecting:
    def test_a_token_signed_for_host_port_and_user_logs_in_over_verified_tls(
        self, aws_env: None, iam_standin: IamStandIn
    ) -> None:
        connector = resolved(iam(iam_standin))
        with connect_postgres(connector) as conn:
            row = conn.execute("SELECT current_user, current_database()").fetchone()
            assert row == (IAM_USER, IAM_DB)
            assert conn.pgconn.ssl_in_use
        assert connector.evidence["auth"] == "iam"
        assert connector.evidence["region"] == "us-east-2"  # read from the host name
        assert "password" not in connector.address  # the token is made per connection

    def test_every_connection_signs_its_own_token_at_connect_time(
        self, aws_env: None, iam_standin: IamStandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Resolved 20 minutes ago: any token made then has expired; connecting now works.
        frozen_clock(
            monkeypatch,
            datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            - datetime.timedelta(minutes=20),
        )
        connector = resolved(iam(iam_standin))
        monkeypatch.undo()
        aws_reset(monkeypatch)
        done = connections(connector, 5, max_ms=None, allowed_failures=0)
        assert [c.ok for c in done] == [True] * 5
        assert check_connect(done, ConnectBudget(runs=5, max_ms=None)).status is Status.PASS


def aws_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake keys again after ``monkeypatch.undo()`` (which also undid ``aws_env``)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for var in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)


class TestRefusals:
    def test_a_token_signed_with_another_key_is_refused_with_the_hint_and_no_token(
        self, aws_env: None, iam_standin: IamStandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key-the-server-knows")
        connector = resolved(iam(iam_standin))
        connector = Connector(**{**connector.to_dict(), "retry": {"attempts": 1}})
        with pytest.raises(EndpointError) as caught:
            connect_postgres(connector)
        message = str(caught.value)
        assert f'PAM authentication failed for user "{IAM_USER}"' in message
        assert "rds-db:connect" in message
        assert "rds_iam" in message
        assert "X-Amz-Signature" not in message

    def test_a_sound_token_for_a_user_not_granted_rds_iam_is_refused(
        self, aws_env: None, iam_standin: IamStandIn
    ) -> None:
        connector = resolved(iam(iam_standin, user=NOT_GRANTED))
        connector = Connector(**{**connector.to_dict(), "retry": {"attempts": 1}})
        with pytest.raises(
            EndpointError, match=f'PAM authentication failed for user "{NOT_GRANTED}"'
        ):
            connect_postgres(connector)

    def test_an_expired_token_is_refused(
        self, aws_env: None, iam_standin: IamStandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        frozen_clock(
            monkeypatch,
            datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            - datetime.timedelta(minutes=16),
        )
        connector = resolved(iam(iam_standin))
        connector = Connector(**{**connector.to_dict(), "retry": {"attempts": 1}})
        with pytest.raises(EndpointError, match="PAM authentication failed"):
            connect_postgres(connector)

    def test_a_token_for_another_user_does_not_log_in_as_this_one(
        self, aws_env: None, iam_standin: IamStandIn
    ) -> None:
        verifier = TokenVerifier.for_rds(
            IAM_HOST, iam_standin.port, "us-east-2", SigningIdentity(ACCESS_KEY, SECRET_KEY)
        )
        token = rds_token(IAM_HOST, iam_standin.port, "someone_else")
        verifier.verify(token, "someone_else")  # the token itself is sound
        with pytest.raises(TokenRejected, match="database user 'someone_else', not 'app_iam'"):
            verifier.verify(token, IAM_USER)
        with pytest.raises(TokenRejected, match="not 'cutover-test"):
            verifier.verify(rds_token(IAM_HOST, iam_standin.port + 1, IAM_USER), IAM_USER)

    def test_a_dsql_token_is_no_rds_token(self, aws_env: None) -> None:
        verifier = TokenVerifier.for_rds(
            "db.example.com", 5432, "us-east-1", SigningIdentity(ACCESS_KEY, SECRET_KEY)
        )
        dsql = boto3.session.Session().client("dsql", region_name="us-east-1")
        token = dsql.generate_db_connect_auth_token(Hostname="db.example.com", Region="us-east-1")
        with pytest.raises(TokenRejected):
            verifier.verify(token, "app")


def rds_token(host: str, port: int, user: str) -> str:
    """A token as boto3 makes one, independently of the harness."""
    client = boto3.session.Session().client("rds", region_name="us-east-2")
    token: str = client.generate_db_auth_token(
        DBHostname=host, Port=port, DBUsername=user, Region="us-east-2"
    )
    return token


class TestThePlan:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"secret": "rds!cluster-x"}, "auth: iam takes no 'secret'"),
            ({"user": None}, "auth: iam needs 'host'"),
            ({"host": None}, "auth: iam needs 'host'"),
            ({"password": "x"}, "'password' is not allowed here"),
        ],
        ids=["with-a-secret", "no-user", "no-host", "a-password"],
    )
    def test_a_bad_combination_is_one_clear_line(
        self, fields: dict[str, Any], message: str
    ) -> None:
        plan = {"kind": "aurora", "auth": "iam", "host": IAM_HOST, "user": IAM_USER, **fields}
        plan = {key: value for key, value in plan.items() if value is not None}
        with pytest.raises(ValidationError, match=message):
            AuroraEndpoint.model_validate(plan)

    def test_a_user_without_auth_iam_is_still_refused(self) -> None:
        with pytest.raises(ValidationError, match="'user' is not allowed here"):
            AuroraEndpoint.model_validate({"kind": "aurora", "host": IAM_HOST, "user": "u"})

    def test_no_region_anywhere_stops_the_run_with_the_fix(self, aws_env: None) -> None:
        spec = AuroraEndpoint.model_validate(
            {"kind": "aurora", "auth": "iam", "host": "db.internal", "user": IAM_USER}
        )
        with pytest.raises(EndpointError, match=r"set target\.region in the plan"):
            resolved(spec)


class TestAVerifyRun:
    """`cutover verify` in a subprocess: a target-only plan on the IAM stand-in, N fresh
    connections each with its own token through TLS, as a greenfield Aurora is checked."""

    def test_a_greenfield_aurora_with_iam_is_go_and_a_wrong_key_is_not(
        self,
        aws_env: None,
        iam_standin: IamStandIn,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        target = {
            "kind": "aurora",
            "auth": "iam",
            "host": IAM_HOST,
            "hostaddr": "127.0.0.1",
            "port": iam_standin.port,
            "database": IAM_DB,
            "user": IAM_USER,
            "sslmode": "verify-full",
            "sslrootcert": str(iam_standin.ca_file),
        }
        plan = {
            "name": "greenfield-aurora",
            "target": target,
            "latency": {"connect": {"runs": 20, "min_success_rate": 0.95}, "health": None},
        }
        (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
        done = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=tmp_path)
        results = json.loads((tmp_path / "out" / "results.json").read_text())
        statuses = {c["id"]: c["status"] for c in results["checks"]}
        assert done.returncode == 0, done.stdout + done.stderr
        assert statuses["connectivity[target]"] == statuses["latency[connect]"] == "pass"
        connect = next(c for c in results["checks"] if c["id"] == "latency[connect]")
        assert connect["evidence"]["strip"] == "1" * 20
        assert "X-Amz-Signature" not in (tmp_path / "out" / "results.json").read_text()

        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key-the-server-knows")
        refused = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out2", cwd=tmp_path)
        assert refused.returncode == 2
        assert "PAM authentication failed" in refused.stderr
        assert "X-Amz-Signature" not in refused.stdout + refused.stderr


class TestTheReader:
    def test_the_reader_gets_a_token_for_its_own_name(self, aws_env: None) -> None:
        from harness.endpoints.aurora import make_token

        reader_host = IAM_HOST.replace(".cluster-", ".cluster-ro-")
        spec = AuroraEndpoint.model_validate(
            {
                "kind": "aurora",
                "auth": "iam",
                "host": IAM_HOST,
                "reader_host": reader_host,
                "user": IAM_USER,
            }
        )
        connector = resolved(spec)
        assert connector.token is not None
        identity = SigningIdentity(ACCESS_KEY, SECRET_KEY)
        token = make_token(connector.token, "target", reader=True)
        TokenVerifier.for_rds(reader_host, 5432, "us-east-2", identity).verify(token, IAM_USER)
        with pytest.raises(TokenRejected, match=re.escape(f"not '{IAM_HOST}:5432'")):
            TokenVerifier.for_rds(IAM_HOST, 5432, "us-east-2", identity).verify(token, IAM_USER)
