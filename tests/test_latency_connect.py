"""Connection reliability as a rate (``latency.connect``): N fresh sessions, a success rate
and connect-time percentiles against the plan's budgets.

The flaky path is real: a TCP fault proxy resets a seeded share of the connections to a real
PostgreSQL, and every connection is counted (the check no longer stops at the first error).
Percentile budgets are judged on distributions given as data: no test asserts a speed.
"""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from psycopg.conninfo import make_conninfo
from pydantic import ValidationError

from harness.dsql_local.tokens import SigningIdentity
from harness.embedded.iam_command import start as serve_iam
from harness.embedded.provision import PostgresCluster
from harness.endpoints import aws
from harness.endpoints.resolve import Connector, open_database, resolve
from harness.endpoints.settings import AuroraEndpoint
from harness.errors import EndpointError
from harness.faults.proxy import FaultProxy
from harness.latency.check import check_connect
from harness.latency.health import Connection, connections
from harness.latency.settings import ConnectBudget, LatencySettings
from harness.results.check import Status
from tests.aws_support import (
    ACCESS_KEY,
    APP_DB,
    APP_USER,
    REGION,
    SECRET_ID,
    SECRET_KEY,
    FlakyAws,
    StandIn,
    aws_env,
    run_verify,
    standin,
)

__all__ = ["aws_env", "standin"]  # fixtures used by name below


def opened(*ms: float) -> list[Connection]:
    return [Connection(True, m, 1) for m in ms]


class TestTheRate:
    def test_under_one_percent_failing_passes_a_99_percent_rate(self) -> None:
        done = [*opened(*([5.0] * 99)), Connection(False, 5.0, 4, "cannot connect: reset")]
        result = check_connect(done, ConnectBudget(runs=100, min_success_rate=0.99))
        assert result.status is Status.PASS
        assert result.evidence["success_rate"] == 0.99
        assert result.evidence["strip"] == "1" * 99 + "0"

    def test_two_in_a_hundred_fail_it_and_the_first_error_is_named(self) -> None:
        done = opened(*[5.0] * 98) + [Connection(False, 5.0, 4, "cannot connect: reset")] * 2
        result = check_connect(done, ConnectBudget(runs=100, min_success_rate=0.99))
        assert result.status is Status.FAIL
        assert "2 of 100 connections failed" in result.summary
        assert "cannot connect: reset" in result.summary

    def test_allowed_failures_round_the_rate_the_strict_way(self) -> None:
        assert ConnectBudget(runs=100, min_success_rate=0.99).allowed_failures == 1
        assert ConnectBudget(runs=10, min_success_rate=0.95).allowed_failures == 0
        assert ConnectBudget(runs=3).allowed_failures == 0

    def test_nothing_measured_is_a_failure_never_a_pass(self) -> None:
        assert check_connect([], ConnectBudget(runs=1)).status is Status.FAIL


class TestPercentiles:
    def test_each_percentile_budget_is_judged_on_the_sessions_that_opened(self) -> None:
        done = opened(*[10.0] * 90, *[400.0] * 10)
        budget = ConnectBudget(runs=100, p50_ms=50, p95_ms=300, p99_ms=1000)
        result = check_connect(done, budget)
        assert result.status is Status.FAIL
        assert [f.message for f in result.findings] == [
            "connect-time p95 400.0 ms exceeds the 300 ms budget"
        ]
        assert result.evidence["budgets_ms"] == {"p50": 50, "p95": 300, "p99": 1000}

    def test_within_every_budget_passes_and_says_which(self) -> None:
        result = check_connect(opened(*[10.0] * 20), ConnectBudget(runs=20, p95_ms=300))
        assert result.status is Status.PASS
        assert "20 of 20 sessions opened" in result.summary
        assert "p95 300 ms" in result.summary


class TestThePlan:
    def test_the_first_spelling_still_reads(self) -> None:
        settings = LatencySettings.model_validate({"connect_ms": 2000, "connect_runs": 7})
        assert settings.connect == ConnectBudget(runs=7, max_ms=2000)
        assert LatencySettings.model_validate({"connect_ms": None}).connect is None

    def test_both_spellings_are_refused_with_the_fix(self) -> None:
        with pytest.raises(ValidationError, match="not both; fix: move them into connect"):
            LatencySettings.model_validate({"connect_ms": 2000, "connect": {"runs": 3}})

    def test_a_rate_above_one_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="less than or equal to 1"):
            ConnectBudget.model_validate({"min_success_rate": 99})


