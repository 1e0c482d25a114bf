"""The retry discipline: exact backoff schedules, the error classes, the attempt log."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import psycopg
import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from harness.endpoints.retry import Attempt, Backoff, ErrorClass, classify, retry_call


def _client_error(code: str, status: int) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "GetSecretValue")  # type: ignore[arg-type]


def _pg_error(sqlstate: str) -> psycopg.Error:
    """A psycopg error class as the driver raises it for ``sqlstate``."""
    return psycopg.errors.lookup(sqlstate)("boom")


def _sequence(*values: float) -> Iterator[float]:
    return iter(values)


class TestBackoff:
    def test_without_jitter_the_schedule_doubles_up_to_the_cap(self) -> None:
        policy = Backoff(initial=0.5, multiplier=2, cap=3, attempts=6, jitter="none")
        assert policy.schedule() == [0.5, 1.0, 2.0, 3.0, 3.0]

    def test_full_jitter_scales_each_ceiling_by_the_random_draw(self) -> None:
        policy = Backoff(initial=1, multiplier=3, cap=5, attempts=4, jitter="full")
        draws = _sequence(0.5, 0.25, 0.1)
        assert policy.schedule(lambda: next(draws)) == [0.5, 0.75, 0.5]

    def test_one_attempt_means_no_waits(self) -> None:
        assert Backoff(attempts=1).schedule() == []

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"attempts": 0}, "attempts must be at least 1"),
            ({"multiplier": 0.5}, "multiplier >= 1"),
            ({"initial": -1}, "initial and cap"),
            ({"jitter": "half"}, "jitter must be"),
        ],
    )
    def test_a_nonsensical_policy_is_refused(self, kwargs: dict[str, object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            Backoff(**kwargs)  # type: ignore[arg-type]


class TestClassify:
    @pytest.mark.parametrize(
        ("error", "expected"),
        [
            (_client_error("ThrottlingException", 400), ErrorClass.THROTTLED),
            (_client_error("TooManyRequestsException", 429), ErrorClass.THROTTLED),
            (_client_error("InternalServiceError", 500), ErrorClass.SERVER),
            (_client_error("Whatever", 503), ErrorClass.SERVER),
            (_client_error("ResourceNotFoundException", 400), ErrorClass.NOT_FOUND),
            (_client_error("AccessDeniedException", 400), ErrorClass.ACCESS_DENIED),
            (_client_error("UnrecognizedClientException", 400), ErrorClass.ACCESS_DENIED),
            (_client_error("ValidationException", 400), ErrorClass.INVALID),
            (NoCredentialsError(), ErrorClass.ACCESS_DENIED),
            (EndpointConnectionError(endpoint_url="https://x"), ErrorClass.CONNECTION),
            (ConnectionRefusedError(), ErrorClass.CONNECTION),
            (ConnectionResetError(), ErrorClass.CONNECTION),
            (socket.gaierror(-2, "Name or service not known"), ErrorClass.UNKNOWN_HOST),
            (_pg_error("28P01"), ErrorClass.AUTH),
            (_pg_error("28000"), ErrorClass.AUTH),
            (_pg_error("40001"), ErrorClass.CONFLICT),
            (_pg_error("XX000"), ErrorClass.SERVER),
            (_pg_error("3D000"), ErrorClass.NOT_FOUND),
            (ValueError("a bug"), ErrorClass.OTHER),
        ],
        ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
    )
    def test_errors_fall_into_their_class(self, error: BaseException, expected: ErrorClass) -> None:
        assert classify(error) is expected

    def test_transient_classes_are_retryable_and_permanent_ones_are_not(self) -> None:
        retryable = {c for c in ErrorClass if c.retryable}
        assert retryable == {
            ErrorClass.THROTTLED,
            ErrorClass.SERVER,
            ErrorClass.CONNECTION,
            ErrorClass.CONFLICT,
        }

    def test_a_wrapped_error_is_classified_by_its_cause(self) -> None:
        outer = RuntimeError("wrapped")
        outer.__cause__ = ConnectionRefusedError()
        assert classify(outer) is ErrorClass.CONNECTION

    def test_a_dns_failure_inside_botocore_is_an_unknown_host(self) -> None:
        outer = EndpointConnectionError(endpoint_url="https://nowhere.invalid")
        outer.__cause__ = socket.gaierror(-2, "Name or service not known")
        assert classify(outer) is ErrorClass.UNKNOWN_HOST

    class TestRealLibpqFailures:
        def test_a_wrong_password_is_auth(self, pg_password_cluster: tuple[object, str]) -> None:
            cluster, _ = pg_password_cluster
            with pytest.raises(psycopg.OperationalError) as info:
                psycopg.connect(cluster.conninfo(password="wrong"))  # type: ignore[attr-defined]
            assert classify(info.value) is ErrorClass.AUTH

        def test_a_closed_port_is_connection(self) -> None:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]  # bound, never listening: connect is refused
                with pytest.raises(psycopg.OperationalError) as info:
                    psycopg.connect(f"host=127.0.0.1 port={port} user=x connect_timeout=3")
            assert classify(info.value) is ErrorClass.CONNECTION

        def test_an_unresolvable_host_is_unknown_host(self) -> None:
            with pytest.raises(psycopg.OperationalError) as info:
                psycopg.connect("host=no-such-host.invalid user=x connect_timeout=3")
            assert classify(info.value) is ErrorClass.UNKNOWN_HOST

        def test_a_bad_dsn_is_invalid(self) -> None:
            with pytest.raises(psycopg.ProgrammingError) as info:
                psycopg.connect("hots=127.0.0.1")
            assert classify(info.value) is ErrorClass.INVALID

        def test_tls_demanded_from_a_plain_server_is_tls(
            self, pg_password_cluster: tuple[object, str]
        ) -> None:
            cluster, _ = pg_password_cluster
            with pytest.raises(psycopg.OperationalError) as info:
                psycopg.connect(cluster.conninfo() + " sslmode=require")  # type: ignore[attr-defined]
            assert classify(info.value) is ErrorClass.TLS


class Flaky:
    """Fails with ``errors`` in turn, then returns ``"done"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


