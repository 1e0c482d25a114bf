"""The one way the harness makes boto3 clients: standard retries, explicit timeouts, a region.

Every client gets botocore's ``standard`` retry mode (exponential backoff with jitter on
throttling, 5xx and connection errors; a retry quota so a dead service is not hammered) and
explicit connect/read timeouts, so a hung endpoint cannot hang a run. Endpoint URLs come from
the caller (a plan's ``endpoint_url``) or from botocore's own environment variables
(``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_SECRETS_MANAGER``…), which is how tests point
clients at a moto server.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
MAX_ATTEMPTS = 4  # botocore counts the first call too

_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):")


@dataclass(frozen=True)
class Region:
    """A resolved AWS region and where it came from (shown in messages and evidence)."""

    name: str
    origin: str
    """``AWS_REGION``, ``plan target.region``, ``secret ARN``, ``AWS profile`` …"""


def resolve_region(*candidates: tuple[str | None, str]) -> Region | None:
    """The first ``(value, origin)`` candidate with a value, else the AWS profile's region.

    Callers list their candidates in precedence order, e.g. the environment, then the plan,
    then the region inside an ARN. None means nothing names a region.
    """
    for value, origin in candidates:
        if value:
            return Region(value, origin)
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(var):
            return Region(os.environ[var], var)
    import boto3

    profile_region = boto3.session.Session().region_name
    return Region(profile_region, "AWS profile") if profile_region else None


def arn_region(arn: str) -> str | None:
    """The region inside an ARN (``arn:aws:secretsmanager:us-east-2:…``), if it is one."""
    match = _ARN_REGION.match(arn)
    return match["region"] if match else None


@contextlib.contextmanager
def credentials_in_environment(
    access_key: str, secret_key: str, token: str | None = None
) -> Iterator[None]:
    """These keys as the process's AWS credentials while the block runs (no profile, so
    botocore's chain finds exactly them), for stand-ins that check or ignore signatures; the
    environment is restored afterwards."""
    values = {
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_SESSION_TOKEN": token,
        "AWS_PROFILE": None,
    }
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def client(
    service: str,
    *,
    region: str,
    endpoint_url: str | None = None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    read_timeout_s: float = READ_TIMEOUT_S,
    max_attempts: int = MAX_ATTEMPTS,
) -> Any:
    """A boto3 client for ``service`` in ``region`` with the harness's retry and timeouts."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
    )
    _guard_debug_logs()
    core = _shared_session()
    # Credentials are looked up for every client (a rotated or re-exported key, a renewed SSO
    # session must be seen: boto3's default session would keep the first ones for the life of
    # the process); clients are reused while the credentials and settings stay the same.
    found = core.get_component("credential_provider").load_credentials()
    frozen = found.get_frozen_credentials() if found is not None else None
    key = (service, region, endpoint_url, connect_timeout_s, read_timeout_s, max_attempts, frozen)
    with _LOCK:
        if key not in _CLIENTS:
            session = boto3.session.Session(botocore_session=core)
            _CLIENTS[key] = session.client(
                service,
                region_name=region,
                endpoint_url=endpoint_url,
                config=config,
                aws_access_key_id=frozen.access_key if frozen else None,
                aws_secret_access_key=frozen.secret_key if frozen else None,
                aws_session_token=frozen.token if frozen else None,
            )
        return _CLIENTS[key]


_LOCK = threading.Lock()  # botocore sessions are not safe to create clients from concurrently
_CLIENTS: dict[tuple[Any, ...], Any] = {}


_SECRET_FIELDS = ("SecretString", "SecretBinary")


class _BotocoreDebugGuard(logging.Filter):
    """botocore's DEBUG lines would show a secret's value (the GetSecretValue response body)
    and a DSQL token's signature (the token is a presigned URL: its signature is the secret
    part). Mask the one, drop the other, whoever turned DEBUG on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "botocore.auth":
            return "Signature" not in str(record.msg)
        if isinstance(record.args, tuple) and any(_holds_secret(a) for a in record.args):
            record.args = tuple(_masked(a) for a in record.args)
        return True


def _holds_secret(value: object) -> bool:
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return any(f'"{field}"' in text for field in _SECRET_FIELDS)


def _masked(value: object) -> object:
    """The response body with its secret fields masked, or a placeholder if it cannot be read."""
    if not _holds_secret(value):
        return value
    try:
        data = json.loads(value.decode() if isinstance(value, bytes) else str(value))
    except (ValueError, UnicodeDecodeError):
        return "<response body hidden: it holds a secret>"
    if isinstance(data, dict):
        data.update({f: "***" for f in _SECRET_FIELDS if f in data})
    return json.dumps(data)


_GUARD = _BotocoreDebugGuard()


def _guard_debug_logs() -> None:
    for name in ("botocore.parsers", "botocore.auth"):
        logger = logging.getLogger(name)
        if _GUARD not in logger.filters:
            logger.addFilter(_GUARD)


@functools.cache
def _shared_session() -> Any:
    """One botocore session per process: building one registers ~2,500 event handlers (tens
    of ms), too slow to repeat for every DSQL connection."""
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", _loader())
    return session


@functools.cache
def _loader() -> Any:
    import botocore.loaders

    return botocore.loaders.create_loader()
