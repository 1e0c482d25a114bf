"""What the fault suite knows: the registry of faults, and how one injection ended.

:data:`FAULTS` lists every fault with what it must end in (``expect``) and the connection
paths it runs on; :class:`FaultOutcome` is one row of the fault matrix, turned into a check
result for the report. The helpers below judge an outcome the same way on every path:

- ``recover``: a transient fault ends in success after at least one retry (attempts and
  waits recorded, with the policy's growing ceilings);
- ``clear_error``: a permanent fault ends in one clear error within ``fail_within_s``, with
  no secret in it;
- ``detected``: injected latency is caught by the latency budget;
- ``same_verdict``: a reset during a row comparison does not change the verdict;
- ``exact_once``: every acknowledged write is present exactly once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.endpoints.redact import scrub
from harness.endpoints.retry import Backoff, classify
from harness.faults.db import RetryLog
from harness.results.check import CheckResult, Status

AREA = "faults"
BED_NAMES = ("postgres", "dsql-local")
"""The databases a fault bed can be (``faults.bed``; see :mod:`harness.faults.beds`)."""


@dataclass(frozen=True)
class Fault:
    """One fault the suite can inject, what it must end in, on which paths and beds it runs."""

    name: str
    expect: str
    paths: tuple[str, ...]
    doc: str
    beds: tuple[str, ...] = BED_NAMES
    """The fault beds it applies to (``faults.bed``)."""


_SECRET_FAULT = ("postgres",)
"""Secrets Manager faults: a DSQL bed has no secret to read (its clients sign IAM tokens)."""


FAULTS: tuple[Fault, ...] = (
    Fault(
        "refused",
        "recover",
        ("harness", "app"),
        "Nothing listens for a moment (proxy down), then the server is back.",
    ),
    Fault(
        "down",
        "clear_error",
        ("harness", "app"),
        "Nothing listens at all: connection refused on every attempt.",
    ),
    Fault(
        "reset_mid_query",
        "recover",
        ("harness", "app"),
        "TCP RST instead of the server's answer (reset_peer downstream).",
    ),
    Fault(
        "black_hole",
        "recover",
        ("harness", "app"),
        "Answers vanish for 300 ms, then the link is dropped (timeout toxic).",
    ),
    Fault(
        "slow_network",
        "detected",
        ("harness",),
        "Every answer is delayed (latency toxic); the p95 budget must catch it.",
    ),
    Fault(
        "server_restart",
        "recover",
        ("harness",),
        "The server restarts under an open session (on DSQL: the PostgreSQL behind the guard).",
    ),
    Fault(
        "conflict",
        "recover",
        ("harness",),
        "Two transactions write one row: genuine 40001 twice (on DSQL: OC000 at COMMIT).",
    ),
    Fault(
        "wrong_password",
        "clear_error",
        ("harness", "app"),
        "The server refuses the credential (a wrong password; on DSQL a token signed with "
        "other keys): never retried, never shown.",
    ),
    Fault(
        "reset_during_rows",
        "same_verdict",
        ("harness",),
        "Connections reset while the row-level comparison runs.",
    ),
    Fault(
        "no_lost_writes",
        "exact_once",
        ("harness",),
        "Inserts and updates under resets and conflicts; each acknowledged write once.",
    ),
    Fault(
        "throttled",
        "recover",
        ("aws", "app"),
        "Secrets Manager answers ThrottlingException once.",
        beds=_SECRET_FAULT,
    ),
    Fault(
        "server_error",
        "recover",
        ("aws", "app"),
        "Secrets Manager answers HTTP 500 twice.",
        beds=_SECRET_FAULT,
    ),
    Fault(
        "access_denied",
        "clear_error",
        ("aws", "app"),
        "Secrets Manager answers AccessDeniedException.",
        beds=_SECRET_FAULT,
    ),
    Fault(
        "not_found",
        "clear_error",
        ("aws", "app"),
        "Secrets Manager answers ResourceNotFoundException.",
        beds=_SECRET_FAULT,
    ),
    Fault(
        "wrong_region",
        "clear_error",
        ("aws",),
        "The secret is asked for in another region, where it does not exist.",
        beds=_SECRET_FAULT,
    ),
    Fault(
        "endpoint_down",
        "clear_error",
        ("aws", "app"),
        "Nothing listens at the Secrets Manager endpoint.",
        beds=_SECRET_FAULT,
    ),
    Fault(
        "hanging",
        "recover",
        ("aws", "app"),
        "Secrets Manager does not answer for 0.5 s, then drops the connection, once.",
        beds=_SECRET_FAULT,
    ),
    Fault(
        "dsql_no_credentials",
        "clear_error",
        ("aws",),
        "No AWS credentials anywhere: the DSQL IAM token cannot be signed (signing is local).",
    ),
)
FAULTS_BY_NAME = {f.name: f for f in FAULTS}


@dataclass(frozen=True)
class FaultOutcome:
    """How one injected fault ended on one path: one row of the fault matrix."""

    fault: str
    path: str
    expect: str
    ended: str
    """``success``, ``error``, ``detected``, ``missed``, ``same_verdict``, ``changed``,
    ``exact_once``, ``lost_writes`` or ``not_exercised``."""
    passed: bool
    summary: str
    seconds: float
    attempts: int | None = None
    delays_s: tuple[float, ...] = ()
    error_class: str | None = None
    message: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "fault": self.fault,
            "path": self.path,
            "expect": self.expect,
            "outcome": self.ended,
            "attempts": self.attempts,
            "delays_s": [round(d, 4) for d in self.delays_s],
            "seconds": round(self.seconds, 3),
            "error_class": self.error_class,
            "message": self.message,
            "about": FAULTS_BY_NAME[self.fault].doc,
        }
        if self.detail:
            row["detail"] = self.detail
        return row

    def result(self) -> CheckResult:
        if self.ended == "not_exercised":
            status = Status.SKIP
        else:
            status = Status.PASS if self.passed else Status.FAIL
        return CheckResult(
            AREA,
            f"{self.path}:{self.fault}",
            status,
            self.summary,
            evidence=self.evidence(),
            duration_s=self.seconds,
        )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def heal_on(call: int, action: Callable[[], None]) -> Callable[[float], None]:
    """A real sleep that also ends the outage during the ``call``-th wait."""
    calls = [0]

    def sleep(seconds: float) -> None:
        calls[0] += 1
        if calls[0] == call:
            action()
        time.sleep(seconds)

    return sleep


def recovered(
    spec: Fault,
    path: str,
    log: RetryLog,
    start: float,
    work: Callable[[], Any],
    policy: Backoff | None = None,
) -> FaultOutcome:
    """Run ``work``; a transient fault must end in success after at least one retry."""
    try:
        work()
    except Exception as exc:
        attempts = len(log.attempts)
        return FaultOutcome(
            spec.name,
            path,
            spec.expect,
            "error",
            False,
            f"did not recover: {scrub(first_line(exc))}",
            time.monotonic() - start,
            attempts,
            tuple(log.delays),
            classify(exc).value,
        )
    delays = tuple(log.delays)
    growing = list(delays) == sorted(delays)
    retried = log.retried > 0
    passed = retried
    summary = (
        f"recovered after {len(log.attempts)} attempts"
        f" (waits {', '.join(f'{d:.3f}' for d in delays)} s)"
        if retried
        else "succeeded without a retry: the fault was not felt"
    )
    return FaultOutcome(
        spec.name,
        path,
        spec.expect,
        "success",
        passed,
        summary,
        time.monotonic() - start,
        len(log.attempts),
        delays,
        detail={
            "waits_growing": growing,
            # The policy's ceilings grow by its multiplier; with full jitter each actual wait
            # is drawn below its ceiling, so the waits themselves need not grow.
            "ceilings_s": [policy.ceiling(n) for n in range(1, len(delays) + 1)] if policy else [],
            "classes": [a.error_class for a in log.attempts],
        },
    )


def clear_error(
    spec: Fault,
    path: str,
    start: float,
    exc: BaseException | None,
    message: str,
    secrets_: tuple[str, ...],
    *,
    attempts: int | None,
    bound_s: float,
    delays: tuple[float, ...] = (),
) -> FaultOutcome:
    """A permanent fault must end in one clear error, in time, with no secret in it."""
    seconds = time.monotonic() - start
    if exc is None:
        return FaultOutcome(
            spec.name,
            path,
            spec.expect,
            "success",
            False,
            "succeeded although the fault is permanent",
            seconds,
            attempts,
        )
    leaked = [s for s in secrets_ if s and s in message]
    problems = []
    if leaked:
        problems.append("the error shows a secret")
    if seconds > bound_s:
        problems.append(f"took {seconds:.1f} s, over the {bound_s:g} s bound")
    if not message.strip():
        problems.append("the error is empty")
    safe = scrub(message, secrets_)
    summary = (
        f"clear error after {attempts if attempts is not None else '?'} attempt(s) in "
        f"{seconds:.2f} s: {safe}"
        if not problems
        else "; ".join(problems) + f": {safe}"
    )
    return FaultOutcome(
        spec.name,
        path,
        spec.expect,
        "error",
        not problems,
        summary,
        seconds,
        attempts,
        delays,
        classify(exc).value,
        safe,
    )


def watch_until(condition: Callable[[], bool], action: Callable[[], None], bound_s: float) -> Any:
    """A started-later watcher: run ``action`` once ``condition`` holds (bounded wait)."""

    class Watch(threading.Thread):
        def __init__(self) -> None:
            super().__init__(daemon=True)
            self._stop_event = threading.Event()

        def run(self) -> None:
            deadline = time.monotonic() + bound_s
            while time.monotonic() < deadline and not self._stop_event.wait(0.002):
                if condition():
                    action()
                    return

        def cancel(self) -> None:
            self._stop_event.set()

    return Watch()