class TestThroughAFlakyPath:
    def test_every_connection_is_counted_not_only_up_to_the_first_error(
        self, pg_password_cluster: tuple[PostgresCluster, str]
    ) -> None:
        cluster, password = pg_password_cluster
        with FaultProxy(("127.0.0.1", cluster.port), seed=7) as proxy:
            proxy.add_toxic("reset_peer", stream="downstream", timeout=0, toxicity=0.3)
            host, port = proxy.address
            dsn = make_conninfo(
                cluster.conninfo(password=password), host=host, port=port, sslmode="disable"
            )
            flaky = Connector("target", "postgres", "postgres", dsn, "flaky", retry={"attempts": 1})
            done = connections(flaky, 30, max_ms=None, allowed_failures=30)
        failed = [c for c in done if not c.ok]
        assert len(done) == 30
        assert 0 < len(failed) < 30
        assert all("cannot connect" in str(c.error) for c in failed)
        strict = check_connect(done, ConnectBudget(runs=30, max_ms=None))
        lenient = check_connect(done, ConnectBudget(runs=30, max_ms=None, min_success_rate=0.0))
        assert (strict.status, lenient.status) == (Status.FAIL, Status.PASS)
        assert strict.evidence["strip"].count("0") == len(failed)


@pytest.fixture
def sm(aws_env: None) -> Iterator[Any]:
    """An in-process moto Secrets Manager in the secret's region."""
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def secret_reads(sm: Any) -> Iterator[list[str]]:
    """Every GetSecretValue the harness sends, seen by a botocore event hook on the very client
    it reads through (:func:`harness.endpoints.aws.client` keeps one per settings)."""
    client = aws.client("secretsmanager", region=REGION)
    seen: list[str] = []

    def count(**_: Any) -> None:
        seen.append("GetSecretValue")

    event = "before-call.secrets-manager.GetSecretValue"
    client.meta.events.register(event, count, unique_id="cutover-test-secret-reads")
    yield seen
    client.meta.events.unregister(event, unique_id="cutover-test-secret-reads")


def through_the_secret(sm: Any, standin: StandIn, user: str, password: str) -> Connector:
    """An aurora target whose user and password live only in the (moto) secret, in front of a
    real PostgreSQL that checks them over TLS; resolved as a run resolves it."""
    sm.create_secret(
        Name=SECRET_ID, SecretString=json.dumps({"username": user, "password": password})
    )
    spec = AuroraEndpoint.model_validate(
        {
            "kind": "aurora",
            "secret": SECRET_ID,
            "region": REGION,
            "host": "127.0.0.1",
            "port": standin.tls_port,
            "database": APP_DB,
        }
    )
    with ExitStack() as resources:
        return resolve(spec, "target", resources)


