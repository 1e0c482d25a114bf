"""AWS fault modes: in process through botocore's before-send hook (the real retry handler
runs), out of process through a faulty HTTP front before ThreadedMotoServer and through the
fault proxy (endpoint down, hanging)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from harness.endpoints import aws
from harness.errors import HarnessError
from harness.faults.aws import AWS_MODES, AwsFault, FaultyFront
from harness.faults.proxy import FaultProxy
from harness.faults.suite import dummy_aws_credentials

REGION = "us-east-2"
SECRET = "rds!cluster-d1aab255-8b30-49d0-a107-f2cc5e0c5cc6"
PASSWORD = "s3cr3t-Value-never-shown"


@pytest.fixture
def botocore_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's backoff waits, recorded instead of slept (its own schedule, not ours)."""
    waits: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=waits.append))
    return waits


@pytest.fixture
def sm() -> Iterator[Any]:
    """A Secrets Manager client (the harness's factory, standard retries) on moto in process."""
    with dummy_aws_credentials(), mock_aws():
        client = aws.client("secretsmanager", region=REGION)
        client.create_secret(
            Name=SECRET, SecretString=json.dumps({"username": "app", "password": PASSWORD})
        )
        yield client


class TestInProcess:
    @pytest.mark.parametrize(
        ("mode", "times"), [("throttled", 1), ("server_error", 2), ("unavailable", 1),
                            ("refused", 2), ("hanging", 1)],
    )  # fmt: skip
    def test_transient_faults_are_retried_by_botocore_until_the_call_succeeds(
        self, sm: Any, botocore_waits: list[float], mode: str, times: int
    ) -> None:
        fault = AwsFault(mode, times=times, hang_s=0.05)
        with fault.attached(sm.meta.events):
            answer = sm.get_secret_value(SecretId=SECRET)
        assert json.loads(answer["SecretString"])["username"] == "app"
        assert answer["ResponseMetadata"]["RetryAttempts"] == times
        assert fault.attempts == times + 1
        assert len(botocore_waits) == times  # one backoff wait before each retry

    def test_one_throttle_in_real_time(self, sm: Any) -> None:
        fault = AwsFault("throttled", times=1)
        with fault.attached(sm.meta.events):
            answer = sm.get_secret_value(SecretId=SECRET)
        assert answer["ResponseMetadata"]["RetryAttempts"] == 1
        assert len(fault.gaps) == 1

    @pytest.mark.parametrize(
        ("mode", "code"),
        [("access_denied", "AccessDeniedException"), ("not_found", "ResourceNotFoundException")],
    )
    def test_permanent_faults_are_not_retried(self, sm: Any, mode: str, code: str) -> None:
        fault = AwsFault(mode)
        with fault.attached(sm.meta.events), pytest.raises(ClientError) as caught:
            sm.get_secret_value(SecretId=SECRET)
        assert caught.value.response["Error"]["Code"] == code
        assert fault.attempts == 1
        assert PASSWORD not in str(caught.value)

    def test_a_fault_that_never_ends_gives_up_after_the_retries(
        self, sm: Any, botocore_waits: list[float]
    ) -> None:
        fault = AwsFault("server_error")
        with fault.attached(sm.meta.events), pytest.raises(ClientError) as caught:
            sm.get_secret_value(SecretId=SECRET)
        assert caught.value.response["Error"]["Code"] == "InternalServiceError"
        retries = caught.value.response["ResponseMetadata"]["RetryAttempts"]
        assert retries > 0
        assert fault.attempts == retries + 1 == len(botocore_waits) + 1

    def test_hanging_ends_in_a_read_timeout_when_it_never_stops(
        self, sm: Any, botocore_waits: list[float]
    ) -> None:
        fault = AwsFault("hanging", hang_s=0.01)
        with fault.attached(sm.meta.events), pytest.raises(ReadTimeoutError):
            sm.get_secret_value(SecretId=SECRET)
        assert fault.attempts == len(botocore_waits) + 1 > 1

    def test_wrong_region_really_does_not_find_the_secret(self, sm: Any) -> None:
        other = aws.client("secretsmanager", region="us-west-2")
        with pytest.raises(ClientError) as caught:
            other.get_secret_value(SecretId=SECRET)
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"

    def test_a_session_hook_reaches_clients_made_afterwards(
        self, botocore_waits: list[float]
    ) -> None:
        with dummy_aws_credentials(), mock_aws():
            session = boto3.Session(region_name=REGION)
            fault = AwsFault("throttled", times=1)
            with fault.attached(session.events):
                client = session.client("secretsmanager")
                client.create_secret(Name="x", SecretString="{}")
                answer = client.get_secret_value(SecretId="x")
            assert answer["ResponseMetadata"]["RetryAttempts"] == 1

    def test_unknown_mode_names_the_allowed_ones(self) -> None:
        with pytest.raises(HarnessError, match="unknown AWS fault mode 'throttle'; allowed: "):
            AwsFault("throttle")

    def test_every_mode_is_documented(self) -> None:
        for mode in AWS_MODES.values():
            assert mode.message
            assert (mode.status == 0) == (mode.code == "")


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    with dummy_aws_credentials():
        boto3.client("secretsmanager", region_name=REGION, endpoint_url=url).create_secret(
            Name=SECRET, SecretString=json.dumps({"username": "app", "password": PASSWORD})
        )
    yield url
    server.stop()


class TestOutOfProcess:
    def client(self, url: str, **options: Any) -> Any:
        return aws.client("secretsmanager", region=REGION, endpoint_url=url, **options)

    @pytest.mark.parametrize(("mode", "times"), [("throttled", 1), ("server_error", 2)])
    def test_the_front_fails_the_first_requests_then_forwards_to_moto(
        self, moto_server: str, botocore_waits: list[float], mode: str, times: int
    ) -> None:
        with dummy_aws_credentials(), FaultyFront(moto_server, mode=mode, times=times) as front:
            answer = self.client(front.url).get_secret_value(SecretId=SECRET)
        assert answer["ResponseMetadata"]["RetryAttempts"] == times
        assert front.faulted() == times
        assert len(front.requests) == times + 1

    def test_the_front_answers_permanent_faults_every_time(self, moto_server: str) -> None:
        with dummy_aws_credentials(), FaultyFront(moto_server, mode="access_denied") as front:
            with pytest.raises(ClientError, match="AccessDeniedException"):
                self.client(front.url).get_secret_value(SecretId=SECRET)
            front.set(None)
            assert self.client(front.url).get_secret_value(SecretId=SECRET)["Name"] == SECRET

    def test_endpoint_down_is_a_refused_connection(
        self, moto_server: str, botocore_waits: list[float]
    ) -> None:
        host, port = moto_server.removeprefix("http://").split(":")
        with dummy_aws_credentials(), FaultProxy((host, int(port))) as proxy:
            proxy.disable()
            client = self.client(f"http://127.0.0.1:{proxy.port}")
            with pytest.raises(EndpointConnectionError):
                client.get_secret_value(SecretId=SECRET)
        assert botocore_waits  # connection failures are retried before giving up

    def test_a_hanging_endpoint_hits_the_read_timeout(self, moto_server: str) -> None:
        host, port = moto_server.removeprefix("http://").split(":")
        with dummy_aws_credentials(), FaultProxy((host, int(port))) as proxy:
            proxy.add_toxic("timeout", stream="downstream", timeout=0)
            client = self.client(f"http://127.0.0.1:{proxy.port}", max_attempts=1,
                                 read_timeout_s=0.3)  # fmt: skip
            with pytest.raises(ReadTimeoutError):
                client.get_secret_value(SecretId=SECRET)
