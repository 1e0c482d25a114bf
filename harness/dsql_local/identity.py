"""The credentials a local DSQL checks tokens against, for a process that both signs and
serves: the AWS credentials the process has (botocore's default chain), or, where it has
none, random keys set in its environment while the cluster lives, so code that signs with
boto3 as it would for a real cluster signs with them. Nothing reaches AWS either way."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

from harness.dsql_local.tokens import SigningIdentity

_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@contextlib.contextmanager
def process_identity() -> Iterator[SigningIdentity]:
    """The identity to start a local DSQL with; the environment is restored on exit."""
    try:
        yield SigningIdentity.from_environment()
        return
    except LookupError:
        pass
    saved = {name: os.environ.get(name) for name in _KEYS}
    identity = SigningIdentity("AKIALOCAL" + secrets.token_hex(6).upper(), secrets.token_hex(20))
    os.environ["AWS_ACCESS_KEY_ID"] = identity.access_key
    os.environ["AWS_SECRET_ACCESS_KEY"] = identity.secret_key
    try:
        yield identity
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
