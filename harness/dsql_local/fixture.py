"""The ``dsql_local`` pytest fixture: a local Aurora DSQL for a team's own test suite.

Installed with cutover's pytest plugin, so any suite can ask for it::

    def test_signup_survives_dsql(dsql_local):
        token = boto3.client("dsql", region_name=dsql_local.region) \\
            .generate_db_connect_admin_auth_token(dsql_local.endpoint, dsql_local.region)
        with psycopg.connect(dsql_local.conninfo(password=token)) as conn:
            ...

One cluster per test session (per xdist worker). Tokens are checked against the session's
AWS credentials, or random keys of the cluster's own (:mod:`harness.dsql_local.identity`);
either stands for the IAM principal ``dsql_local.arn``, which a custom role must be granted to
before it logs in: ``AWS IAM GRANT app TO '<dsql_local.arn>'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.dsql_local.server import DsqlLocal


@pytest.fixture(scope="session")
def dsql_local() -> Iterator[DsqlLocal]:
    """A local Aurora DSQL (PostgreSQL 16 behind DSQL's rules), started once per session."""
    from harness.dsql_local.identity import process_identity
    from harness.dsql_local.server import DsqlLocal

    with process_identity() as identity, DsqlLocal(identity=identity) as cluster:
        yield cluster