class TestRetryCall:
    def test_transient_errors_are_retried_on_the_exact_schedule(self) -> None:
        slept: list[float] = []
        attempts: list[Attempt] = []
        fn = Flaky(ConnectionRefusedError(), _client_error("ThrottlingException", 400))
        draws = _sequence(0.5, 0.5)
        result = retry_call(
            fn,
            policy=Backoff(initial=0.1, multiplier=2, cap=1, attempts=5),
            endpoint="target",
            on_attempt=attempts.append,
            sleep=slept.append,
            rand=lambda: next(draws),
        )
        assert result == "done"
        assert slept == [0.05, 0.1]
        assert [(a.number, a.error_class, a.outcome) for a in attempts] == [
            (1, "connection", "retry"),
            (2, "throttled", "retry"),
            (3, None, "ok"),
        ]
        assert [a.delay_s for a in attempts] == [0.05, 0.1, 0.0]

    def test_a_permanent_error_is_raised_at_once(self) -> None:
        slept: list[float] = []
        error = _pg_error("28P01")
        fn = Flaky(error)
        with pytest.raises(psycopg.Error) as info:
            retry_call(fn, policy=Backoff(attempts=5), sleep=slept.append)
        assert info.value is error
        assert fn.calls == 1
        assert slept == []

    def test_the_last_transient_error_is_raised_when_attempts_run_out(self) -> None:
        slept: list[float] = []
        attempts: list[Attempt] = []
        errors = [ConnectionResetError(f"#{i}") for i in range(3)]
        with pytest.raises(ConnectionResetError, match="#2"):
            retry_call(
                Flaky(*errors),
                policy=Backoff(initial=1, multiplier=2, cap=10, attempts=3, jitter="none"),
                on_attempt=attempts.append,
                sleep=slept.append,
            )
        assert slept == [1.0, 2.0]
        assert [a.outcome for a in attempts] == ["retry", "retry", "give_up"]

    def test_a_custom_classifier_decides(self) -> None:
        fn = Flaky(ValueError("transient in this context"))
        result = retry_call(
            fn,
            policy=Backoff(attempts=2, jitter="none"),
            classify=lambda exc: ErrorClass.CONFLICT,
            sleep=lambda s: None,
        )
        assert result == "done"
        assert fn.calls == 2

    def test_every_attempt_is_one_structured_log_line_without_the_message(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        secret = "hunter2-s3cret"
        fn = Flaky(ConnectionRefusedError(f"password={secret}"))
        with caplog.at_level(logging.DEBUG, logger="cutover.retry"):
            retry_call(
                fn,
                policy=Backoff(initial=0.2, attempts=2, jitter="none"),
                endpoint="target",
                sleep=lambda s: None,
            )
        lines = [r.getMessage() for r in caplog.records]
        assert lines == [
            "endpoint=target attempt=1 delay_s=0.200 error_class=connection "
            "error_type=ConnectionRefusedError outcome=retry",
            "endpoint=target attempt=2 delay_s=0.000 error_class=- error_type=- outcome=ok",
        ]
        assert caplog.records[0].cutover == {  # type: ignore[attr-defined]
            "endpoint": "target",
            "attempt": 1,
            "delay_s": 0.2,
            "error_class": "connection",
            "error_type": "ConnectionRefusedError",
            "outcome": "retry",
        }
        assert secret not in caplog.text
