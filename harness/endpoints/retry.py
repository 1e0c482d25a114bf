"""One retry discipline for the whole harness: backoff policy, error classes, the retry loop.

The public surface is small and stable (other modules build on it):

- :class:`Backoff` — a frozen policy: ``initial`` delay, ``multiplier``, ``cap``, total
  ``attempts`` and ``jitter`` (``"full"``: each delay is uniform in [0, ceiling), AWS's "full
  jitter"; ``"none"``: the ceiling itself). ``Backoff.delay(retry, rand)`` is the wait before
  retry number ``retry`` (1-based); ``Backoff.schedule(rand)`` lists every wait.
- :class:`ErrorClass` — what went wrong, each member documented; ``.retryable`` says whether
  trying again can help.
- :func:`classify` — maps an exception (psycopg, botocore, socket, OS) to an
  :class:`ErrorClass`. Transient: throttling, AWS 5xx, connection refused/reset/timeouts,
  serialization failures (``40001``, DSQL's OCC ``OC000``/``OC001``) and DSQL's ``XX000``
  "server unavailable". Permanent: bad credentials (``28P01``/``28000``), missing resources,
  access denied, unknown host names, invalid DSNs, TLS refused.
- :func:`retry_call` — ``retry_call(fn, policy=..., classify=..., endpoint=..., on_attempt=...,
  sleep=..., rand=...)`` calls ``fn`` until it returns, a permanent error occurs or the
  attempts run out; then the last exception is re-raised unchanged. Every attempt becomes an
  :class:`Attempt` (number, delay before the next, error class, outcome) passed to
  ``on_attempt`` and logged on the ``cutover.retry`` logger as one structured line
  (``endpoint=… attempt=… delay_s=… error_class=… outcome=…``, the same fields in
  ``extra["cutover"]``). Log lines carry the exception's *type*, never its message: driver
  messages can echo a DSN, and a DSN can hold a password.

``sleep`` and ``rand`` are injectable so tests assert the exact schedule without waiting.
"""

from __future__ import annotations

import enum
import logging
import random as _random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

__all__ = ["Attempt", "Backoff", "ErrorClass", "classify", "retry_call"]

log = logging.getLogger("cutover.retry")

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with a cap and jitter; ``attempts`` counts the first try too."""

    initial: float = 0.2
    """Ceiling of the first wait, in seconds."""
    multiplier: float = 2.0
    """Each further ceiling is the previous one times this."""
    cap: float = 5.0
    """No wait exceeds this, in seconds."""
    attempts: int = 4
    """Total calls, the first one included (1 = never retry)."""
    jitter: Literal["full", "none"] = "full"
    """``full``: uniform in [0, ceiling) so many clients do not retry in lockstep."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.initial < 0 or self.cap < 0 or self.multiplier < 1:
            raise ValueError("initial and cap must be >= 0 and multiplier >= 1")
        if self.jitter not in ("full", "none"):
            raise ValueError(f"jitter must be 'full' or 'none', not {self.jitter!r}")

    def ceiling(self, retry: int) -> float:
        """The largest wait before retry number ``retry`` (1 = after the first failure)."""
        return float(min(self.cap, self.initial * self.multiplier ** (retry - 1)))

    def delay(self, retry: int, rand: Callable[[], float] = _random.random) -> float:
        """The wait before retry number ``retry``; ``rand`` returns a float in [0, 1)."""
        ceiling = self.ceiling(retry)
        return ceiling * rand() if self.jitter == "full" else ceiling

    def schedule(self, rand: Callable[[], float] = _random.random) -> list[float]:
        """Every wait a call that always fails transiently would see (``attempts - 1``)."""
        return [self.delay(retry, rand) for retry in range(1, self.attempts)]


NO_RETRY = Backoff(attempts=1)


class ErrorClass(enum.Enum):
    """Why an attempt failed, as far as deciding to retry goes."""

    THROTTLED = "throttled"
    """The service asked us to slow down (AWS throttling, too many connections)."""
    SERVER = "server"
    """The service failed on its side (HTTP 5xx, DSQL ``XX000`` server unavailable)."""
    CONNECTION = "connection"
    """The network path failed: refused, reset, timed out, closed mid-handshake."""
    CONFLICT = "conflict"
    """A serialization failure (``40001``; DSQL optimistic concurrency ``OC000``/``OC001``)."""
    AUTH = "auth"
    """Wrong user name, password or token (``28P01``, ``28000``)."""
    ACCESS_DENIED = "access_denied"
    """AWS refused the caller: no permission, no or expired credentials."""
    NOT_FOUND = "not_found"
    """The named resource does not exist (a secret, a database, a role)."""
    UNKNOWN_HOST = "unknown_host"
    """The host name does not resolve (DNS)."""
    TLS = "tls"
    """TLS was required and could not be set up (the server has none, or the cert is wrong)."""
    INVALID = "invalid"
    """The request itself is malformed (a bad DSN, a bad parameter)."""
    OTHER = "other"
    """Anything else; not retried, because retrying the unknown hides bugs."""

    @property
    def retryable(self) -> bool:
        """Whether another attempt can succeed without anyone changing anything."""
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {ErrorClass.THROTTLED, ErrorClass.SERVER, ErrorClass.CONNECTION, ErrorClass.CONFLICT}
)

_THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)
_NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NotFoundException", "NoSuchEntity"})
_INVALID_CODES = frozenset(
    {"ValidationException", "InvalidParameterException", "InvalidRequestException"}
)
_SERVER_CODES = frozenset({"InternalServiceError", "InternalFailure", "ServiceUnavailable"})

# libpq reports connection failures as text (no SQLSTATE before the server answers), so the
# message decides; the first match wins, most specific first.
_PG_MESSAGES: tuple[tuple[str, ErrorClass], ...] = (
    ("password authentication failed", ErrorClass.AUTH),
    ("no password supplied", ErrorClass.AUTH),
    ("pam authentication failed", ErrorClass.AUTH),
    ("no pg_hba.conf entry", ErrorClass.AUTH),
    ("unable to accept connection, access denied", ErrorClass.AUTH),  # Aurora DSQL's words
    ("could not translate host name", ErrorClass.UNKNOWN_HOST),
    ("name or service not known", ErrorClass.UNKNOWN_HOST),
    ("nodename nor servname", ErrorClass.UNKNOWN_HOST),
    ("temporary failure in name resolution", ErrorClass.UNKNOWN_HOST),
    ("server does not support ssl", ErrorClass.TLS),
    ("ssl was required", ErrorClass.TLS),
    ("certificate verify failed", ErrorClass.TLS),
    ("server certificate for", ErrorClass.TLS),  # "... does not match host name"
    ("root certificate file", ErrorClass.TLS),
    ("too many connections", ErrorClass.THROTTLED),
    ("the database system is starting up", ErrorClass.SERVER),
    ("the database system is shutting down", ErrorClass.SERVER),
    ("server unavailable", ErrorClass.SERVER),
    ("connection refused", ErrorClass.CONNECTION),
    ("connection reset", ErrorClass.CONNECTION),
    ("timeout expired", ErrorClass.CONNECTION),
    ("server closed the connection unexpectedly", ErrorClass.CONNECTION),
    ("connection timed out", ErrorClass.CONNECTION),
    ("no route to host", ErrorClass.CONNECTION),
    ("network is unreachable", ErrorClass.CONNECTION),
    ("does not exist", ErrorClass.NOT_FOUND),  # database or role
    ("invalid connection option", ErrorClass.INVALID),
    ("invalid dsn", ErrorClass.INVALID),
    ('missing "=" after', ErrorClass.INVALID),
    ("invalid sslmode value", ErrorClass.INVALID),
)

_SQLSTATES = {
    "28P01": ErrorClass.AUTH,
    "28000": ErrorClass.AUTH,
    "40001": ErrorClass.CONFLICT,
    "40P01": ErrorClass.CONFLICT,
    "53300": ErrorClass.THROTTLED,  # too_many_connections
    "57P03": ErrorClass.SERVER,  # cannot_connect_now
    "XX000": ErrorClass.SERVER,  # DSQL: "server unavailable", retry the transaction
    "08000": ErrorClass.CONNECTION,
    "08001": ErrorClass.CONNECTION,
    "08006": ErrorClass.CONNECTION,
    "3D000": ErrorClass.NOT_FOUND,
}


