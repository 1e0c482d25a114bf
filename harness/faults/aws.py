"""AWS fault modes for Secrets Manager (and any other AWS call), in process and out of process.

In process, an :class:`AwsFault` hooks botocore's ``before-send`` event and answers the HTTP
request itself — an error response, a refused connection, a read timeout — so botocore's
*real* retry handler (``standard`` mode) sees it and retries exactly as it would against AWS.
(botocore's Stubber bypasses the retry handler, which is why it is not used.) The hook is
registered first, ahead of moto's own ``before-send`` handler under ``mock_aws``, so a fault
takes precedence over the mock and a passed-through call reaches moto unchanged.

Out of process, :class:`FaultyFront` is a small HTTP server on 127.0.0.1 in front of a moto
server (``ThreadedMotoServer``): it answers the first requests with the fault and forwards the
rest. Any AWS SDK (a Node or Go backend as much as boto3) pointed at it with
``AWS_ENDPOINT_URL`` meets the same faults. "Endpoint down" and "hanging" out of process go
through :class:`~harness.faults.proxy.FaultProxy` (``down`` and ``timeout`` toxics).

Wrong region is not injected: a client in the wrong region really does not find the secret.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from harness.errors import HarnessError

__all__ = ["AWS_MODES", "AwsFault", "FaultyFront", "Mode"]


@dataclass(frozen=True)
class Mode:
    """One AWS failure as the wire shows it."""

    name: str
    status: int
    """HTTP status of the error answer; 0 for faults that produce no answer at all."""
    code: str
    """The AWS error code (``__type`` in a JSON-protocol answer)."""
    message: str
    transient: bool
    """Whether AWS SDKs retry it (throttling, 5xx, connection failures)."""


AWS_MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode("throttled", 400, "ThrottlingException", "Rate exceeded", True),
        Mode("server_error", 500, "InternalServiceError", "An internal error occurred", True),
        Mode("unavailable", 503, "ServiceUnavailable", "Service is unavailable", True),
        Mode("access_denied", 400, "AccessDeniedException", "User is not authorized", False),
        Mode(
            "not_found",
            400,
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
            False,
        ),
        Mode("refused", 0, "", "connection refused", True),
        Mode("hanging", 0, "", "no answer before the read timeout", True),
    )
}
"""Every fault mode by name (``refused`` and ``hanging`` have no HTTP answer)."""


def _mode(name: str) -> Mode:
    try:
        return AWS_MODES[name]
    except KeyError:
        raise HarnessError(
            f"unknown AWS fault mode {name!r}; allowed: {', '.join(AWS_MODES)}"
        ) from None


def error_body(mode: Mode) -> bytes:
    """An AWS JSON-protocol error document (Secrets Manager speaks awsJson1.1)."""
    return json.dumps({"__type": mode.code, "message": mode.message}).encode()


class _Raw:
    """The minimal raw body botocore's AWSResponse reads from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@dataclass
class AwsFault:
    """Fail the first ``times`` calls of ``operation`` (all of them when ``times`` is None).

    ``operation`` is botocore's ``<service-id>.<Operation>`` (``secrets-manager.GetSecretValue``).
    ``calls`` holds the monotonic time of every attempt botocore made, so the retries and the
    gaps between them are observed, not assumed.
    """

    mode: str
    times: int | None = None
    operation: str = "secrets-manager.GetSecretValue"
    hang_s: float = 0.2
    """For ``hanging``: how long the call hangs before the read times out."""
    calls: list[float] = field(default_factory=list)
    injected: int = 0

    def __post_init__(self) -> None:
        _mode(self.mode)

    @property
    def attempts(self) -> int:
        return len(self.calls)

    @property
    def gaps(self) -> list[float]:
        """Observed waits between consecutive attempts (backoff plus the call itself)."""
        return [b - a for a, b in itertools.pairwise(self.calls)]

    def __call__(self, request: Any, **_: Any) -> Any:
        self.calls.append(time.monotonic())
        if self.times is not None and self.injected >= self.times:
            return None  # pass through: moto (or AWS) answers
        self.injected += 1
        return respond(_mode(self.mode), request.url, hang_s=self.hang_s)

    @contextlib.contextmanager
    def attached(self, events: Any) -> Iterator[AwsFault]:
        """Hook into ``events``: a client's ``client.meta.events`` or a boto3 session's
        ``session.events`` (clients made from that session afterwards inherit the hook)."""
        name = f"before-send.{self.operation}"
        events.register_first(name, self, unique_id=f"cutover-fault-{id(self)}")
        try:
            yield self
        finally:
            events.unregister(name, unique_id=f"cutover-fault-{id(self)}")


