"""``cutover dsql-local serve``: a local Aurora DSQL for an application and its tests.

The first line on stdout is the cluster's URI, shaped as a real cluster's (the endpoint name
carries the region clients sign for) and routed to the loopback address with ``hostaddr``;
clients make their token for that name with boto3 or the AWS CLI, exactly as for a real
cluster. Tokens are checked against the credentials this command finds (botocore's default
chain), so the application must sign with the same ones; they stand for the IAM principal
``--arn`` names (what ``AWS IAM GRANT`` must name for a custom role to log in). The cluster and
its data live until SIGINT or SIGTERM and are deleted then.
"""

from __future__ import annotations

import dataclasses
import re

import click

from harness.dsql_local.grants import ARN
from harness.dsql_local.server import DsqlLocal, endpoint_region
from harness.dsql_local.tokens import LOCAL_ARN, SigningIdentity
from harness.embedded import interrupts
from harness.errors import ProvisionError
from harness.usage import user_errors


@click.group("dsql-local")
def dsql_local() -> None:
    """A local Aurora DSQL: PostgreSQL 16 behind a guard that refuses what DSQL refuses."""


@dsql_local.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on (127.0.0.1); 0 picks a free one.",
)
@click.option(
    "--endpoint",
    "endpoint",
    default=None,
    metavar="HOST",
    help="Endpoint name <id>.dsql.<region>.on.aws (default: a random id in us-east-1).",
)
@click.option(
    "--arn",
    default=LOCAL_ARN,
    show_default=True,
    help="The IAM role or user ARN your credentials stand for here: a custom role logs in "
    "once granted to it (AWS IAM GRANT role TO '<ARN>'), as in your migrations.",
)
@user_errors
def serve(port: int, endpoint: str | None, arn: str) -> None:
    """Run a local DSQL until SIGINT or SIGTERM; print its URI first."""
    if endpoint is not None:
        endpoint_region(endpoint)  # a name that is not a DSQL endpoint: one line, exit 2
    if re.match(ARN, arn) is None:
        raise click.BadParameter(
            f"{arn!r} is not an IAM role or user ARN (arn:aws:iam::<12 digits>:role/<name>)",
            param_hint="'--arn'",
        )
    try:
        identity = dataclasses.replace(SigningIdentity.from_environment(), arn=arn)
    except LookupError as exc:
        raise ProvisionError(str(exc)) from None
    cluster = DsqlLocal(endpoint=endpoint, identity=identity, port=port)
    try:
        cluster.start()
        interrupts.serve_until_interrupted(
            cluster.uri(),
            f"# region {cluster.region}; sign tokens for {cluster.endpoint} with your AWS "
            "credentials (e.g. `aws dsql generate-db-connect-admin-auth-token --hostname "
            f"{cluster.endpoint} --region {cluster.region}`); they stand for {arn} "
            "(AWS IAM GRANT a custom role to it); Ctrl-C stops it",
        )
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