def classify(exc: BaseException) -> ErrorClass:
    """Classify ``exc`` (or the error it wraps) for the retry decision."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _classify_one(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return ErrorClass.OTHER


def _classify_one(exc: BaseException) -> ErrorClass | None:
    aws = _classify_aws(exc)
    if aws is not None:
        return aws
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate in _SQLSTATES:
        return _SQLSTATES[sqlstate]
    if _is_psycopg(exc):
        return _from_message(str(exc)) or _psycopg_fallback(exc)
    if isinstance(exc, socket.gaierror):
        return ErrorClass.UNKNOWN_HOST
    if isinstance(exc, ssl.SSLError):
        return ErrorClass.TLS
    if isinstance(exc, ConnectionError | TimeoutError | socket.timeout):
        return ErrorClass.CONNECTION
    return None


def _is_psycopg(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("psycopg")


def _psycopg_fallback(exc: BaseException) -> ErrorClass | None:
    import psycopg

    if isinstance(exc, psycopg.ProgrammingError):
        return ErrorClass.INVALID  # psycopg raises it for an unparsable conninfo
    if isinstance(exc, psycopg.OperationalError):
        return ErrorClass.CONNECTION  # a connect that failed for a reason libpq did not name
    return None


def _from_message(message: str) -> ErrorClass | None:
    lowered = message.lower()
    return next((cls for needle, cls in _PG_MESSAGES if needle in lowered), None)


def _classify_aws(exc: BaseException) -> ErrorClass | None:
    module = type(exc).__module__
    if not module.startswith("botocore"):
        return None
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _THROTTLE_CODES or status == 429:
            return ErrorClass.THROTTLED
        if code in _DENIED_CODES or status == 403:
            return ErrorClass.ACCESS_DENIED
        if code in _NOT_FOUND_CODES:
            return ErrorClass.NOT_FOUND
        if code in _INVALID_CODES:
            return ErrorClass.INVALID
        if code in _SERVER_CODES or status >= 500:
            return ErrorClass.SERVER
        return ErrorClass.OTHER
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return ErrorClass.ACCESS_DENIED
    if isinstance(exc, bx.NoRegionError | bx.ParamValidationError):
        return ErrorClass.INVALID
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectionError | bx.HTTPClientError):
        # botocore wraps a DNS failure in EndpointConnectionError too; the cause says which.
        cause = exc.__cause__ or exc.__context__
        while cause is not None:
            if isinstance(cause, socket.gaierror):
                return ErrorClass.UNKNOWN_HOST
            cause = cause.__cause__ or cause.__context__
        return ErrorClass.CONNECTION
    return None


@dataclass(frozen=True)
class Attempt:
    """One call made by :func:`retry_call` and what came of it."""

    endpoint: str
    """What was being reached (a role or a display name; never a DSN with a secret)."""
    number: int
    """1-based attempt number."""
    delay_s: float
    """Wait before the next attempt; 0.0 when none follows."""
    error_class: str | None
    """:class:`ErrorClass` value of the failure, or None when the attempt succeeded."""
    error_type: str | None
    """The exception's type name (its message is never recorded: it may echo a secret)."""
    outcome: Literal["ok", "retry", "give_up"]
    """``ok`` returned, ``retry`` will try again after ``delay_s``, ``give_up`` re-raises."""

    def to_dict(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint,
            "attempt": self.number,
            "delay_s": round(self.delay_s, 6),
            "error_class": self.error_class,
            "error_type": self.error_type,
            "outcome": self.outcome,
        }


def retry_call(
    fn: Callable[[], T],
    *,
    policy: Backoff = Backoff(),  # frozen, so one shared default is safe
    classify: Callable[[BaseException], ErrorClass] = classify,
    endpoint: str = "",
    on_attempt: Callable[[Attempt], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = _random.random,
) -> T:
    """Call ``fn`` under ``policy``; re-raise the last error when it is permanent or the
    attempts are spent. See the module docstring for what is logged."""
    number = 0
    while True:
        number += 1
        try:
            value = fn()
        except Exception as exc:
            error_class = classify(exc)
            last = number >= policy.attempts or not error_class.retryable
            delay = 0.0 if last else policy.delay(number, rand)
            _report(
                Attempt(
                    endpoint,
                    number,
                    delay,
                    error_class.value,
                    type(exc).__name__,
                    "give_up" if last else "retry",
                ),
                on_attempt,
            )
            if last:
                raise
            sleep(delay)
            continue
        _report(Attempt(endpoint, number, 0.0, None, None, "ok"), on_attempt)
        return value


def _report(attempt: Attempt, on_attempt: Callable[[Attempt], None] | None) -> None:
    level = logging.DEBUG if attempt.outcome == "ok" else logging.WARNING
    if attempt.outcome == "give_up":
        level = logging.ERROR
    fields = attempt.to_dict()
    log.log(
        level,
        "endpoint=%s attempt=%d delay_s=%.3f error_class=%s error_type=%s outcome=%s",
        attempt.endpoint,
        attempt.number,
        attempt.delay_s,
        attempt.error_class or "-",
        attempt.error_type or "-",
        attempt.outcome,
        extra={"cutover": fields},
    )
    if on_attempt is not None:
        on_attempt(attempt)
