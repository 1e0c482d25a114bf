"""The harness's own Secrets Manager read (what an ``aurora`` endpoint does) under faults,
through the bed's faulty front before moto; endpoint down through a proxy that is down."""

from __future__ import annotations

import itertools
import time
from typing import Any

from harness.errors import HarnessError
from harness.faults.bed import FRONT_FAULTS, OTHER_REGION, REGION, FaultBed, dummy_aws_credentials
from harness.faults.outcome import Fault, FaultOutcome, clear_error
from harness.faults.proxy import FaultProxy
from harness.redact import scrub
from harness.retry import classify


def read_secret(secret_id: str, region: str, endpoint_url: str) -> Any:
    """The harness's own Secrets Manager read (what an ``aurora`` endpoint does)."""
    from harness.endpoints import secrets as sm

    ref = sm.SecretRef(secret_id, "faults suite", region, "faults suite", endpoint_url)
    return sm.fetch(ref, "target")


def run(bed: FaultBed, spec: Fault) -> FaultOutcome:
    front = bed.front
    front.set(*FRONT_FAULTS.get(spec.name, (None, None)))
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
    return clear_error(
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
