"""The harness's own AWS calls under faults: the Secrets Manager read (what an ``aurora``
endpoint does) through the bed's faulty front before moto, endpoint down through a proxy that
is down; and the DSQL IAM token, which boto3 signs locally (a presigned URL, no request), so
the only way it fails is without credentials: that is injected by hiding every source."""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from harness.endpoints.redact import scrub
from harness.endpoints.retry import classify
from harness.errors import HarnessError
from harness.faults.bed import FRONT_FAULTS, OTHER_REGION, REGION, FaultBed, dummy_aws_credentials
from harness.faults.outcome import Fault, FaultOutcome, clear_error
from harness.faults.proxy import FaultProxy


def read_secret(secret_id: str, region: str, endpoint_url: str) -> Any:
    """The harness's own Secrets Manager read (what an ``aurora`` endpoint does)."""
    from harness.endpoints import secrets as sm

    ref = sm.SecretRef(secret_id, "faults suite", region, "faults suite", endpoint_url)
    return sm.fetch(ref, "target")


def run(bed: FaultBed, spec: Fault) -> FaultOutcome:
    if spec.name == "dsql_no_credentials":
        return _dsql_without_credentials(bed, spec)
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


_CREDENTIAL_SOURCES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@contextlib.contextmanager
def _no_credentials(folder: str) -> Iterator[None]:
    """Hide every credential source botocore looks at, with a fresh default boto3 session
    (the old one may have cached credentials); both are restored afterwards."""
    import boto3

    saved_env = {name: os.environ.get(name) for name in (*_CREDENTIAL_SOURCES, *_FILES)}
    saved_session = boto3.DEFAULT_SESSION
    for name in _CREDENTIAL_SOURCES:
        os.environ.pop(name, None)
    os.environ.update(
        AWS_SHARED_CREDENTIALS_FILE=f"{folder}/credentials",
        AWS_CONFIG_FILE=f"{folder}/config",
        AWS_EC2_METADATA_DISABLED="true",
    )
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = saved_session
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_FILES = ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_EC2_METADATA_DISABLED")


def _dsql_without_credentials(bed: FaultBed, spec: Fault) -> FaultOutcome:
    from harness.endpoints.dsql import make_token

    signing = {
        "hostname": "abcdefghijklmnopqrstuvwxyz.dsql.us-east-2.on.aws",
        "region": REGION,
        "admin": True,
        "expires_in": 900,
    }
    start = time.monotonic()
    error: BaseException | None = None
    token = ""
    with tempfile.TemporaryDirectory() as empty, _no_credentials(empty):
        try:
            token = make_token(signing, "target")
        except HarnessError as exc:
            error = exc
    return clear_error(
        spec,
        "aws",
        start,
        error,
        str(error or ""),
        (token,),
        attempts=1,
        bound_s=bed.settings.fail_within_s,
    )
