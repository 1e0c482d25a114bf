"""``cutover aurora-iam serve``: a plan's ``aurora`` endpoint with ``auth: iam``, served locally.

For an application and its rehearsal without an AWS account: PostgreSQL 16 behind the IAM
stand-in (:class:`~harness.embedded.iam_front.IamFront`: TLS required, the password checked as
an RDS IAM token for the endpoint's ``host:port`` and user). Everything it serves comes from
the plan's endpoint, so the plan stays the one description of the target:

- it listens on the endpoint's ``hostaddr`` (which must be ``127.0.0.1``) and ``port``;
- tokens must be signed for its ``host``, ``port``, ``user`` and region (``region``, or the one
  in an ``*.rds.amazonaws.com`` host) with the AWS credentials this command finds, so clients
  sign with the same ones (any values: use made-up keys, never a real account's);
- ``user`` is created and granted ``rds_iam``, and owns ``database``, which the ``--load``
  scripts fill (run as that user, in order);
- the self-signed CA goes where the endpoint's ``sslrootcert`` points (a file this command
  wrote before, or none; it never overwrites another file, such as a real RDS bundle), and is
  deleted when it stops.

The first line on stdout is the endpoint's URI (no password: each connection signs a token).
The stand-in lives until SIGINT or SIGTERM; its data is deleted then.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote, urlencode

import click
import psycopg
from psycopg import sql

from harness.dsql_local.tokens import SigningIdentity
from harness.embedded import interrupts
from harness.embedded.iam_front import IamFront
from harness.embedded.provision import PostgresCluster, self_signed_certificate
from harness.endpoints.settings import AuroraEndpoint
from harness.errors import PlanError, ProvisionError
from harness.usage import user_errors

CA_MARK = b"# written by cutover aurora-iam serve: the local stand-in's self-signed CA\n"
"""The first line of every CA file this command writes (PEM readers skip text outside the
markers): the mark that lets it replace its own file and never anyone else's."""


@click.group("aurora-iam")
def aurora_iam() -> None:
    """A local Aurora PostgreSQL / RDS Proxy with IAM database authentication."""


@aurora_iam.command()
@click.option(
    "--plan",
    "plan_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The plan whose aurora auth: iam endpoint to serve.",
)
@click.option(
    "--side",
    type=click.Choice(["target", "source"]),
    default="target",
    show_default=True,
    help="Which of the plan's endpoints.",
)
@click.option(
    "--load",
    "scripts",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A SQL script run as the endpoint's user in its database (repeat: in order).",
)
@user_errors
def serve(plan_path: Path, side: str, scripts: tuple[Path, ...]) -> None:
    """Serve the plan's aurora endpoint until SIGINT or SIGTERM; print its URI first."""
    from harness.plan.load import load_plan

    spec = _iam_endpoint(load_plan(plan_path).plan, side)
    try:
        identity = SigningIdentity.from_environment()
    except LookupError as exc:
        raise ProvisionError(str(exc).replace("local DSQL", "IAM stand-in")) from None
    with ExitStack() as resources:
        try:
            front = start(spec, side, scripts, identity, resources)
            interrupts.serve_until_interrupted(
                uri(spec, front.port),
                f"# tokens for {spec.user}@{spec.host}:{front.port} in {front.region}, signed "
                "with the AWS credentials this command found; Ctrl-C stops it",
            )
        except KeyboardInterrupt:
            pass


def _iam_endpoint(plan: object, side: str) -> AuroraEndpoint:
    spec = getattr(plan, side, None)
    if not isinstance(spec, AuroraEndpoint) or spec.auth != "iam":
        raise PlanError(
            f"{side} is not an aurora endpoint with auth: iam; this command serves only that",
            key=side,
        )
    if spec.hostaddr != "127.0.0.1":
        raise PlanError(
            f"the stand-in listens on 127.0.0.1, and {side}.hostaddr is "
            f"{spec.hostaddr or 'not set'}; set {side}.hostaddr: 127.0.0.1 (host stays the "
            "name tokens are signed for)",
            key=f"{side}.hostaddr",
        )
    if spec.signing_region is None:
        raise PlanError(
            f"no region to check tokens for: set {side}.region (or use an "
            "*.rds.amazonaws.com host)",
            key=f"{side}.region",
        )
    return spec


