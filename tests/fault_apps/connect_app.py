"""A stand-in application connect path, as a team would hand it to ``faults.app``.

It does what a small backend does at start-up: reads its configuration from the environment
(libpq's ``PG*`` variables, ``CUTOVER_SECRET_ID`` for a Secrets Manager secret, the AWS SDK's
``AWS_ENDPOINT_URL``), fetches the secret, and connects with a few retries of its own.
``connect_once`` is the careless variant: one try, no retry.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import psycopg


def _check_secret() -> None:
    secret_id = os.environ.get("CUTOVER_SECRET_ID")
    if not secret_id:
        return
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 4}, read_timeout=2)
    boto3.client("secretsmanager", config=config).get_secret_value(SecretId=secret_id)


def connect() -> Any:
    """Read the secret, then connect, retrying connection failures (never a bad password)."""
    _check_secret()
    for attempt in range(6):
        try:
            return psycopg.connect(connect_timeout=3)
        except psycopg.OperationalError as exc:
            if "password" in str(exc) or attempt == 5:
                raise
            time.sleep(0.02 * 2**attempt)
    raise AssertionError("unreachable")


def connect_once() -> Any:
    """One try: a transient fault is enough to fail it."""
    return psycopg.connect(connect_timeout=3)


if __name__ == "__main__":
    try:
        with connect_once() if "--once" in sys.argv else connect() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    print("connected")
