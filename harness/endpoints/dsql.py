"""``dsql`` endpoints: Aurora DSQL, where the password is a short-lived IAM auth token.

The token is a SigV4-presigned URL made locally by boto3's ``dsql`` client
(``generate_db_connect_admin_auth_token`` for ``admin``, ``generate_db_connect_auth_token``
for a custom role); it is signed for the endpoint *name*, so a tunnel (``hostaddr``) still
gets a token the cluster accepts. A fresh token is made for every connection and is never
stored in the run record: workers receive only what is needed to sign their own.
See ../shared/reference/dsql-compat.md §5 for the facts (port 5432, database ``postgres``,
TLS required, 900 s default lifetime, at most one week).
"""

from __future__ import annotations

import os
from typing import Any

from psycopg.conninfo import make_conninfo

from harness.endpoints import aws
from harness.endpoints.redact import redact_dsn
from harness.endpoints.retry import ErrorClass, classify
from harness.endpoints.settings import DsqlEndpoint
from harness.errors import EndpointError


def resolve_dsql(spec: DsqlEndpoint, role: str) -> dict[str, Any]:
    """Connector fields for a DSQL endpoint; checks a token can be signed right away."""
    signing = {
        "hostname": spec.hostname,
        "region": spec.signing_region,
        "admin": spec.role == "admin",
        "expires_in": spec.expires_in,
    }
    params: dict[str, Any] = {
        "host": spec.hostname,
        "port": spec.port,
        "dbname": spec.database,
        "user": spec.role,
        "sslmode": spec.sslmode,
    }
    if spec.hostaddr:
        params["hostaddr"] = spec.hostaddr
    if spec.sslnegotiation != "postgres":
        params["sslnegotiation"] = spec.sslnegotiation
    if spec.sslrootcert is not None:
        params["sslrootcert"] = str(spec.sslrootcert)
    address = make_conninfo("", **params)
    make_token(signing, role)  # fail now, once, if no credentials can sign
    action = "dsql:DbConnectAdmin" if spec.role == "admin" else "dsql:DbConnect"
    return {
        "address": address,
        "token": signing,
        "display": f"dsql: {redact_dsn(address)} (IAM token, {spec.signing_region})",
        "evidence": {
            "kind": "dsql",
            "dsn": redact_dsn(address),
            "hostname": spec.hostname,
            "region": spec.signing_region,
            "role": spec.role,
            "token_expires_in_s": spec.expires_in,
            "sslmode": spec.sslmode,
        },
        "credential_hint": (
            f"the IAM token for role '{spec.role}' was refused: check the AWS credentials in "
            f"use allow {action} on this cluster, that the role is mapped to that principal "
            f"(AWS IAM GRANT), the region ({spec.signing_region}) and the machine's clock"
        ),
    }


def make_token(signing: dict[str, Any], role: str) -> str:
    """A fresh IAM auth token (the password) for one connection.

    Signed with the AWS credentials in use; a local DSQL started for the run (``dsql-local``)
    names instead the environment variable holding the keys made for it (``identity_env``:
    set in the run's process, inherited by its workers, never written anywhere)."""
    try:
        client = (
            _local_client(str(signing["identity_env"]), str(signing["region"]), role)
            if signing.get("identity_env")
            else aws.client("dsql", region=str(signing["region"]))
        )
        generate = (
            client.generate_db_connect_admin_auth_token
            if signing["admin"]
            else client.generate_db_connect_auth_token
        )
        token: str = generate(
            Hostname=signing["hostname"],
            Region=signing["region"],
            ExpiresIn=int(signing["expires_in"]),
        )
    except Exception as exc:  # botocore: no credentials, bad parameters
        kind = classify(exc)
        if kind is ErrorClass.ACCESS_DENIED:
            raise EndpointError(
                f"cannot sign a DSQL auth token for {signing['hostname']}: no usable AWS "
                f"credentials ({type(exc).__name__}) — set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
                endpoint=role,
            ) from None
        raise EndpointError(
            f"cannot sign a DSQL auth token for {signing['hostname']} "
            f"({type(exc).__name__}, {kind.value})",
            endpoint=role,
        ) from None
    return token


def _local_client(variable: str, region: str, role: str) -> Any:
    import boto3

    value = os.environ.get(variable, "")
    access_key, _, secret_key = value.partition(":")
    if not secret_key:
        raise EndpointError(
            f"the local DSQL's signing keys are gone from this process ({variable} is unset)",
            endpoint=role,
        )
    session = boto3.session.Session(
        aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
    )
    return session.client("dsql")
