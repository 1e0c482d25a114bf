"""The fault bed: everything faults are injected into, created and deleted by the harness.

A TCP PostgreSQL with a password (the only database the suite writes to, restarts or makes
conflict), a moto server holding a Secrets Manager secret, and a faulty HTTP front before it;
each item gets a fresh :class:`~harness.faults.proxy.FaultProxy` in front of the database.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg

from harness.embedded.provision import PostgresCluster
from harness.endpoints.aws import credentials_in_environment
from harness.faults.aws import FaultyFront
from harness.faults.db import RetryLog, Session, connector
from harness.faults.proxy import FaultProxy
from harness.faults.settings import FaultSettings
from harness.faults.workload import prepare

REGION = "us-east-2"
OTHER_REGION = "us-west-2"
BED_DB = "cutover_faults"
FRONT_FAULTS: dict[str, tuple[str | None, int | None]] = {
    "throttled": ("throttled", 1),
    "server_error": ("server_error", 2),
    "access_denied": ("access_denied", None),
    "not_found": ("not_found", None),
    "hanging": ("hanging", 1),
}
"""AWS faults the front injects: (mode, how many requests; None = every one)."""


class FaultBed:
    """Everything faults are injected into; created, owned and deleted by the harness."""

    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings
        self.password = secrets.token_urlsafe(16)
        self.secret_id = f"cutover/faults/{uuid.uuid4().hex[:8]}"
        self._cluster: PostgresCluster | None = None
        self._moto: Any = None
        self._front: FaultyFront | None = None
        self._lock = threading.Lock()

    # PostgreSQL -----------------------------------------------------------------------------

    @property
    def cluster(self) -> PostgresCluster:
        with self._lock:
            if self._cluster is None:
                cluster = PostgresCluster(tcp=True, password=self.password)
                cluster.start()
                self._cluster = cluster
                cluster.create_database(BED_DB)
                with psycopg.connect(cluster.conninfo(BED_DB), autocommit=True) as conn:
                    conn.execute(
                        "CREATE TABLE counters (id int PRIMARY KEY, hits int NOT NULL DEFAULT 0);"
                        " INSERT INTO counters (id) VALUES (1)"
                    )
                prepare(cluster.conninfo(BED_DB))
            return self._cluster

    def proxy(self) -> FaultProxy:
        """A fresh proxy in front of the bed's PostgreSQL (stop it when done)."""
        cluster = self.cluster
        return FaultProxy((cluster.host, cluster.port), seed=self.settings.seed).start()

    def conninfo(self, proxy: FaultProxy) -> str:
        return f"host=127.0.0.1 port={proxy.port} user=postgres dbname={BED_DB}"

    def session(self, proxy: FaultProxy, log: RetryLog, *, password: str | None = None) -> Session:
        secret = self.password if password is None else password
        return Session(
            connector(self.conninfo(proxy), password=secret),
            policy=self.settings.retry.backoff(),
            endpoint="faults-bed",
            log=log,
            secrets=(self.password, secret),
        )

    # AWS (moto) -----------------------------------------------------------------------------

    @property
    def front(self) -> FaultyFront:
        """The faulty HTTP front before a moto server holding the bed's secret."""
        with self._lock:
            if self._front is None:
                from moto.server import ThreadedMotoServer

                # werkzeug logs every request it serves to stderr; the matrix has what matters.
                logging.getLogger("werkzeug").setLevel(logging.WARNING)

                self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
                self._moto.start()
                host, port = self._moto.get_host_and_port()
                self._front = FaultyFront(f"http://{host}:{port}").start()
                with dummy_aws_credentials():
                    import boto3

                    boto3.client(
                        "secretsmanager", region_name=REGION, endpoint_url=f"http://{host}:{port}"
                    ).create_secret(Name=self.secret_id, SecretString=self._secret_text())
            return self._front

    def _secret_text(self) -> str:
        return json.dumps(
            {
                "username": "postgres",
                "password": self.password,
                "dbname": BED_DB,
                "engine": "postgres",
            }
        )

    def close(self) -> None:
        if self._front is not None:
            self._front.stop()
        if self._moto is not None:
            self._moto.stop()
        if self._cluster is not None:
            self._cluster.stop()

    def __enter__(self) -> FaultBed:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def dummy_aws_credentials() -> Iterator[None]:
    """moto accepts any keys; real ones must never be sent to a stand-in."""
    with credentials_in_environment("testing", "testing", "testing"):
        yield
