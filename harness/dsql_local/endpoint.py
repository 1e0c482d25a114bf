"""``kind: dsql-local`` in a plan: a local DSQL started for the run, loaded through its guard.

The run makes signing keys of its own for the cluster (random, for this run only), so the
endpoint works with no AWS account and never with a real one's keys. They reach the run's
workers through one environment variable (:func:`harness.endpoints.dsql.make_token` reads
it); the connector itself carries only that variable's name.

Load steps go through the guard as a client's would, one statement per transaction, so a
script DSQL refuses (a ``serial`` key, two DDL in one transaction, a synchronous index) fails
the load with DSQL's own error, naming the file and line.
"""

from __future__ import annotations

import os
import secrets
import string
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg

from harness.dsql_local.server import DsqlLocal
from harness.dsql_local.tokens import SigningIdentity
from harness.endpoints.redact import redact_dsn
from harness.endpoints.settings import DsqlLocalEndpoint, LoadSql, LoadStep
from harness.errors import EndpointError, ProvisionError

__all__ = ["run_script", "start_dsql_local"]

TOKEN_LIFETIME_S = 900


def start_dsql_local(spec: DsqlLocalEndpoint, role: str, resources: ExitStack) -> dict[str, Any]:
    """Start and load the cluster (stopped when ``resources`` closes); Connector fields."""
    identity = _run_identity()
    variable = f"CUTOVER_DSQL_LOCAL_{role.upper()}_KEYS"
    os.environ[variable] = f"{identity.access_key}:{identity.secret_key}"
    resources.callback(os.environ.pop, variable, None)
    cluster = DsqlLocal(endpoint=spec.endpoint, identity=identity)
    resources.callback(cluster.stop)  # before start(): a signal in between must not leak it
    try:
        cluster.start()
    except ProvisionError as exc:
        raise EndpointError(f"the local DSQL did not start: {exc}", endpoint=role) from None
    _load(cluster, spec.load, role)
    address = cluster.conninfo("admin")
    return {
        "address": address,
        "token": {
            "hostname": cluster.endpoint,
            "region": cluster.region,
            "admin": True,
            "expires_in": TOKEN_LIFETIME_S,
            "identity_env": variable,
        },
        "display": f"dsql-local: {redact_dsn(address)} (IAM token, {cluster.region})",
        "evidence": {
            "kind": "dsql-local",
            "dsn": redact_dsn(address),
            "hostname": cluster.endpoint,
            "region": cluster.region,
            "role": "admin",
        },
        "credential_hint": "the local DSQL refused the run's own token: a cutover bug",
    }


def _run_identity() -> SigningIdentity:
    alphabet = string.ascii_uppercase + string.digits
    access_key = "AKIALOCAL" + "".join(secrets.choice(alphabet) for _ in range(11))
    return SigningIdentity(access_key, secrets.token_urlsafe(30))


def _load(cluster: DsqlLocal, steps: tuple[LoadStep, ...], role: str) -> None:
    for step in steps:
        if not isinstance(step, LoadSql):
            raise EndpointError(
                f"{role}.load: a dsql-local endpoint loads SQL scripts only (a SQLite copy "
                "would need DDL DSQL refuses); fix: export the data as a DSQL-ready script",
                endpoint=role,
            )
        if step.database not in (None, "postgres"):
            raise EndpointError(
                f"{role}.load: DSQL has one database, postgres (not '{step.database}')",
                endpoint=role,
            )
        run_script(cluster, step.sql, role)


def run_script(cluster: DsqlLocal, path: Path, role: str) -> int:
    """Run the script at ``path`` through the guard, each statement in its own transaction
    (psql's autocommit); the number of statements run. A refusal names file and line."""
    from harness.lint.split import split

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EndpointError(
            f"loading the {role} failed: cannot read {path}: {exc.strerror}", endpoint=role
        ) from None
    conninfo = cluster.conninfo("admin", password=cluster.token("admin"))
    script = split(text)
    count = 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in script.statements:
            line = script.position(statement.start)[0]
            if statement.meta:
                raise EndpointError(
                    f"{role}.load: {path}:{line}: a psql meta-command ({statement.text.split()[0]})"
                    " is not SQL a server runs; fix: remove it from the script",
                    endpoint=role,
                )
            try:
                if statement.copy_rows >= 0:
                    _copy(conn, statement.text, _copy_data(text, statement.end))
                else:
                    conn.execute(statement.text)
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise EndpointError(
                    f"loading the {role} failed: {path}:{line}: [{exc.sqlstate}] {first} (the "
                    "local DSQL refuses what Aurora DSQL refuses: make the script DSQL-ready; "
                    "`cutover lint` shows how)",
                    endpoint=role,
                ) from None
            count += 1
    return count


def _copy_data(text: str, end: int) -> str:
    """The rows of a ``COPY … FROM stdin`` in a script: the lines after it up to ``\\.``."""
    start = text.index("\n", end) + 1
    stop = text.find("\n\\.", start - 1)
    return text[start : stop + 1] if stop >= 0 else text[start:]


def _copy(conn: psycopg.Connection[Any], statement: str, data: str) -> None:
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(data)