def respond(mode: Mode, url: str, *, hang_s: float = 0.2) -> Any:
    """botocore's view of ``mode``: an AWSResponse, or the exception its HTTP layer raises."""
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

    if mode.name == "refused":
        raise EndpointConnectionError(endpoint_url=url, error="[Errno 111] Connection refused")
    if mode.name == "hanging":
        time.sleep(hang_s)
        raise ReadTimeoutError(endpoint_url=url)
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "cutover-fault"}
    return AWSResponse(url, mode.status, headers, _Raw(error_body(mode)))


# -- out of process -----------------------------------------------------------------------


class FaultyFront:
    """An HTTP front on 127.0.0.1 that fails the first ``times`` requests, then forwards.

    ``upstream`` is the moto server's URL. Only requests whose ``X-Amz-Target`` ends with one
    of ``targets`` are faulted (default: every request). The fault can be changed while it
    runs (:meth:`set`), and every wait is bounded.
    """

    def __init__(
        self,
        upstream: str,
        *,
        mode: str | None = None,
        times: int | None = None,
        targets: tuple[str, ...] = (),
        hang_s: float = 0.5,
        upstream_timeout_s: float = 10.0,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.targets = targets
        self.hang_s = hang_s
        self.upstream_timeout_s = upstream_timeout_s
        self.requests: list[tuple[float, str, bool]] = []
        """(monotonic time, X-Amz-Target, faulted) of every request seen."""
        self._lock = threading.Lock()
        self._mode: Mode | None = None
        self._left: int | None = None
        self.set(mode, times)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def set(self, mode: str | None, times: int | None = None) -> None:
        """Fault the next ``times`` matching requests with ``mode`` (None: pass everything)."""
        with self._lock:
            self._mode = None if mode is None else _mode(mode)
            self._left = times

    def faulted(self) -> int:
        return sum(1 for _, _, hit in self.requests if hit)

    def start(self) -> FaultyFront:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FaultyFront:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _take(self, target: str) -> Mode | None:
        """The fault for this request, if any (counts it down)."""
        with self._lock:
            if self._mode is None or (self.targets and not target.endswith(self.targets)):
                return None
            if self._left is not None:
                if self._left <= 0:
                    return None
                self._left -= 1
            return self._mode

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet: tests read their own output
                return

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = self.headers.get("X-Amz-Target", "")
                mode = front._take(target)
                front.requests.append((time.monotonic(), target, mode is not None))
                if mode is not None and mode.status == 0:
                    # hanging (and refused, which a front cannot fake): no answer, then close
                    time.sleep(front.hang_s)
                    self.close_connection = True
                    return
                if mode is not None:
                    self._answer(
                        mode.status,
                        error_body(mode),
                        {"Content-Type": "application/x-amz-json-1.1"},
                    )
                    return
                status, headers, answer = front._forward(
                    self.command, self.path, self.headers, body
                )
                self._answer(status, answer, headers)

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

        return Handler

    def _forward(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1",
            self.upstream.port or 80,
            timeout=self.upstream_timeout_s,
        )
        try:
            conn.request(method, path, body=body, headers=dict(headers.items()))
            answer = conn.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            conn.close()
