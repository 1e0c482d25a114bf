"""The TLS front the Aurora/DSQL stand-ins use: real TLS negotiated by libpq, the server's own
password check behind it, and plain clients refused when TLS is required (as DSQL does)."""

from __future__ import annotations

import psycopg
import pytest

from harness.embedded.provision import PostgresCluster, self_signed_certificate
from harness.embedded.tls_front import TlsFront
from harness.errors import ProvisionError
from tests.aws_support import DSQL_HOST, StandIn, standin

__all__ = ["standin"]  # fixture used by name below


def dsn(standin: StandIn, port: int, **params: str) -> str:
    base = {
        "host": "127.0.0.1",
        "port": str(port),
        "dbname": "postgres",
        "user": "postgres",
        "password": standin.admin_password,
        "connect_timeout": "5",
    }
    return " ".join(f"{k}={v}" for k, v in {**base, **params}.items())


class TestTlsCluster:
    def test_sslmode_require_negotiates_tls(self, standin: StandIn) -> None:
        with psycopg.connect(dsn(standin, standin.tls_port, sslmode="require")) as conn:
            assert conn.pgconn.ssl_in_use
            assert conn.info.parameter_status("server_version") is not None

    def test_verify_full_accepts_every_name_on_the_certificate(self, standin: StandIn) -> None:
        ca = str(standin.cluster.ca_file)
        for host in ("localhost", DSQL_HOST):
            params = {"host": host, "hostaddr": "127.0.0.1", "sslmode": "verify-full"}
            with psycopg.connect(dsn(standin, standin.tls_port, **params, sslrootcert=ca)) as conn:
                assert conn.pgconn.ssl_in_use

    def test_direct_tls_negotiation_works_as_dsql_connectors_use_it(self, standin: StandIn) -> None:
        ca = str(standin.cluster.ca_file)
        params = {"sslmode": "verify-full", "sslrootcert": ca, "sslnegotiation": "direct"}
        with psycopg.connect(dsn(standin, standin.tls_port, **params)) as conn:
            assert conn.pgconn.ssl_in_use

    def test_the_password_is_still_checked_by_the_server(self, standin: StandIn) -> None:
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn(standin, standin.tls_port, sslmode="require", password="nope"))

    def test_the_plain_port_has_no_tls(self, standin: StandIn) -> None:
        with pytest.raises(psycopg.OperationalError, match="server does not support SSL"):
            psycopg.connect(dsn(standin, standin.plain_port, sslmode="require"))

    def test_a_cluster_without_tls_has_no_ca_file(self, pg_cluster: PostgresCluster) -> None:
        with pytest.raises(ProvisionError, match="this cluster has no TLS"):
            _ = pg_cluster.ca_file


class TestRequiredTls:
    def test_a_plain_client_is_refused_like_dsql_refuses_it(
        self, standin: StandIn, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        folder = tmp_path_factory.mktemp("front")
        cert, key = self_signed_certificate(("localhost", "127.0.0.1"))
        (folder / "c.pem").write_bytes(cert)
        (folder / "k.pem").write_bytes(key)
        front = TlsFront(
            ("127.0.0.1", standin.plain_port),
            cert_file=folder / "c.pem",
            key_file=folder / "k.pem",
            require_tls=True,
        ).start()
        try:
            with pytest.raises(psycopg.OperationalError, match="TLS is required"):
                psycopg.connect(dsn(standin, front.port, sslmode="disable"))
            with psycopg.connect(dsn(standin, front.port, sslmode="require")) as conn:
                assert conn.pgconn.ssl_in_use
        finally:
            front.stop()
