"""Every way reaching Aurora or DSQL fails has a one-line message naming what to check, and
``cutover verify`` runs against a moto-backed ``aurora`` target and a ``dsql`` target."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from harness.dsql_local import DsqlLocal
from harness.endpoints.resolve import Connector, connect_postgres, resolve
from harness.endpoints.settings import AuroraEndpoint, ConnectSettings
from harness.errors import EndpointError
from tests.aws_support import (
    APP_DB,
    APP_USER,
    DSQL_HOST,
    REGION,
    SECRET_ID,
    FlakyAws,
    StandIn,
    aws_env,
    dsql_cluster,
    moto_server,
    put_secret,
    run_verify,
    sqlite_source,
    standin,
)

__all__ = ["aws_env", "dsql_cluster", "moto_server", "standin"]  # fixtures used by name below

FAST = ConnectSettings.model_validate(
    {"connect_timeout_s": 3, "retry": {"initial_s": 0.01, "cap_s": 0.05, "attempts": 3}}
)


@pytest.fixture
def sm(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def aurora(**fields: Any) -> AuroraEndpoint:
    return AuroraEndpoint.model_validate(
        {"kind": "aurora", "secret": SECRET_ID, "region": REGION, **fields}
    )


def resolved(spec: AuroraEndpoint) -> Connector:
    with ExitStack() as resources:
        return resolve(spec, "target", resources, connect=FAST)


def failure(spec: AuroraEndpoint) -> str:
    """Resolve and connect; return the one-line error."""
    with pytest.raises(EndpointError) as info:
        connect_postgres(resolved(spec))
    message = str(info.value)
    assert "\n" not in message
    return message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


class TestSecretFailures:
    def test_a_missing_secret_names_the_id_the_region_and_where_they_came_from(
        self, sm: Any
    ) -> None:
        with pytest.raises(EndpointError) as info:
            resolved(aurora(secret="rds!cluster-nope"))
        assert str(info.value) == (
            f"target: secret 'rds!cluster-nope' in {REGION} not found (ResourceNotFoundException)"
            f" — check plan target.secret and the region (plan target.region)"
        )

    def test_a_missing_secret_from_the_environment_says_which_variable(
        self, sm: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CUTOVER_SECRET_ID", "x")
        monkeypatch.setenv("AWS_REGION", REGION)
        with pytest.raises(
            EndpointError,
            match=f"secret 'x' in {REGION} not found .* — check CUTOVER_SECRET_ID or plan "
            r"target.secret and the region \(AWS_REGION\)",
        ):
            resolved(aurora())

    def test_access_denied_names_the_permission_to_grant(
        self, aws_env: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        @set_initial_no_auth_action_count(3)  # the setup below, then IAM is enforced
        @mock_aws
        def attempt() -> str:
            iam = boto3.client("iam", region_name="us-east-1")
            iam.create_user(UserName="ci")
            key = iam.create_access_key(UserName="ci")["AccessKey"]
            boto3.client("secretsmanager", region_name=REGION).create_secret(
                Name=SECRET_ID, SecretString="{}"
            )
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
            with pytest.raises(EndpointError) as info:
                resolved(aurora())
            return str(info.value)

        assert attempt() == (
            f"target: cannot read secret '{SECRET_ID}' in {REGION}: access denied (403) — check "
            "the AWS credentials in use and that they allow secretsmanager:GetSecretValue "
            "(and kms:Decrypt on the secret's key)"
        )

    def test_throttling_is_retried_by_the_client(self, aws_env: None, standin: StandIn) -> None:
        value = json.dumps({"username": APP_USER, "password": standin.app_password})
        flaky = FlakyAws([(400, "ThrottlingException"), (400, "ThrottlingException")], value)
        try:
            spec = aurora(endpoint_url=flaky.url, host="127.0.0.1", port=standin.tls_port)
            with connect_postgres(resolved(spec)) as conn:
                assert conn.execute("SELECT current_user").fetchone() == (APP_USER,)
        finally:
            flaky.close()
        assert flaky.requests == 3

    def test_throttling_that_never_ends_is_reported(self, aws_env: None) -> None:
        flaky = FlakyAws([(400, "ThrottlingException")] * 10, "{}")
        try:
            with pytest.raises(EndpointError) as info:
                resolved(aurora(endpoint_url=flaky.url, host="127.0.0.1"))
        finally:
            flaky.close()
        assert str(info.value) == (
            f"target: reading secret '{SECRET_ID}' in {REGION} was throttled "
            "(ThrottlingException) after 4 attempts; retry later"
        )
        assert flaky.requests == 4

    def test_an_unreachable_secrets_manager_names_the_endpoint_setting(self, aws_env: None) -> None:
        spec = aurora(endpoint_url=f"http://127.0.0.1:{closed_port()}", host="127.0.0.1")
        with pytest.raises(EndpointError, match="cannot reach Secrets Manager for secret"):
            resolved(spec)

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (
                '{"username": "app", "password": "hunter2",}',
                "is not valid JSON (error at line 1 column 43) nor a postgresql:// URL; "
                "fix the secret's value",
            ),
            ('["app", "hunter2"]', "is JSON but not an object"),
            (
                '{"user_name": "app", "pass": "hunter2"}',
                "has no username and password (keys found: pass, user_name)",
            ),
            ("postgresql://app@db.internal/app", "holds a connection string without a password"),
        ],
        ids=["bad-json", "json-array", "wrong-keys", "url-without-password"],
    )
    def test_a_secret_in_an_unknown_shape_is_named_without_its_value(
        self, sm: Any, value: str, message: str
    ) -> None:
        put_secret(sm, value)
        with pytest.raises(EndpointError) as info:
            resolved(aurora(host="127.0.0.1"))
        assert str(info.value).startswith(f"target: secret '{SECRET_ID}' in {REGION} {message}")
        assert "hunter2" not in str(info.value)

    def test_no_host_anywhere_says_rds_secrets_hold_none(self, sm: Any, standin: StandIn) -> None:
        put_secret(sm, {"username": APP_USER, "password": standin.app_password})
        with pytest.raises(EndpointError, match=r"no host: secret .* has none .* set target.host"):
            resolved(aurora())

    def test_a_secret_for_another_engine_is_refused(self, sm: Any) -> None:
        put_secret(sm, {"username": "a", "password": "b", "engine": "mysql", "host": "h"})
        with pytest.raises(EndpointError, match="is for engine 'mysql', not PostgreSQL"):
            resolved(aurora())


class TestConnectFailures:
    def test_a_wrong_password_in_the_secret_names_the_secret_to_check(
        self, sm: Any, standin: StandIn, caplog: pytest.LogCaptureFixture
    ) -> None:
        put_secret(sm, {"username": APP_USER, "password": "stale-after-rotation"})
        with caplog.at_level(logging.DEBUG, logger="cutover.retry"):
            message = failure(aurora(host="127.0.0.1", port=standin.tls_port))
        assert message.startswith(
            "target: cannot connect: wrong user name or password (connection failed:"
        )
        assert (
            f"; the user and password come from secret '{SECRET_ID}' in {REGION} (plan "
            "target.secret): check it is the current version (rotation?) and belongs to this "
            "cluster [aurora: postgresql://skillin_app@127.0.0.1:"
        ) in message
        assert [r.cutover["outcome"] for r in caplog.records] == ["give_up"]  # type: ignore[attr-defined]

    def test_an_unknown_host_is_not_retried(
        self, sm: Any, standin: StandIn, caplog: pytest.LogCaptureFixture
    ) -> None:
        put_secret(sm, {"username": APP_USER, "password": standin.app_password})
        with caplog.at_level(logging.DEBUG, logger="cutover.retry"):
            message = failure(aurora(host="no-such-cluster.cluster-x.invalid"))
        assert message.startswith(
            "target: cannot connect: unknown host name: check the host in the DSN"
        )
        assert [r.cutover["error_class"] for r in caplog.records] == ["unknown_host"]  # type: ignore[attr-defined]

    def test_a_refused_port_is_retried_then_named(
        self, sm: Any, standin: StandIn, caplog: pytest.LogCaptureFixture
    ) -> None:
        put_secret(sm, {"username": APP_USER, "password": standin.app_password})
        with caplog.at_level(logging.DEBUG, logger="cutover.retry"):
            message = failure(aurora(host="127.0.0.1", port=closed_port()))
        assert message.startswith(
            "target: cannot connect: nothing listens there: is the server running, host and "
            "port right?"
        )
        assert [(r.cutover["attempt"], r.cutover["outcome"]) for r in caplog.records] == [  # type: ignore[attr-defined]
            (1, "retry"),
            (2, "retry"),
            (3, "give_up"),
        ]

    def test_tls_required_against_a_server_without_tls(self, sm: Any, standin: StandIn) -> None:
        put_secret(sm, {"username": APP_USER, "password": standin.app_password})
        message = failure(aurora(host="127.0.0.1", port=standin.plain_port))
        assert message.startswith(
            "target: cannot connect: TLS is required but the server offers none: is this the "
            "right host and port (a proxy or tunnel that ends TLS?)"
        )


# --- cutover verify, out of process -----------------------------------------------------------


def _plan(folder: Path, target: dict[str, Any]) -> Path:
    sqlite_source(folder)
    plan = {
        "name": "local-to-aurora",
        "source": {"kind": "sqlite", "path": "source.db"},
        "target": target,
        "connect": {"connect_timeout_s": 10},
    }
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def _moto_secrets(endpoint: str) -> Any:
    """A Secrets Manager client of the out-of-process moto server the verify runs read."""
    return boto3.client(
        "secretsmanager",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )


def _connectivity(folder: Path) -> dict[str, dict[str, Any]]:
    results = json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))
    return {c["name"]: c for c in results["checks"] if c["area"] == "connectivity"}


@pytest.mark.slow
class TestVerify:
    def test_verify_goes_against_an_aurora_target_in_a_moto_server(
        self, moto_server: str, standin: StandIn, tmp_path: Path
    ) -> None:
        client = _moto_secrets(moto_server)
        name = f"verify-go-{tmp_path.name}"
        put_secret(
            client, {"username": APP_USER, "password": standin.app_password, "dbname": APP_DB}, name
        )
        plan = _plan(
            tmp_path,
            {
                "kind": "aurora",
                "secret": name,
                "region": REGION,
                "host": "127.0.0.1",
                "reader_host": "localhost",
                "port": standin.tls_port,
            },
        )
        run = run_verify(plan, tmp_path, env={"AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_server})
        assert run.returncode == 0, run.stdout + run.stderr
        checks = _connectivity(tmp_path)
        assert sorted(checks) == ["source", "target", "target-reader"]
        assert {c["status"] for c in checks.values()} == {"pass"}
        target = checks["target"]["evidence"]
        assert target["server_version"].startswith("PostgreSQL 16")
        assert target["tls"] is True
        assert target["endpoint"]["secret_id"] == name
        assert target["endpoint"]["dsn"] == (
            f"postgresql://{APP_USER}@127.0.0.1:{standin.tls_port}/{APP_DB}?sslmode=require"
        )
        assert checks["target-reader"]["evidence"]["replica_lag_s"] == 0.0

    def test_verify_with_a_wrong_secret_exits_2_naming_secret_and_region(
        self, moto_server: str, standin: StandIn, tmp_path: Path
    ) -> None:
        client = _moto_secrets(moto_server)
        name = f"verify-bad-{tmp_path.name}"
        put_secret(client, {"username": APP_USER, "password": "not-the-password"}, name)
        target = {
            "kind": "aurora",
            "secret": name,
            "region": REGION,
            "endpoint_url": moto_server,  # the plan's option this time, not the environment
            "host": "127.0.0.1",
            "port": standin.tls_port,
            "database": APP_DB,
        }
        run = run_verify(_plan(tmp_path, target), tmp_path)
        assert run.returncode == 2, run.stdout + run.stderr
        assert "Traceback" not in run.stdout + run.stderr
        errors = [
            line for line in run.stderr.splitlines() if line.startswith("cutover: error: target:")
        ]
        assert len(errors) == 1, run.stderr
        assert "wrong user name or password" in errors[0]
        assert f"secret '{name}' in {REGION}" in errors[0]
        assert "not-the-password" not in run.stdout + run.stderr

    def test_verify_goes_against_a_dsql_target_with_a_signed_token(
        self, dsql_cluster: DsqlLocal, tmp_path: Path
    ) -> None:
        """The whole run on a DSQL that refuses what Aurora DSQL refuses: the guard checks
        every token the run signs, refuses any SET or startup option outside DSQL's allowlist
        (so the run's read-only sessions and query timeouts must do without them), and runs
        the application's queries and the timed loop."""
        target = {
            "kind": "dsql",
            "endpoint": DSQL_HOST,
            "hostaddr": "127.0.0.1",
            "port": dsql_cluster.port,
            "sslmode": "verify-full",
            "sslrootcert": str(dsql_cluster.ca_file),
        }
        plan = _plan(tmp_path, target)
        extra = {
            "queries": {
                "timeout_s": 30,
                "corpus": {
                    "by_email": {
                        "sql": "SELECT id, email FROM users WHERE email = :email",
                        "params": [{"email": "ada@example.com"}],
                    }
                },
            },
            "latency": {"runs": 3, "warmup": 1, "health": {"runs": 5, "min_successes": 5}},
        }
        data = {**yaml.safe_load(plan.read_text(encoding="utf-8")), **extra}
        plan.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        run = run_verify(plan, tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        target_check = _connectivity(tmp_path)["target"]
        assert target_check["status"] == "pass"
        assert target_check["evidence"]["user"] == "admin"
        assert target_check["evidence"]["endpoint"]["hostname"] == DSQL_HOST
        results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
        by_area: dict[str, list[str]] = {}
        for check in results["checks"]:
            by_area.setdefault(check["area"], []).append(check["status"])
        for area in ("rows", "queries", "latency"):
            assert set(by_area.get(area, ())) == {"pass"}, (area, by_area)


class TestPlanMistakes:
    """A plan that carries credentials or names no DSQL endpoint stops `cutover verify` with
    one line and exit code 2, before anything is reached."""

    @pytest.mark.parametrize(
        ("target", "line", "message"),
        [
            (
                "  kind: aurora\n  secret: s\n  password: hunter2\n",
                3,
                "target: 'password' is not allowed here: credentials never go in the plan; "
                "store them in the Secrets Manager secret named by 'secret'",
            ),
            (
                "  kind: dsql\n  endpoint: mydb.cluster-x.us-east-1.rds.amazonaws.com\n",
                3,
                "target: 'mydb.cluster-x.us-east-1.rds.amazonaws.com' is not a DSQL endpoint; "
                "expected <id>.dsql.<region>.on.aws",
            ),
        ],
        ids=["password-in-plan", "not-a-dsql-endpoint"],
    )
    def test_the_mistake_is_one_line_naming_file_line_and_fix(
        self, tmp_path: Path, target: str, line: int, message: str
    ) -> None:
        plan = tmp_path / "plan.yaml"
        plan.write_text(
            f"name: x\nsource: {{kind: sqlite, path: a.db}}\ntarget:\n{target}", encoding="utf-8"
        )
        run = run_verify(plan, tmp_path)
        assert run.returncode == 2
        assert run.stderr.splitlines() == [f"cutover: error: {plan}:{line}: {message}"]
        assert "hunter2" not in run.stdout + run.stderr

    @pytest.mark.slow
    def test_a_refused_dsql_token_exits_2_naming_the_iam_action(
        self, aws_env: None, standin: StandIn, tmp_path: Path
    ) -> None:
        standin.set_password("app_writer", "not-a-token")
        target = {
            "kind": "dsql",
            "endpoint": DSQL_HOST,
            "role": "app_writer",
            "hostaddr": "127.0.0.1",
            "port": standin.tls_port,
        }
        run = run_verify(_plan(tmp_path, target), tmp_path)
        assert run.returncode == 2, run.stdout + run.stderr
        errors = [
            line for line in run.stderr.splitlines() if line.startswith("cutover: error: target:")
        ]
        assert len(errors) == 1, run.stderr
        assert "wrong user name or password" in errors[0]
        assert "the IAM token for role 'app_writer' was refused" in errors[0]
        assert "dsql:DbConnect on this cluster" in errors[0]
        assert "X-Amz-Signature" not in run.stdout + run.stderr