class TestThroughASecret:
    """``latency.connect`` on a Secrets Manager endpoint: every probed connection reads the
    secret again, inside the clock, as a fresh client does; no other session does."""

    def test_each_probed_connection_reads_the_secret_and_other_sessions_do_not(
        self, sm: Any, secret_reads: list[str], standin: StandIn
    ) -> None:
        connector = through_the_secret(sm, standin, APP_USER, standin.app_password)
        assert len(secret_reads) == 1  # resolving the endpoint: the run's one read
        open_database(connector).close()
        open_database(connector).close()
        assert len(secret_reads) == 1
        done = connections(connector, 5, max_ms=None, allowed_failures=0)
        assert [c.ok for c in done] == [True] * 5
        assert len(secret_reads) == 1 + 5

    def test_a_password_rotated_after_the_run_resolved_is_read_by_the_probe(
        self, sm: Any, standin: StandIn
    ) -> None:
        role = "rotated_app"  # a role of its own: the stand-in is shared by the worker's tests
        before, after = (f"pw-{secrets.token_urlsafe(12)}" for _ in range(2))
        standin.set_password(role, before)
        connector = through_the_secret(sm, standin, role, before)
        standin.set_password(role, after)
        sm.put_secret_value(
            SecretId=SECRET_ID, SecretString=json.dumps({"username": role, "password": after})
        )
        # the run's own read is stale now: a session from it is refused...
        with pytest.raises(EndpointError, match="password authentication failed") as refused:
            open_database(replace(connector, retry={"attempts": 1}))
        assert before not in str(refused.value)
        # ...while every probed connection reads the secret as it is now
        done = connections(connector, 3, max_ms=None, allowed_failures=0)
        assert [c.ok for c in done] == [True] * 3

    def test_a_secret_that_cannot_be_read_fails_each_connection_and_says_why(
        self, sm: Any, standin: StandIn
    ) -> None:
        connector = through_the_secret(sm, standin, APP_USER, standin.app_password)
        sm.delete_secret(SecretId=SECRET_ID, ForceDeleteWithoutRecovery=True)
        done = connections(connector, 3, max_ms=None, allowed_failures=3)
        assert [c.ok for c in done] == [False] * 3
        assert all(f"secret '{SECRET_ID}' in {REGION} not found" in str(c.error) for c in done)
        result = check_connect(done, ConnectBudget(runs=3, max_ms=None))
        assert result.status is Status.FAIL
        assert standin.app_password not in json.dumps(result.to_dict(), default=str)


class TestThroughAnIamToken:
    """``latency.connect`` on ``aurora`` with ``auth: iam``: every probed connection signs its
    own RDS token (counted on the client the harness signs with), checked by the stand-in."""

    def test_each_probed_connection_signs_its_own_token(
        self, aws_env: None, tmp_path: Path
    ) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        spec = AuroraEndpoint.model_validate(
            {
                "kind": "aurora",
                "auth": "iam",
                "host": "app.cluster-c0ffee123456.eu-west-1.rds.amazonaws.com",
                "hostaddr": "127.0.0.1",
                "port": port,
                "database": "app",
                "user": "app_iam",
                "sslmode": "verify-full",
                "sslrootcert": str(tmp_path / "ca.crt"),
            }
        )
        client = aws.client("rds", region="eu-west-1")
        signed: list[str] = []

        def count(**_: Any) -> None:
            signed.append("token")

        with ExitStack() as resources:
            serve_iam(spec, "target", (), SigningIdentity(ACCESS_KEY, SECRET_KEY), resources)
            connector = resolve(spec, "target", resources)
            client.meta.events.register("before-sign.rds.connect", count, unique_id="test")
            try:
                done = connections(connector, 5, max_ms=None, allowed_failures=0)
            finally:
                client.meta.events.unregister("before-sign.rds.connect", unique_id="test")
        assert [c.ok for c in done] == [True] * 5
        assert len(signed) == 5


class TestAVerifyRun:
    """`cutover verify` in a subprocess against a Secrets Manager endpoint that counts every
    request: the run reads the secret once, and the connect-rate probe once per connection."""

    @pytest.mark.parametrize(("runs", "reads"), [(None, 1), (7, 1 + 7)], ids=["off", "7-runs"])
    def test_only_the_probe_reads_the_secret_again(
        self, standin: StandIn, tmp_path: Path, runs: int | None, reads: int
    ) -> None:
        secret = json.dumps({"username": APP_USER, "password": standin.app_password})
        endpoint = FlakyAws([], secret)
        try:
            target = {
                "kind": "aurora",
                "secret": SECRET_ID,
                "region": REGION,
                "endpoint_url": endpoint.url,
                "host": "127.0.0.1",
                "port": standin.tls_port,
                "database": APP_DB,
            }
            connect = None if runs is None else {"runs": runs, "max_ms": None}
            plan = {
                "name": "secret-reads",
                "target": target,
                "latency": {"connect": connect, "health": {"runs": 20, "min_successes": 20}},
            }
            (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
            done = run_verify(tmp_path / "plan.yaml", tmp_path)
        finally:
            endpoint.close()
        assert done.returncode == 0, done.stdout + done.stderr
        assert endpoint.requests == reads
        results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
        ids = {c["id"]: c for c in results["checks"]}
        if runs is not None:
            assert ids["latency[connect]"]["evidence"]["strip"] == "1" * runs
        assert standin.app_password not in (tmp_path / "out" / "results.json").read_text()
