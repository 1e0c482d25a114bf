"""``aurora`` endpoints: Aurora PostgreSQL, RDS Proxy or RDS, credentials from Secrets Manager
or IAM database authentication.

Resolved once per run (the controller reads the secret, workers receive the DSN as plain
data): host, port and database come from the plan, else from the secret, else defaults;
user and password only ever from the secret (read again per connection by the connect-rate
probe alone: :func:`with_fresh_secret`). TLS is always on (``sslmode=require`` by
default; ``verify-ca``/``verify-full`` with a CA bundle).

``auth: iam``: no secret; host, port, database and user come from the plan, and the password
of every connection attempt is a fresh token from boto3's ``rds`` client
(``generate_db_auth_token``: SigV4 for ``rds-db:connect``, signed for ``host:port`` and the
user, valid 900 s), made by whichever process connects; only what to sign with travels in the
run record (:func:`make_token`). A tunnel (``hostaddr``) still gets a token for the name.
The signing region: ``CUTOVER_<SIDE>_REGION``, then the plan's ``region``, then the region in
an ``*.rds.amazonaws.com`` host, then ``AWS_REGION`` or the profile's.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from psycopg.conninfo import make_conninfo

from harness.endpoints import aws
from harness.endpoints.redact import redact_dsn
from harness.endpoints.retry import ErrorClass, classify
from harness.endpoints.secrets import Credentials, SecretRef, fetch, locate
from harness.endpoints.settings import AuroraEndpoint
from harness.errors import EndpointError

DEFAULT_PORT = 5432


def resolve_aurora(spec: AuroraEndpoint, role: str) -> dict[str, Any]:
    """Read the secret and build the connection; returns Connector fields (see endpoints)."""
    if spec.auth == "iam":
        return resolve_iam(spec, role)
    ref = locate(role, spec.secret, spec.region, spec.endpoint_url)
    creds = fetch(ref, role)
    if creds.engine and "postgres" not in creds.engine.lower():
        raise EndpointError(
            f"{ref.describe()} is for engine '{creds.engine}', not PostgreSQL; "
            f"check {ref.secret_origin}",
            endpoint=role,
        )
    host = spec.host or creds.host
    if not host:
        raise EndpointError(
            f"no host: {ref.describe()} has none (RDS-managed secrets hold only username and "
            f"password); set {role}.host to the cluster, proxy or instance endpoint",
            endpoint=role,
        )
    port = spec.port or creds.port or DEFAULT_PORT
    dbname = spec.database or creds.dbname or "postgres"
    login = creds.username, creds.password
    writer = conninfo(spec, *login, host=host, port=port, dbname=dbname, hostaddr=spec.hostaddr)
    reader = (
        conninfo(spec, *login, host=spec.reader_host, port=port, dbname=dbname, hostaddr=None)
        if spec.reader_host
        else None
    )
    return {
        "address": writer,
        "reader_address": reader,
        "secret": dataclasses.asdict(ref),
        "display": f"aurora: {redact_dsn(writer)} ({ref.describe()})",
        "evidence": _evidence(spec, ref, creds, writer, reader),
        "credential_hint": (
            f"the user and password come from {ref.describe()} ({ref.secret_origin}): "
            "check it is the current version (rotation?) and belongs to this cluster"
        ),
    }


def with_fresh_secret(address: str, secret: dict[str, Any], role: str) -> str:
    """``address`` with the user and password the secret holds now, read again as a client
    that opens a fresh connection reads it (the connect-rate probe, :mod:`harness.latency`).
    Every other session uses the one read made when the run resolved the endpoint."""
    ref = SecretRef(**secret)
    creds = fetch(ref, role)
    return make_conninfo(address, user=creds.username, password=creds.password)


def resolve_iam(spec: AuroraEndpoint, role: str) -> dict[str, Any]:
    """Connector fields for ``auth: iam``; signs one token now, so missing AWS credentials or
    region stop the run here rather than at every check."""
    assert spec.host is not None
    assert spec.user is not None
    side_region = f"CUTOVER_{role.upper()}_REGION"
    region = aws.resolve_region(
        (os.environ.get(side_region), side_region),
        (spec.region, f"plan {role}.region"),
        (spec.signing_region, f"{role}.host"),
    )
    if region is None:
        raise EndpointError(
            f"no AWS region to sign IAM tokens for {spec.host}: set {role}.region in the plan "
            "(the database's region) or AWS_REGION",
            endpoint=role,
        )
    port = spec.port or DEFAULT_PORT
    dbname = spec.database or "postgres"
    login = spec.user, None  # the password: a fresh token for each connection
    writer = conninfo(
        spec, *login, host=spec.host, port=port, dbname=dbname, hostaddr=spec.hostaddr
    )
    reader = (
        conninfo(spec, *login, host=spec.reader_host, port=port, dbname=dbname, hostaddr=None)
        if spec.reader_host
        else None
    )
    signing = {
        "service": "rds",
        "hostname": spec.host,
        "reader_hostname": spec.reader_host,
        "port": port,
        "user": spec.user,
        "region": region.name,
    }
    make_token(signing, role)
    evidence: dict[str, Any] = {
        "kind": "aurora",
        "auth": "iam",
        "dsn": redact_dsn(writer),
        "user": spec.user,
        "region": region.name,
        "region_from": region.origin,
        "token_expires_in_s": TOKEN_LIFETIME_S,
        "sslmode": spec.sslmode,
    }
    if reader is not None:
        evidence["reader_dsn"] = redact_dsn(reader)
    return {
        "address": writer,
        "reader_address": reader,
        "token": signing,
        "display": f"aurora: {redact_dsn(writer)} (IAM token, {region.name})",
        "evidence": evidence,
        "credential_hint": (
            f"the IAM token for database user '{spec.user}' was refused: check the AWS "
            f"credentials in use allow rds-db:connect on dbuser:<cluster or proxy resource id>/"
            f"{spec.user}, that the user is granted rds_iam (RDS Proxy: IAM authentication "
            f"required, and the user known to the proxy), the region ({region.name}) and the "
            "machine's clock"
        ),
    }


TOKEN_LIFETIME_S = 900  # RDS tokens are valid 15 minutes; boto3 offers no other lifetime


def make_token(signing: dict[str, Any], role: str, *, reader: bool = False) -> str:
    """A fresh RDS IAM auth token (the password) for one connection to the writer, or reader."""
    hostname = str(signing["reader_hostname"] if reader else signing["hostname"])
    try:
        client = aws.client("rds", region=str(signing["region"]))
        token: str = client.generate_db_auth_token(
            DBHostname=hostname,
            Port=int(signing["port"]),
            DBUsername=str(signing["user"]),
            Region=str(signing["region"]),
        )
    except Exception as exc:  # botocore: no credentials, bad parameters
        kind = classify(exc)
        if kind is ErrorClass.ACCESS_DENIED:
            raise EndpointError(
                f"cannot sign an RDS IAM auth token for {hostname}: no usable AWS credentials "
                f"({type(exc).__name__}) — set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
                endpoint=role,
            ) from None
        raise EndpointError(
            f"cannot sign an RDS IAM auth token for {hostname} ({type(exc).__name__}, "
            f"{kind.value})",
            endpoint=role,
        ) from None
    return token


def conninfo(
    spec: AuroraEndpoint,
    user: str,
    password: str | None,
    *,
    host: str | None,
    port: int,
    dbname: str,
    hostaddr: str | None,
) -> str:
    params: dict[str, Any] = {
        "host": host,
        "port": port,
        "dbname": dbname,
        "user": user,
        "sslmode": spec.sslmode,
    }
    if password is not None:  # auth: iam sets a fresh token per connection instead
        params["password"] = password
    if hostaddr:
        params["hostaddr"] = hostaddr
    if spec.sslnegotiation != "postgres":
        params["sslnegotiation"] = spec.sslnegotiation
    if spec.sslrootcert is not None:
        params["sslrootcert"] = str(spec.sslrootcert)
    return make_conninfo("", **params)


def _evidence(
    spec: AuroraEndpoint,
    ref: SecretRef,
    creds: Credentials,
    writer: str,
    reader: str | None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "aurora",
        "dsn": redact_dsn(writer),
        "secret_shape": creds.shape,
        "sslmode": spec.sslmode,
        **ref.evidence(),
    }
    if reader is not None:
        data["reader_dsn"] = redact_dsn(reader)
    return data
