"""The application's health endpoint, probed ``runs`` times like the database's ``SELECT 1``.

A probe succeeds when the URL answers within ``timeout_ms`` with the expected status and,
when the plan gives ``json``, a JSON body holding those keys and values (a subset: nested
objects match the same way; ``true`` is not ``1``). Probes go straight to the URL (no proxy
from the environment): the check is about the application, not a proxy in front of it.

With ``health.command`` cutover starts the application itself, pointed at the target
(:mod:`harness.app.sides`: a copy made for the run unless ``allow_writes``), waits until the
URL answers at all, probes, and stops it; an application that exits or never answers is an
error naming its last output.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.app import process
from harness.app.settings import AppHealth
from harness.app.sides import pointed_at
from harness.endpoints.resolve import Connector
from harness.errors import CheckError
from harness.latency.health import Probe
from harness.latency.timing import summary
from harness.results.check import CheckResult, Finding, FindingKind, Severity, conclude

AREA = "app_health"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_POLL_S = 0.2


def shown_url(url: str) -> str:
    """The URL as it may be shown: no user, password, query or fragment (a token may hide in
    any of them)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))


def probe(settings: AppHealth) -> Probe:
    """One request: did it answer as a success must, in time?"""
    start = time.perf_counter_ns()
    error = _request(settings)
    ms = (time.perf_counter_ns() - start) / 1e6
    if error is None and ms > settings.timeout_ms:
        error = f"answered after {ms:.1f} ms"
    return Probe(error is None, round(ms, 3), error)


def _request(settings: AppHealth) -> str | None:
    try:
        with _OPENER.open(settings.url, timeout=settings.timeout_ms / 1000) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:  # a 4xx/5xx is an answer: judged by its status
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        return f"no answer: {type(reason).__name__}: {reason}"
    if status != settings.status:
        return f"status {status} (expected {settings.status})"
    if settings.json_body is None:
        return None
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "the body is not JSON"
    missing = _unmatched(settings.json_body, document)
    return None if missing is None else f"the JSON body does not hold {missing}"


def _unmatched(expected: Any, actual: Any, path: str = "") -> str | None:
    """Where ``actual`` fails to hold ``expected`` (``status: healthy``), or None."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path or 'the body'}: an object"
        for key, value in expected.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                return f"{where}: {json.dumps(value)}"
            found = _unmatched(value, actual[key], where)
            if found is not None:
                return found
        return None
    # bool is an int in Python: compare types too, so `true` never matches `1`.
    if type(expected) is not type(actual) and not (
        isinstance(expected, int | float)
        and isinstance(actual, int | float)
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        return f"{path}: {json.dumps(expected)}"
    return None if expected == actual else f"{path}: {json.dumps(expected)}"


def probes(settings: AppHealth) -> list[Probe]:
    """``runs`` probes in a row."""
    return [probe(settings) for _ in range(settings.runs)]


@contextmanager
def application(settings: AppHealth, target: Connector) -> Iterator[dict[str, Any]]:
    """The application started against the target and answering (or nothing to do without
    ``command``); yields what the evidence says about it."""
    if settings.command is None:
        yield {"started_by": "already running"}
        return
    with (
        tempfile.TemporaryDirectory(prefix="cutover-app-") as workdir,
        pointed_at(target, allow_writes=settings.allow_writes, workdir=Path(workdir)) as pointed,
    ):
        started = process.Started(
            settings.argv, cwd=settings.cwd, env=process.environment(pointed, settings.env)
        )
        try:
            deadline = time.monotonic() + settings.start_timeout_s
            while True:
                if started.popen.poll() is not None:
                    raise CheckError(
                        f"the application ('{settings.command}') exited "
                        f"{started.popen.returncode} before {shown_url(settings.url)} answered; "
                        f"last output: {process.gist(started.tail(pointed))}"
                    )
                if _answers(settings.url):
                    break
                if time.monotonic() > deadline:
                    raise CheckError(
                        f"{shown_url(settings.url)} did not answer within "
                        f"{settings.start_timeout_s:g} s of starting '{settings.command}' "
                        "(health.start_timeout_s); last output: "
                        + process.gist(started.tail(pointed))
                    )
                time.sleep(_POLL_S)
            yield {"started_by": "cutover", "command": settings.command, "database": pointed.shown}
        finally:
            started.close()


def _answers(url: str) -> bool:
    try:
        with _OPENER.open(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any status: the server is up; the probes judge the answer
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return False


def check_health(
    found: list[Probe], settings: AppHealth, about: dict[str, Any] | None = None
) -> CheckResult:
    """At least ``min_successes`` of ``runs`` probes succeeded (the strip in the report)."""
    name = shown_url(settings.url)
    successes = sum(p.ok for p in found)
    errors = sorted({p.error for p in found if p.error})
    expects = f"status {settings.status}" + (
        f" and JSON holding {json.dumps(settings.json_body)}" if settings.json_body else ""
    )
    evidence: dict[str, Any] = {
        "url": name,
        "runs": len(found),
        "successes": successes,
        "min_successes": settings.min_successes,
        "timeout_ms": settings.timeout_ms,
        "expects": expects,
        "probe_ms": summary([p.ms for p in found if p.ok]),
        "strip": "".join("1" if p.ok else "0" for p in found),
        **(about or {}),
    }
    if errors:
        evidence["errors"] = errors[:5]
    findings = []
    if successes < settings.min_successes:
        findings.append(
            Finding(
                FindingKind.APP_HEALTH,
                Severity.ERROR,
                name,
                f"{successes} of {len(found)} health probes answered {expects} within "
                f"{settings.timeout_ms:g} ms (need {settings.min_successes})"
                + (f"; first error: {errors[0]}" if errors else ""),
                target=str(successes),
            )
        )
    return conclude(
        AREA,
        name,
        findings,
        evidence,
        ok=f"{successes} of {len(found)} health probes answered {expects} within "
        f"{settings.timeout_ms:g} ms",
    )
