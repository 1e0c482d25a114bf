"""The credentials a local DSQL checks tokens against, for a process that both signs and
serves: the AWS credentials the process has (botocore's default chain), or, where it has
none, random keys set in its environment while the cluster lives, so code that signs with
boto3 as it would for a real cluster signs with them. Nothing reaches AWS either way."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

from harness.dsql_local.tokens import SigningIdentity
from harness.endpoints.aws import credentials_in_environment


@contextlib.contextmanager
def process_identity() -> Iterator[SigningIdentity]:
    """The identity to start a local DSQL with; the environment is restored on exit."""
    try:
        found = SigningIdentity.from_environment()
    except LookupError:
        found = None
    if found is not None:
        yield found
        return
    identity = SigningIdentity("AKIALOCAL" + secrets.token_hex(6).upper(), secrets.token_hex(20))
    with credentials_in_environment(identity.access_key, identity.secret_key):
        yield identity
