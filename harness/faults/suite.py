"""The fault suite: one item per (fault x connection path), each fault injected for real.

A :class:`FaultBed` holds what faults are injected into, all created by the harness itself: a
TCP PostgreSQL with a password (the harness's writes, restarts and conflicts happen only
there), a moto server holding a Secrets Manager secret, a faulty HTTP front before it, and a
fresh :class:`~harness.faults.proxy.FaultProxy` per item. :func:`run_item` injects one fault on
one path and returns a :class:`FaultOutcome`; :meth:`FaultOutcome.result` makes it a check
result whose evidence is one row of the fault matrix (outcome, attempts, waits, time).

What each fault must end in (``expect``):

- ``recover``: a transient fault ends in success, with the attempts and growing waits seen;
- ``clear_error``: a permanent fault ends in one clear error within ``fail_within_s``, with no
  secret in it;
- ``detected``: injected latency is caught by the latency budget;
- ``same_verdict``: a reset during a row comparison does not change the verdict;
- ``exact_once``: every acknowledged write is present exactly once.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from harness.checks.result import CheckResult, Status
from harness.errors import HarnessError
from harness.faults.app_path import AppRun, app_environment, run_app
from harness.faults.aws import FaultyFront
from harness.faults.db import RetryLog, Session, connector, provoke_conflict
from harness.faults.proxy import FaultProxy
from harness.faults.settings import FaultSettings
from harness.faults.workload import WorkloadSettings, prepare, run_workload, verify
from harness.provision import PostgresCluster
from harness.redact import scrub
from harness.retry import Backoff, classify

AREA = "faults"
REGION = "us-east-2"
OTHER_REGION = "us-west-2"
_BED_DB = "cutover_faults"
_HEAL_AFTER_S = 0.3  # app path: how long a transient outage lasts (the app must outlast it)


@dataclass(frozen=True)
class Fault:
    """One fault the suite can inject, what it must end in, and on which paths it runs."""

    name: str
    expect: str
    paths: tuple[str, ...]
    doc: str


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
        "The PostgreSQL server restarts under an open session.",
    ),
    Fault(
        "conflict",
        "recover",
        ("harness",),
        "Two REPEATABLE READ transactions collide: genuine SQLSTATE 40001, twice.",
    ),
    Fault(
        "wrong_password",
        "clear_error",
        ("harness", "app"),
        "The server rejects the password (28P01): never retried, never shown.",
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
        "throttled", "recover", ("aws", "app"), "Secrets Manager answers ThrottlingException once."
    ),
    Fault("server_error", "recover", ("aws", "app"), "Secrets Manager answers HTTP 500 twice."),
    Fault(
        "access_denied",
        "clear_error",
        ("aws", "app"),
        "Secrets Manager answers AccessDeniedException.",
    ),
    Fault(
        "not_found",
        "clear_error",
        ("aws", "app"),
        "Secrets Manager answers ResourceNotFoundException.",
    ),
    Fault(
        "wrong_region",
        "clear_error",
        ("aws",),
        "The secret is asked for in another region, where it does not exist.",
    ),
    Fault(
        "endpoint_down",
        "clear_error",
        ("aws", "app"),
        "Nothing listens at the Secrets Manager endpoint.",
    ),
    Fault(
        "hanging",
        "recover",
        ("aws", "app"),
        "Secrets Manager does not answer for 0.5 s, then drops the connection, once.",
    ),
)
FAULTS_BY_NAME = {f.name: f for f in FAULTS}


def items(settings: FaultSettings) -> list[tuple[str, str]]:
    """The (path, fault) pairs the plan asks for, in registry order."""
    wanted = set(settings.faults)
    return [
        (path, fault.name)
        for path in settings.paths
        for fault in FAULTS
        if fault.name in wanted and path in fault.paths
    ]


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


# -- the bed ------------------------------------------------------------------------------


class FaultBed:
    """Everything faults are injected into; created, owned and deleted by the harness."""

    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings
        self.password = secrets.token_urlsafe(16)
        self.secret_id = f"cutover/faults/{uuid.uuid4().hex[:8]}"
        self._cluster: PostgresCluster | None = None
        self._moto: Any = None
        self._front: FaultyFront | None = None
        self._lock = threading.Lock()

    # PostgreSQL -----------------------------------------------------------------------------

    @property
    def cluster(self) -> PostgresCluster:
        with self._lock:
            if self._cluster is None:
                cluster = PostgresCluster(tcp=True, password=self.password)
                cluster.start()
                self._cluster = cluster
                cluster.create_database(_BED_DB)
                with psycopg.connect(cluster.conninfo(_BED_DB), autocommit=True) as conn:
                    conn.execute(
                        "CREATE TABLE counters (id int PRIMARY KEY, hits int NOT NULL DEFAULT 0);"
                        " INSERT INTO counters (id) VALUES (1)"
                    )
                prepare(cluster.conninfo(_BED_DB))
            return self._cluster

    def proxy(self) -> FaultProxy:
        """A fresh proxy in front of the bed's PostgreSQL (stop it when done)."""
        cluster = self.cluster
        return FaultProxy((cluster.host, cluster.port), seed=self.settings.seed).start()

    def conninfo(self, proxy: FaultProxy) -> str:
        return f"host=127.0.0.1 port={proxy.port} user=postgres dbname={_BED_DB}"

    def session(self, proxy: FaultProxy, log: RetryLog, *, password: str | None = None) -> Session:
        secret = self.password if password is None else password
        return Session(
            connector(self.conninfo(proxy), password=secret),
            policy=self.settings.retry.backoff(),
            endpoint="faults-bed",
            log=log,
            secrets=(self.password, secret),
        )

    # AWS (moto) -----------------------------------------------------------------------------

    @property
    def front(self) -> FaultyFront:
        """The faulty HTTP front before a moto server holding the bed's secret."""
        with self._lock:
            if self._front is None:
                from moto.server import ThreadedMotoServer

                # werkzeug logs every request it serves to stderr; the matrix has what matters.
                logging.getLogger("werkzeug").setLevel(logging.WARNING)

                self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
                self._moto.start()
                host, port = self._moto.get_host_and_port()
                self._front = FaultyFront(f"http://{host}:{port}").start()
                with dummy_aws_credentials():
                    import boto3

                    boto3.client(
                        "secretsmanager", region_name=REGION, endpoint_url=f"http://{host}:{port}"
                    ).create_secret(Name=self.secret_id, SecretString=self._secret_text())
            return self._front

    def _secret_text(self) -> str:
        return json.dumps(
            {
                "username": "postgres",
                "password": self.password,
                "dbname": _BED_DB,
                "engine": "postgres",
            }
        )

    def close(self) -> None:
        if self._front is not None:
            self._front.stop()
        if self._moto is not None:
            self._moto.stop()
        if self._cluster is not None:
            self._cluster.stop()

    def __enter__(self) -> FaultBed:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def dummy_aws_credentials() -> Iterator[None]:
    """moto accepts any keys; real ones must never be sent to a stand-in."""
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing"
    )
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- running one item ---------------------------------------------------------------------


