"""Read database credentials from AWS Secrets Manager, in the shapes seen in practice.

- RDS-managed: ``{"username": …, "password": …}`` (host and port come from the plan);
- RDS "credentials for database": the same plus ``host``, ``port``, ``dbname``, ``engine``;
- a connection string, as a JSON field (``url``, ``uri``, ``dsn``, ``connection_string``,
  ``DATABASE_URL``…) or as the whole secret (``postgresql://user:pass@host:5432/db``).

Which secret, in which region: ``CUTOVER_<SIDE>_SECRET_ID``, then ``CUTOVER_SECRET_ID``, then
the plan's ``secret``; region from ``CUTOVER_<SIDE>_REGION``, then ``AWS_REGION``, then the
plan, then the secret's ARN, then the AWS profile. Errors name the endpoint, the secret id,
the region and what to check; they never contain the secret's value (JSON errors give a
position, not the text).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from harness.endpoints import aws
from harness.endpoints.retry import ErrorClass, classify
from harness.errors import EndpointError

_URL_KEYS = (
    "url",
    "uri",
    "dsn",
    "connection_string",
    "connectionString",
    "connection_url",
    "database_url",
    "DATABASE_URL",
)
_USER_KEYS = ("username", "user")
_DB_KEYS = ("dbname", "database", "dbName")


@dataclass(frozen=True)
class SecretRef:
    """Which secret, where, and how that was decided (for messages and evidence)."""

    secret_id: str
    secret_origin: str
    region: str
    region_origin: str
    endpoint_url: str | None = None

    def describe(self) -> str:
        return f"secret '{self.secret_id}' in {self.region}"

    def evidence(self) -> dict[str, Any]:
        return {
            "secret_id": self.secret_id,
            "secret_from": self.secret_origin,
            "region": self.region,
            "region_from": self.region_origin,
        }


@dataclass(frozen=True)
class Credentials:
    """What a secret holds; ``password`` is never shown (repr hides it)."""

    username: str
    password: str = field(repr=False)
    host: str | None = None
    port: int | None = None
    dbname: str | None = None
    engine: str | None = None
    shape: str = "json"
    """``json`` (username/password[/host…]) or ``connection-string``."""


def locate(
    role: str, plan_secret: str | None, plan_region: str | None, endpoint_url: str | None
) -> SecretRef:
    """Decide the secret id and region once, from the environment, the plan and the ARN."""
    side_var = f"CUTOVER_{role.upper()}_SECRET_ID"
    for value, origin in (
        (os.environ.get(side_var), side_var),
        (os.environ.get("CUTOVER_SECRET_ID"), "CUTOVER_SECRET_ID"),
        (plan_secret, f"plan {role}.secret"),
    ):
        if value:
            secret_id, secret_origin = value.strip(), origin
            break
    else:
        raise EndpointError(
            f"no Secrets Manager secret named: set {role}.secret in the plan, "
            f"or {side_var} / CUTOVER_SECRET_ID",
            endpoint=role,
        )
    side_region = f"CUTOVER_{role.upper()}_REGION"
    region = aws.resolve_region(
        (os.environ.get(side_region), side_region),
        (os.environ.get("AWS_REGION"), "AWS_REGION"),
        (plan_region, f"plan {role}.region"),
        (aws.arn_region(secret_id), "secret ARN"),
    )
    if region is None:
        raise EndpointError(
            f"no AWS region for secret '{secret_id}': set {role}.region in the plan or AWS_REGION",
            endpoint=role,
        )
    return SecretRef(secret_id, secret_origin, region.name, region.origin, endpoint_url)


def fetch(ref: SecretRef, role: str) -> Credentials:
    """Get and parse the secret; every failure is one :class:`EndpointError` line."""
    client = aws.client("secretsmanager", region=ref.region, endpoint_url=ref.endpoint_url)
    try:
        answer = client.get_secret_value(SecretId=ref.secret_id)
    except Exception as exc:  # botocore's errors; classified below, never shown raw
        raise EndpointError(_fetch_problem(exc, ref, role), endpoint=role) from None
    text = answer.get("SecretString")
    if text is None:
        raise EndpointError(
            f"{ref.describe()} holds binary data; store the credentials as a SecretString "
            "(JSON with username and password, or a postgresql:// URL)",
            endpoint=role,
        )
    return parse(text, ref, role)


def _fetch_problem(exc: BaseException, ref: SecretRef, role: str) -> str:
    kind = classify(exc)
    where = ref.describe()
    check_id = f"check {ref.secret_origin}" + (
        "" if ref.secret_origin.startswith("plan") else f" or plan {role}.secret"
    )
    code = _aws_code(exc)
    if kind is ErrorClass.NOT_FOUND:
        return f"{where} not found ({code}) — {check_id} and the region ({ref.region_origin})"
    if kind is ErrorClass.ACCESS_DENIED:
        return (
            f"cannot read {where}: access denied ({code or type(exc).__name__}) — check the AWS "
            "credentials in use and that they allow secretsmanager:GetSecretValue "
            "(and kms:Decrypt on the secret's key)"
        )
    if kind is ErrorClass.THROTTLED:
        return (
            f"reading {where} was throttled ({code}) after {aws.MAX_ATTEMPTS} attempts; retry later"
        )
    if kind in (ErrorClass.CONNECTION, ErrorClass.UNKNOWN_HOST):
        return (
            f"cannot reach Secrets Manager for {where} ({type(exc).__name__}) — check the "
            "network, the region and AWS_ENDPOINT_URL_SECRETS_MANAGER / endpoint_url"
        )
    if kind is ErrorClass.INVALID:
        return f"Secrets Manager refused the request for {where} ({code or type(exc).__name__})"
    return f"reading {where} failed ({code or type(exc).__name__}, {kind.value})"


def _aws_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def parse(text: str, ref: SecretRef, role: str) -> Credentials:
    """Parse a SecretString in any of the supported shapes (module docstring)."""
    stripped = text.strip()
    if stripped.startswith(("postgres://", "postgresql://")):
        return _from_url(stripped, ref, role)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        # The position only: exc.msg and exc.doc would quote the secret.
        raise EndpointError(
            f"{ref.describe()} is not valid JSON (error at line {exc.lineno} column "
            f"{exc.colno}) nor a postgresql:// URL; fix the secret's value",
            endpoint=role,
        ) from None
    if not isinstance(data, dict):
        raise EndpointError(
            f"{ref.describe()} is JSON but not an object; expected "
            '{"username": …, "password": …} or a connection-string field',
            endpoint=role,
        )
    url_key = next((k for k in _URL_KEYS if isinstance(data.get(k), str)), None)
    if url_key is not None and "password" not in data:
        return _from_url(str(data[url_key]).strip(), ref, role)
    user_key = next((k for k in _USER_KEYS if isinstance(data.get(k), str)), None)
    password = data.get("password")
    if user_key is None or not isinstance(password, str) or not password:
        keys = ", ".join(sorted(str(k) for k in data)) or "none"
        raise EndpointError(
            f"{ref.describe()} has no username and password (keys found: {keys}); expected "
            "the RDS shape {username, password[, host, port, dbname]} or a url field",
            endpoint=role,
        )
    port = data.get("port")
    try:
        port_number = int(port) if port not in (None, "") else None
    except (TypeError, ValueError):
        raise EndpointError(f"{ref.describe()}: port is not a number", endpoint=role) from None
    db_key = next((k for k in _DB_KEYS if isinstance(data.get(k), str)), None)
    return Credentials(
        username=str(data[user_key]),
        password=password,
        host=str(data["host"]) if data.get("host") else None,
        port=port_number,
        dbname=str(data[db_key]) if db_key else None,
        engine=str(data["engine"]) if data.get("engine") else None,
    )


def _from_url(url: str, ref: SecretRef, role: str) -> Credentials:
    import psycopg.conninfo

    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except (psycopg.ProgrammingError, UnicodeDecodeError):  # a %XX that is not UTF-8
        raise EndpointError(
            f"{ref.describe()} holds a connection string libpq cannot parse; "
            "percent-encode special characters in the password",
            endpoint=role,
        ) from None
    user, password = parts.get("user"), parts.get("password")
    if not user or not password:
        raise EndpointError(
            f"{ref.describe()} holds a connection string without "
            f"{'a user' if not user else 'a password'}",
            endpoint=role,
        )
    port = parts.get("port")
    return Credentials(
        username=str(user),
        password=str(password),
        host=str(parts["host"]) if parts.get("host") else None,
        port=int(port) if port else None,
        dbname=str(parts["dbname"]) if parts.get("dbname") else None,
        shape="connection-string",
    )
