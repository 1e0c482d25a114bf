"""The fault bed: everything faults are injected into, created and deleted by the harness.

A database of the kind the plan's ``faults.bed`` names (:mod:`harness.faults.beds`: a TCP
PostgreSQL with a password, or a local Aurora DSQL), the only database the suite writes to,
restarts or makes conflict; a moto server holding a Secrets Manager secret, and a faulty HTTP
front before it. Each item gets a fresh :class:`~harness.faults.proxy.FaultProxy` in front of
the database.
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

from harness.endpoints.aws import credentials_in_environment
from harness.faults.aws import FaultyFront
from harness.faults.beds import BedDatabase, start_database
from harness.faults.beds.postgres import BED_DB
from harness.faults.db import RetryLog, Session
from harness.faults.proxy import FaultProxy
from harness.faults.settings import FaultSettings

__all__ = ["BED_DB", "FRONT_FAULTS", "OTHER_REGION", "REGION", "FaultBed", "dummy_aws_credentials"]

REGION = "us-east-2"
OTHER_REGION = "us-west-2"
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
        self._db: BedDatabase | None = None
        self._moto: Any = None
        self._front: FaultyFront | None = None
        self._lock = threading.Lock()

    # The database -------------------------------------------------------------------------

    @property
    def db(self) -> BedDatabase:
        """The bed's database, started on first use (``faults.bed`` says which kind)."""
        with self._lock:
            if self._db is None:
                self._db = start_database(self.settings.bed, password=self.password)
            return self._db

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret the bed holds: none may reach an outcome or a log line."""
        return (self.password, *(self._db.secrets if self._db is not None else ()))

    def proxy(self) -> FaultProxy:
        """A fresh proxy in front of the bed's database (stop it when done)."""
        return FaultProxy(self.db.upstream, seed=self.settings.seed).start()

    def session(self, proxy: FaultProxy, log: RetryLog) -> Session:
        """A retried session through ``proxy`` (a fresh credential per connection)."""
        return Session(
            self.db.connect(proxy),
            policy=self.settings.retry.backoff(),
            endpoint="faults-bed",
            log=log,
            secrets=self.secrets,
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
        if self._db is not None:
            self._db.stop()

    def __enter__(self) -> FaultBed:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def dummy_aws_credentials() -> Iterator[None]:
    """moto accepts any keys; real ones must never be sent to a stand-in."""
    with credentials_in_environment("testing", "testing", "testing"):
        yield
