"""The application's own connect path (a callable or a command) under faults: the app runs
with its environment pointed at the proxy and the bed's faulty AWS front; the harness does not
retry for it."""

from __future__ import annotations

import secrets
import threading

from harness.errors import HarnessError
from harness.faults.app_path import AppRun, app_environment, run_app
from harness.faults.bed import BED_DB, FRONT_FAULTS, REGION, FaultBed
from harness.faults.outcome import Fault, FaultOutcome, watch_until
from harness.faults.proxy import FaultProxy

HEAL_AFTER_S = 0.3  # how long a transient outage lasts (the app must outlast it)


def run(bed: FaultBed, spec: Fault) -> FaultOutcome:
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
                timers.append(threading.Timer(HEAL_AFTER_S, proxy.enable))
        elif spec.name == "reset_mid_query":
            proxy.add_toxic("reset_peer", stream="downstream", timeout=0)
            timers.append(watch_until(lambda: proxy.stats.resets > 0, proxy.clear, app.timeout_s))
        elif spec.name == "black_hole":
            proxy.add_toxic("timeout", stream="downstream", timeout=300)
            timers.append(
                watch_until(lambda: proxy.stats.closed_by_toxic > 0, proxy.clear, app.timeout_s)
            )
        elif spec.name == "wrong_password":
            password = secrets.token_urlsafe(12)
        elif spec.name == "endpoint_down":
            host, port = front.url.removeprefix("http://").split(":")
            aws_proxy = FaultProxy((host, int(port))).start()
            aws_proxy.disable()
            aws_endpoint = f"http://127.0.0.1:{aws_proxy.port}"
        front.set(*FRONT_FAULTS.get(spec.name, (None, None)))
        seen = len(front.requests)
        env = app_environment(
            host=proxy.host,
            port=proxy.port,
            user="postgres",
            password=password,
            dbname=BED_DB,
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


def _app_outcome(
    spec: Fault,
    run: AppRun,
    aws_calls: int,
    connections: int,
    secrets_: tuple[str, ...],
    bound_s: float,
) -> FaultOutcome:
    aws_fault = spec.name in FRONT_FAULTS or spec.name == "endpoint_down"
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
