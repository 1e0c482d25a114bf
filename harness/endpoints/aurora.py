"""``aurora`` endpoints: Aurora PostgreSQL, RDS Proxy or RDS, credentials from Secrets Manager.

Resolved once per run (the controller reads the secret, workers receive the DSN as plain
data): host, port and database come from the plan, else from the secret, else defaults;
user and password only ever from the secret. TLS is always on (``sslmode=require`` by
default; ``verify-ca``/``verify-full`` with a CA bundle).
"""

from __future__ import annotations

from typing import Any

from psycopg.conninfo import make_conninfo

from harness.endpoints.redact import redact_dsn
from harness.endpoints.secrets import Credentials, SecretRef, fetch, locate
from harness.endpoints.settings import AuroraEndpoint
from harness.errors import EndpointError

DEFAULT_PORT = 5432


def resolve_aurora(spec: AuroraEndpoint, role: str) -> dict[str, Any]:
    """Read the secret and build the connection; returns Connector fields (see endpoints)."""
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
    writer = conninfo(spec, creds, host=host, port=port, dbname=dbname, hostaddr=spec.hostaddr)
    reader = (
        conninfo(spec, creds, host=spec.reader_host, port=port, dbname=dbname, hostaddr=None)
        if spec.reader_host
        else None
    )
    return {
        "address": writer,
        "reader_address": reader,
        "display": f"aurora: {redact_dsn(writer)} ({ref.describe()})",
        "evidence": _evidence(spec, ref, creds, writer, reader),
        "credential_hint": (
            f"the user and password come from {ref.describe()} ({ref.secret_origin}): "
            "check it is the current version (rotation?) and belongs to this cluster"
        ),
    }


def conninfo(
    spec: AuroraEndpoint,
    creds: Credentials,
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
        "user": creds.username,
        "password": creds.password,
        "sslmode": spec.sslmode,
    }
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
