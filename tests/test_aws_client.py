"""harness.endpoints.aws: one client factory (standard retries, explicit timeouts), the region."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from harness.endpoints import aws
from tests.aws_support import ACCESS_KEY, aws_env

__all__ = ["aws_env"]  # fixture used by name below


class TestClient:
    def test_clients_use_standard_retries_and_explicit_timeouts(self, aws_env: None) -> None:
        client = aws.client("secretsmanager", region="us-east-2")
        config = client.meta.config
        assert config.retries == {"mode": "standard", "total_max_attempts": aws.MAX_ATTEMPTS}
        assert (config.connect_timeout, config.read_timeout) == (
            aws.CONNECT_TIMEOUT_S,
            aws.READ_TIMEOUT_S,
        )
        assert client.meta.region_name == "us-east-2"

    def test_an_endpoint_url_points_the_client_elsewhere(self, aws_env: None) -> None:
        client = aws.client("secretsmanager", region="us-east-2", endpoint_url="http://127.0.0.1:1")
        assert client.meta.endpoint_url == "http://127.0.0.1:1"

    def test_credentials_are_looked_up_for_each_client(
        self, aws_env: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first = aws.client("dsql", region="us-east-1")._request_signer._credentials
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAROTATEDKEY000000")
        second = aws.client("dsql", region="us-east-1")._request_signer._credentials
        assert (first.access_key, second.access_key) == (ACCESS_KEY, "AKIAROTATEDKEY000000")


class TestRegion:
    def test_the_first_candidate_with_a_value_wins(self, aws_env: None) -> None:
        found = aws.resolve_region((None, "AWS_REGION"), ("eu-west-1", "plan"), ("x", "arn"))
        assert (found.name, found.origin) == ("eu-west-1", "plan")  # type: ignore[union-attr]

    def test_then_the_environment(self, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
        found = aws.resolve_region((None, "plan"))
        assert (found.name, found.origin) == ("ap-south-1", "AWS_DEFAULT_REGION")  # type: ignore[union-attr]

    def test_then_the_profile(
        self, aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        config = tmp_path / "config"
        config.write_text("[default]\nregion = sa-east-1\n", encoding="utf-8")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        found = aws.resolve_region((None, "plan"))
        assert (found.name, found.origin) == ("sa-east-1", "AWS profile")  # type: ignore[union-attr]

    def test_nothing_anywhere_is_none(self, aws_env: None) -> None:
        assert aws.resolve_region((None, "plan")) is None

    @pytest.mark.parametrize(
        ("arn", "region"),
        [
            (
                "arn:aws:secretsmanager:us-east-2:123456789012:secret:rds!cluster-x-AbCdEf",
                "us-east-2",
            ),
            ("arn:aws-us-gov:secretsmanager:us-gov-west-1:1:secret:x", "us-gov-west-1"),
            ("rds!cluster-d1aab255", None),
        ],
    )
    def test_the_region_inside_an_arn(self, arn: str, region: str | None) -> None:
        assert aws.arn_region(arn) == region


class TestDebugGuard:
    """botocore's DEBUG lines are guarded once a harness client exists."""

    def test_secret_values_in_response_bodies_are_masked(
        self, aws_env: None, caplog: pytest.LogCaptureFixture
    ) -> None:
        aws.client("secretsmanager", region="us-east-2")
        body = b'{"Name": "s", "SecretString": "{\\"password\\": \\"hunter2\\"}"}'
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("botocore.parsers").debug("Response body:\n%r", body)
            logging.getLogger("botocore.parsers").debug(
                "Response body:\n%r", b'{"SecretString": "x'
            )
        assert caplog.messages == [
            'Response body:\n\'{"Name": "s", "SecretString": "***"}\'',
            "Response body:\n'<response body hidden: it holds a secret>'",
        ]

    def test_signatures_are_not_logged(
        self, aws_env: None, caplog: pytest.LogCaptureFixture
    ) -> None:
        aws.client("dsql", region="us-east-1")
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("botocore.auth").debug("Signature:\n%s", "abc123")
            logging.getLogger("botocore.auth").debug("Calculating signature using v4 auth.")
        assert caplog.messages == ["Calculating signature using v4 auth."]
