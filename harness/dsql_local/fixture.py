"""The ``dsql_local`` pytest fixture: a local Aurora DSQL for a team's own test suite.

Installed with cutover's pytest plugin, so any suite can ask for it::

    def test_signup_survives_dsql(dsql_local):
        token = boto3.client("dsql", region_name=dsql_local.region) \\
            .generate_db_connect_admin_auth_token(dsql_local.endpoint, dsql_local.region)
        with psycopg.connect(dsql_local.conninfo(password=token)) as conn:
            ...

One cluster per test session (per xdist worker). Tokens are checked against the AWS
credentials the session has (botocore's default chain); a session without any gets random
keys of its own for the cluster's lifetime, set in its environment, so the code under test
signs with them as it would with real ones. Nothing reaches AWS either way: a token is made
locally and checked locally.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.dsql_local.server import DsqlLocal

_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@pytest.fixture(scope="session")
def dsql_local() -> Iterator[DsqlLocal]:
    """A local Aurora DSQL (PostgreSQL 16 behind DSQL's rules), started once per session."""
    from harness.dsql_local.server import DsqlLocal
    from harness.dsql_local.tokens import SigningIdentity

    saved = {name: os.environ.get(name) for name in _KEYS}
    try:
        identity = SigningIdentity.from_environment()
    except LookupError:
        identity = SigningIdentity(
            "AKIALOCAL" + secrets.token_hex(6).upper(), secrets.token_hex(20)
        )
        os.environ["AWS_ACCESS_KEY_ID"] = identity.access_key
        os.environ["AWS_SECRET_ACCESS_KEY"] = identity.secret_key
    try:
        with DsqlLocal(identity=identity) as cluster:
            yield cluster
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