def run_item(bed: FaultBed, path: str, fault: str) -> FaultOutcome:
    """Inject ``fault`` on ``path`` and report how it ended."""
    spec = FAULTS_BY_NAME[fault]
    if path == "harness":
        return _HARNESS[fault](bed, spec)
    if path == "aws":
        return _aws(bed, spec)
    if path == "app":
        return _app(bed, spec)
    raise HarnessError(f"unknown fault path {path!r}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _heal_on(call: int, action: Callable[[], None]) -> Callable[[float], None]:
    """A real sleep that also ends the outage during the ``call``-th wait."""
    calls = [0]

    def sleep(seconds: float) -> None:
        calls[0] += 1
        if calls[0] == call:
            action()
        time.sleep(seconds)

    return sleep


def _recovered(
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
            f"did not recover: {scrub(_first_line(exc))}",
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


def _clear_error(
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


# -- harness path (PostgreSQL) --------------------------------------------------------------


def _h_refused(bed: FaultBed, spec: Fault) -> FaultOutcome:
    with bed.proxy() as proxy:
        proxy.disable()
        log = RetryLog(sleep=_heal_on(2, proxy.enable))
        start = time.monotonic()
        with bed.session(proxy, log) as session:
            return _recovered(
                spec, "harness", log, start, lambda: session.query("SELECT 1"), session.policy
            )


def _h_down(bed: FaultBed, spec: Fault) -> FaultOutcome:
    with bed.proxy() as proxy:
        proxy.disable()
        log = RetryLog()
        start = time.monotonic()
        with bed.session(proxy, log) as session:
            try:
                session.open()
            except psycopg.Error as exc:
                return _clear_error(
                    spec,
                    "harness",
                    start,
                    exc,
                    session.message(exc),
                    (bed.password,),
                    attempts=len(log.attempts),
                    bound_s=bed.settings.fail_within_s,
                    delays=tuple(log.delays),
                )
            return _clear_error(
                spec,
                "harness",
                start,
                None,
                "",
                (),
                attempts=len(log.attempts),
                bound_s=bed.settings.fail_within_s,
            )


def _h_toxic_then_heal(toxic: str, **attributes: Any) -> Callable[[FaultBed, Fault], FaultOutcome]:
    def run(bed: FaultBed, spec: Fault) -> FaultOutcome:
        with bed.proxy() as proxy:
            log = RetryLog(sleep=_heal_on(1, proxy.clear))
            with bed.session(proxy, log) as session:
                session.open()
                log.attempts.clear()
                proxy.add_toxic(toxic, **attributes)
                start = time.monotonic()
                return _recovered(
                    spec, "harness", log, start, lambda: session.query("SELECT 1"), session.policy
                )

    return run


def p95(samples_ms: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples_ms)
    rank = max(1, -(-95 * len(ordered) // 100))
    return ordered[rank - 1]


def _round_trips(session: Session, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        session.query("SELECT 1")
        times.append((time.perf_counter() - start) * 1000)
    return times


def _h_slow_network(bed: FaultBed, spec: Fault) -> FaultOutcome:
    settings = bed.settings
    with bed.proxy() as proxy, bed.session(proxy, RetryLog()) as session:
        session.open()
        start = time.monotonic()
        baseline = p95(_round_trips(session, settings.samples))
        proxy.add_toxic(
            "latency",
            stream="downstream",
            latency=settings.injected_latency_ms,
            jitter=settings.injected_latency_ms / 10,
        )
        faulted = p95(_round_trips(session, settings.samples))
    budget = settings.latency_budget_ms
    detected = faulted > budget
    detail = {
        "baseline_p95_ms": round(baseline, 2),
        "faulted_p95_ms": round(faulted, 2),
        "budget_ms": budget,
        "injected_ms": settings.injected_latency_ms,
        "samples": settings.samples,
        "baseline_within_budget": baseline <= budget,
    }
    summary = (
        f"caught: p95 {faulted:.1f} ms over the {budget:g} ms budget "
        f"(baseline p95 {baseline:.1f} ms)"
        if detected
        else f"missed: p95 {faulted:.1f} ms stays within the {budget:g} ms budget"
    )
    return FaultOutcome(
        spec.name,
        "harness",
        spec.expect,
        "detected" if detected else "missed",
        detected,
        summary,
        time.monotonic() - start,
        detail=detail,
    )


def _h_server_restart(bed: FaultBed, spec: Fault) -> FaultOutcome:
    with bed.proxy() as proxy:
        log = RetryLog()
        with bed.session(proxy, log) as session:
            session.query("SELECT 1")
            log.attempts.clear()
            start = time.monotonic()
            bed.cluster.restart()
            return _recovered(
                spec,
                "harness",
                log,
                start,
                lambda: session.query("SELECT pg_postmaster_start_time()"),
                session.policy,
            )


def _h_conflict(bed: FaultBed, spec: Fault) -> FaultOutcome:
    rival = connector(bed.cluster.conninfo(_BED_DB))
    counters = sql.Identifier("counters")

    def body(conn: psycopg.Connection[Any], attempt: int) -> None:
        if attempt <= 2:
            provoke_conflict(conn, rival, counters, 1)
        conn.execute("UPDATE counters SET hits = hits + 1 WHERE id = 1")

    with bed.proxy() as proxy:
        log = RetryLog()
        start = time.monotonic()
        with bed.session(proxy, log) as session:
            outcome = _recovered(
                spec, "harness", log, start, lambda: session.transaction(body), session.policy
            )
    conflicts = sum(a.error_class == "conflict" for a in log.attempts)
    passed = outcome.passed and conflicts == 2
    return FaultOutcome(
        **{
            **outcome.__dict__,
            "passed": passed,
            "detail": {**outcome.detail, "sqlstate_40001": conflicts},
        }
    )


def _h_wrong_password(bed: FaultBed, spec: Fault) -> FaultOutcome:
    wrong = secrets.token_urlsafe(12)
    with bed.proxy() as proxy:
        log = RetryLog()
        start = time.monotonic()
        with bed.session(proxy, log, password=wrong) as session:
            try:
                session.open()
            except psycopg.Error as exc:
                outcome = _clear_error(
                    spec,
                    "harness",
                    start,
                    exc,
                    session.message(exc),
                    (wrong, bed.password),
                    attempts=len(log.attempts),
                    bound_s=bed.settings.fail_within_s,
                )
                if len(log.attempts) != 1:
                    return FaultOutcome(
                        **{
                            **outcome.__dict__,
                            "passed": False,
                            "summary": "a wrong password was retried",
                        }
                    )
                return outcome
    return _clear_error(
        spec,
        "harness",
        start,
        None,
        "",
        (),
        attempts=len(log.attempts),
        bound_s=bed.settings.fail_within_s,
    )


def _h_no_lost_writes(bed: FaultBed, spec: Fault) -> FaultOutcome:
    settings = WorkloadSettings(writes=bed.settings.writes, seed=bed.settings.seed)
    with bed.proxy() as proxy:
        start = time.monotonic()
        writes, logs = run_workload(
            connector(bed.conninfo(proxy), password=bed.password), settings=settings, proxy=proxy
        )
        resets = proxy.stats.resets
    figures = verify(
        bed.cluster.conninfo(_BED_DB),
        writes,
        logs,
        resets_injected=resets,
        seconds=time.monotonic() - start,
    )
    passed = (
        figures.lost == 0
        and figures.duplicated == 0
        and figures.inconsistent_rows == 0
        and figures.acknowledged > 0
    )
    summary = (
        f"{figures.acknowledged} of {figures.attempted} writes acknowledged under "
        f"{figures.resets_injected} resets and {figures.conflicts} conflicts; lost "
        f"{figures.lost}, duplicated {figures.duplicated}, {figures.retried} retries, "
        f"{figures.ambiguous_commits} ambiguous commits caught"
    )
    return FaultOutcome(
        spec.name,
        "harness",
        spec.expect,
        "exact_once" if passed else "lost_writes",
        passed,
        summary,
        figures.seconds,
        attempts=figures.retried + figures.attempted,
        detail=figures.to_dict(),
    )


def _not_here(bed: FaultBed, spec: Fault) -> FaultOutcome:
    return FaultOutcome(
        spec.name,
        "harness",
        spec.expect,
        "not_exercised",
        False,
        f"{spec.name} runs from a scenario with a plan (it needs table pairs)",
        0.0,
    )


_HARNESS: dict[str, Callable[[FaultBed, Fault], FaultOutcome]] = {
    "refused": _h_refused,
    "down": _h_down,
    "reset_mid_query": _h_toxic_then_heal("reset_peer", stream="downstream", timeout=0),
    "black_hole": _h_toxic_then_heal("timeout", stream="downstream", timeout=300),
    "slow_network": _h_slow_network,
    "server_restart": _h_server_restart,
    "conflict": _h_conflict,
    "wrong_password": _h_wrong_password,
    "reset_during_rows": _not_here,
    "no_lost_writes": _h_no_lost_writes,
}


# -- aws path (the harness's own Secrets Manager read) --------------------------------------

_FRONT_FAULTS = {
    "throttled": ("throttled", 1),
    "server_error": ("server_error", 2),
    "access_denied": ("access_denied", None),
    "not_found": ("not_found", None),
    "hanging": ("hanging", 1),
}


def read_secret(secret_id: str, region: str, endpoint_url: str) -> Any:
    """The harness's own Secrets Manager read (what an ``aurora`` endpoint does)."""
    from harness.endpoints import secrets as sm

    ref = sm.SecretRef(secret_id, "faults suite", region, "faults suite", endpoint_url)
    return sm.fetch(ref, "target")


def _aws(bed: FaultBed, spec: Fault) -> FaultOutcome:
    front = bed.front
    front.set(*_FRONT_FAULTS.get(spec.name, (None, None)))
    seen = len(front.requests)
    region = OTHER_REGION if spec.name == "wrong_region" else REGION
    proxy = None
    endpoint = front.url
    if spec.name == "endpoint_down":
        host, port = front.url.removeprefix("http://").split(":")
        proxy = FaultProxy((host, int(port))).start()
        proxy.disable()
        endpoint = f"http://127.0.0.1:{proxy.port}"
    start = time.monotonic()
    error: BaseException | None = None
    try:
        with dummy_aws_credentials():
            read_secret(bed.secret_id, region, endpoint)
    except HarnessError as exc:
        error = exc
    finally:
        front.set(None)
        if proxy is not None:
            proxy.stop()
    calls = [t for t, _, _ in front.requests[seen:]]
    gaps = tuple(b - a for a, b in itertools.pairwise(calls))
    attempts = len(calls) if spec.name != "endpoint_down" else None
    if spec.expect == "recover":
        seconds = time.monotonic() - start
        if error is not None:
            return FaultOutcome(
                spec.name,
                "aws",
                spec.expect,
                "error",
                False,
                f"did not recover: {scrub(str(error), (bed.password,))}",
                seconds,
                attempts,
                gaps,
                classify(error).value,
            )
        passed = attempts is not None and attempts > 1
        return FaultOutcome(
            spec.name,
            "aws",
            spec.expect,
            "success",
            passed,
            f"recovered after {attempts} attempts (botocore standard retries)",
            seconds,
            attempts,
            gaps,
        )
    return _clear_error(
        spec,
        "aws",
        start,
        error,
        str(error or ""),
        (bed.password,),
        attempts=attempts,
        bound_s=bed.settings.fail_within_s,
        delays=gaps,
    )


# -- app path (the application's own connect, as a callable or a command) -------------------


def _app(bed: FaultBed, spec: Fault) -> FaultOutcome:
    app = bed.settings.app
    if app is None:
        raise HarnessError("the app path needs faults.app in the plan (callable or command)")
    front = bed.front
    with bed.proxy() as proxy:
        aws_proxy: FaultProxy | None = None
        aws_endpoint = front.url
        password = bed.password
        timers: list[threading.Timer] = []
        if spec.name in ("refused", "down"):
            proxy.disable()
            if spec.name == "refused":
                timers.append(threading.Timer(_HEAL_AFTER_S, proxy.enable))
        elif spec.name == "reset_mid_query":
            proxy.add_toxic("reset_peer", stream="downstream", timeout=0)
            timers.append(_when(lambda: proxy.stats.resets > 0, proxy.clear, app.timeout_s))
        elif spec.name == "black_hole":
            proxy.add_toxic("timeout", stream="downstream", timeout=300)
            timers.append(
                _when(lambda: proxy.stats.closed_by_toxic > 0, proxy.clear, app.timeout_s)
            )
        elif spec.name == "wrong_password":
            password = secrets.token_urlsafe(12)
        elif spec.name == "endpoint_down":
            host, port = front.url.removeprefix("http://").split(":")
            aws_proxy = FaultProxy((host, int(port))).start()
            aws_proxy.disable()
            aws_endpoint = f"http://127.0.0.1:{aws_proxy.port}"
        front.set(*_FRONT_FAULTS.get(spec.name, (None, None)))
        seen = len(front.requests)
        env = app_environment(
            host=proxy.host,
            port=proxy.port,
            user="postgres",
            password=password,
            dbname=_BED_DB,
            aws_endpoint=aws_endpoint,
            region=REGION,
            secret_id=bed.secret_id,
        )
        for timer in timers:
            timer.start()
        try:
            run = run_app(app, env, (bed.password, password))
        finally:
            for timer in timers:
                timer.cancel()
            front.set(None)
            if aws_proxy is not None:
                aws_proxy.stop()
        aws_calls = len(front.requests) - seen
        connections = proxy.stats.accepted
    return _app_outcome(
        spec, run, aws_calls, connections, (bed.password, password), bed.settings.fail_within_s
    )


def _when(condition: Callable[[], bool], action: Callable[[], None], bound_s: float) -> Any:
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


def _app_outcome(
    spec: Fault,
    run: AppRun,
    aws_calls: int,
    connections: int,
    secrets_: tuple[str, ...],
    bound_s: float,
) -> FaultOutcome:
    aws_fault = spec.name in _FRONT_FAULTS or spec.name == "endpoint_down"
    detail = {
        "aws_calls": aws_calls,
        "db_connections": connections,
        "exit_code": run.exit_code,
        "output": run.output,
    }
    # A refused connection never reaches anything that could count it, so for endpoint_down
    # an app that succeeded is taken as one that made no Secrets Manager call.
    unreached = aws_calls == 0 and (spec.name != "endpoint_down" or run.ok)
    if aws_fault and unreached:
        return FaultOutcome(
            spec.name,
            "app",
            spec.expect,
            "not_exercised",
            False,
            "the app made no Secrets Manager call, so this fault cannot reach it",
            run.seconds,
            detail=detail,
        )
    attempts = aws_calls if aws_fault else connections
    leaked = any(s and (s in run.output or s in run.message) for s in secrets_)
    if spec.expect == "recover":
        passed = run.ok and not leaked
        summary = (
            f"the app recovered in {run.seconds:.2f} s ({attempts} attempts seen)"
            if run.ok
            else f"the app did not survive a transient fault: {run.message}"
        )
        return FaultOutcome(
            spec.name,
            "app",
            spec.expect,
            "success" if run.ok else "error",
            passed,
            summary,
            run.seconds,
            attempts,
            detail=detail,
        )
    problems = []
    if run.ok:
        problems.append("the app succeeded although the fault is permanent")
    if leaked:
        problems.append("the app's output shows a secret")
    if run.seconds > bound_s:
        problems.append(f"took {run.seconds:.1f} s, over the {bound_s:g} s bound")
    summary = (
        "; ".join(problems) if problems else f"clear error in {run.seconds:.2f} s: {run.message}"
    )
    return FaultOutcome(
        spec.name,
        "app",
        spec.expect,
        "error" if not run.ok else "success",
        not problems,
        summary,
        run.seconds,
        attempts,
        message=run.message,
        detail=detail,
    )


# -- row comparison under resets --------------------------------------------------------------


def rows_under_reset(
    baseline: CheckResult,
    upstream: tuple[str, int] | str,
    compare: Callable[[str, int, Callable[[], None]], CheckResult],
    *,
    seed: int = 0,
) -> FaultOutcome:
    """Compare again through a proxy that resets the target's connection mid-comparison;
    the verdict must equal ``baseline``'s (a clear error is acceptable, a different pass or
    fail never is).

    ``compare(host, port, arm)`` opens the target at host:port, calls ``arm()`` once its
    session is up, then runs the row check: the next answer the target sends is an RST.
    """
    spec = FAULTS_BY_NAME["reset_during_rows"]
    with FaultProxy(upstream, seed=seed) as proxy:

        def arm() -> None:
            proxy.add_toxic("reset_peer", stream="downstream", timeout=0, limit=1)

        start = time.monotonic()
        faulted = compare(proxy.host, proxy.port, arm)
        injected = proxy.stats.resets
    same = (faulted.status, faulted.summary) == (baseline.status, baseline.summary)
    errored_clearly = faulted.status is Status.ERROR
    passed = injected > 0 and (same or errored_clearly)
    ended = "same_verdict" if same else "error" if errored_clearly else "changed"
    summary = (
        f"verdict unchanged ({faulted.status.value}) through {injected} connection reset(s)"
        if same
        else f"ended in a clear error through {injected} reset(s): {faulted.summary}"
        if errored_clearly
        else f"verdict changed from {baseline.status.value} to {faulted.status.value}"
    )
    if injected == 0:
        summary = "no reset reached the comparison; nothing was proven"
    return FaultOutcome(
        spec.name,
        "harness",
        spec.expect,
        ended,
        passed,
        summary,
        time.monotonic() - start,
        attempts=injected + 1,
        detail={
            "baseline": baseline.status.value,
            "faulted": faulted.status.value,
            "resets": injected,
        },
    )