def start(
    spec: AuroraEndpoint,
    side: str,
    scripts: tuple[Path, ...],
    identity: SigningIdentity,
    resources: ExitStack,
) -> IamFront:
    """Start the server, load it, start the front; everything stops when ``resources`` closes."""
    assert spec.host is not None
    assert spec.user is not None
    assert spec.signing_region is not None
    database = spec.database or "postgres"
    cluster = PostgresCluster()
    resources.callback(cluster.stop)  # before start(): an interrupted start still cleans up
    cluster.start()
    _prepare(cluster, spec.user, database, scripts)
    private = Path(tempfile.mkdtemp(prefix="cutover-iam-"))  # 0700: the key stays ours
    resources.callback(shutil.rmtree, private, ignore_errors=True)
    cert, key = self_signed_certificate((spec.host, "127.0.0.1"))
    (private / "ca.crt").write_bytes(cert)
    (private / "key.pem").write_bytes(key)
    try:
        front = IamFront(
            spec.host,
            spec.signing_region,
            identity,
            backend_socket=cluster.socket_dir / f".s.PGSQL.{cluster.port}",
            cert_file=private / "ca.crt",
            key_file=private / "key.pem",
            port=spec.port or 5432,
        )
    except OSError as exc:
        raise ProvisionError(
            f"cannot listen on 127.0.0.1:{spec.port or 5432} ({exc.strerror}); stop what uses "
            f"it or change {side}.port"
        ) from None
    resources.callback(front.stop)
    front.start()
    if spec.sslrootcert is not None:
        _write_ca(spec.sslrootcert, cert, side)
        resources.callback(spec.sslrootcert.unlink, missing_ok=True)
    return front


def _prepare(cluster: PostgresCluster, user: str, database: str, scripts: tuple[Path, ...]) -> None:
    """The user granted ``rds_iam`` and owning the database, which the scripts fill as that
    user (so the application owns its tables, as after a migration run with its role)."""
    with psycopg.connect(cluster.conninfo(), autocommit=True) as admin:
        admin.execute("CREATE ROLE rds_iam")
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE rds_iam").format(sql.Identifier(user)))
        if database != "postgres":
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(user)
                )
            )
    with psycopg.connect(cluster.conninfo(database, user=user), autocommit=True) as conn:
        for script in scripts:
            try:
                # no parameters: psycopg sends the script as one simple query, all statements
                conn.execute(script.read_text(encoding="utf-8"))
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else "failed"
                raise ProvisionError(f"loading {script}: {first}") from None


def _write_ca(path: Path, cert: bytes, side: str) -> None:
    """The CA where the plan's ``sslrootcert`` points, by an atomic rename (a reader never sees
    half a file), and only over a file this command wrote."""
    if path.exists() and not path.read_bytes().startswith(CA_MARK):
        raise PlanError(
            f"{path} exists and was not written by this command (a real CA bundle?); point "
            f"{side}.sslrootcert at a new path for the stand-in",
            key=f"{side}.sslrootcert",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(CA_MARK + cert)
    partial.replace(path)


def uri(spec: AuroraEndpoint, port: int) -> str:
    """The endpoint as a ``postgresql://`` URI, routed to the stand-in with ``hostaddr``."""
    query = {"hostaddr": "127.0.0.1", "sslmode": spec.sslmode}
    if spec.sslrootcert is not None:
        query["sslrootcert"] = str(spec.sslrootcert)
    user = quote(spec.user or "", safe="")
    database = quote(spec.database or "postgres", safe="")
    return f"postgresql://{user}@{spec.host}:{port}/{database}?{urlencode(query, safe='/')}"
