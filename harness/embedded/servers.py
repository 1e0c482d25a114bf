"""Servers the harness starts for itself: embedded PostgreSQL and testcontainers PostgreSQL.

These are the only databases the harness writes to, and only while loading them.
"""

from __future__ import annotations

from contextlib import ExitStack

import psycopg
from psycopg import sql

from harness.embedded.provision import PostgresCluster
from harness.endpoints.settings import (
    ContainerEndpoint,
    EmbeddedEndpoint,
    LoadSql,
    LoadSqlite,
    LoadStep,
)
from harness.errors import EndpointError, ProvisionError


def start_embedded(spec: EmbeddedEndpoint, role: str, resources: ExitStack) -> str:
    """Start an ephemeral PostgreSQL 16, load it, and return a DSN of ``spec.database``."""
    try:
        cluster = PostgresCluster()
        # Before start(): a signal between a started server and its callback must not leak it.
        resources.callback(cluster.stop)
        cluster.start()
    except ProvisionError as exc:
        raise EndpointError(f"embedded PostgreSQL did not start: {exc}", endpoint=role) from None
    admin = cluster.conninfo("postgres")
    load(admin, spec.database, spec.load, role, run_script=cluster.run_sql_file)
    return cluster.conninfo(spec.database)


def start_container(spec: ContainerEndpoint, role: str, resources: ExitStack) -> str:
    """Start a testcontainers PostgreSQL (needs a Docker engine) and load it."""
    if not docker_available():
        raise EngineUnavailable(role)
    try:
        from testcontainers.postgres import PostgresContainer
    except ImportError:
        raise EndpointError(
            "container endpoints need testcontainers: pip install 'cutover-harness[container]'",
            endpoint=role,
        ) from None
    container = PostgresContainer(spec.image, driver=None)
    container.start()
    resources.callback(container.stop)
    admin = container.get_connection_url()
    load(admin, spec.database, spec.load, role, run_script=None)
    return admin.rsplit("/", 1)[0] + f"/{spec.database}"


class EngineUnavailable(EndpointError):
    """No Docker engine answers, so container endpoints cannot run here."""

    def __init__(self, role: str) -> None:
        super().__init__(
            "container endpoints need a running Docker engine and none answers "
            "(use kind: embedded instead, or start Docker)",
            endpoint=role,
        )


def docker_available() -> bool:
    """True when a Docker engine answers (testcontainers' own client, no side effects)."""
    try:
        import docker

        client = docker.from_env(timeout=3)
    except Exception:  # any failure means: no usable engine
        return False
    try:
        client.ping()
    except Exception:
        return False
    finally:
        client.close()  # its HTTP pool would otherwise leak a socket (a ResourceWarning)
    return True


def load(
    admin_dsn: str, database: str, steps: tuple[LoadStep, ...], role: str, *, run_script: object
) -> None:
    """Create ``database`` if needed and run the load steps in order."""
    from harness.embedded.migrate import copy_sqlite

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    base = admin_dsn
    for step in steps:
        try:
            if isinstance(step, LoadSql):
                if run_script is None:
                    raise ProvisionError("SQL scripts load only into embedded endpoints for now")
                run_script(step.sql, dbname=step.database or database)  # type: ignore[operator]
            elif isinstance(step, LoadSqlite):
                target = psycopg.conninfo.make_conninfo(base, dbname=database)
                copy_sqlite(step.sqlite, target, naming=step.naming)
        except ProvisionError as exc:
            raise EndpointError(f"loading the {role} failed: {exc}", endpoint=role) from None
