"""The fault proxy: every toxic injected for real on TCP, against an echo server and PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from harness.embedded.provision import PostgresCluster
from harness.faults.proxy import FaultProxy, ProxyError
from harness.faults.pytest_fixtures import ProxyFactory

WAIT_S = 5.0  # every socket wait in these tests is bounded


class EchoServer:
    """A tiny TCP echo server on 127.0.0.1; ``close_after`` makes it hang up after N bytes."""

    def __init__(self, close_after: int | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.close_after = close_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return host, port

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(WAIT_S)
        seen = 0
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)
                seen += len(data)
                if self.close_after is not None and seen >= self.close_after:
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        self.sock.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


def connect(proxy: FaultProxy) -> socket.socket:
    sock = socket.create_connection(proxy.address, timeout=WAIT_S)
    return sock


def roundtrip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


class TestPassThrough:
    def test_bytes_flow_both_ways_and_are_counted(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        with connect(proxy) as sock:
            assert roundtrip(sock, b"hello") == b"hello"
        assert proxy.stats.accepted == 1
        assert proxy.stats.bytes == {"upstream": 5, "downstream": 5}

    def test_listens_on_loopback_only(self, fault_proxy: ProxyFactory, echo: EchoServer) -> None:
        proxy = fault_proxy(echo.address)
        assert proxy.host == "127.0.0.1"
        assert proxy.port > 0

    def test_postgres_session_through_the_proxy(
        self, fault_proxy: ProxyFactory, pg_password_cluster: tuple[PostgresCluster, str]
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        dsn = f"host=127.0.0.1 port={proxy.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, password=password, connect_timeout=5) as conn:
            assert conn.execute("SELECT 41 + 1").fetchone() == (42,)

    def test_unix_socket_upstream(
        self, fault_proxy: ProxyFactory, pg_cluster: PostgresCluster
    ) -> None:
        socket_path = pg_cluster.socket_dir / f".s.PGSQL.{pg_cluster.port}"
        proxy = fault_proxy(socket_path)
        dsn = f"host=127.0.0.1 port={proxy.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            assert conn.execute("SELECT 'via tcp'").fetchone() == ("via tcp",)


class TestDown:
    def test_down_refuses_and_up_listens_again_on_the_same_port(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        port = proxy.port
        with proxy.down():
            assert not proxy.enabled
            with pytest.raises(ConnectionRefusedError):
                connect(proxy)
        assert proxy.port == port
        with connect(proxy) as sock:
            assert roundtrip(sock, b"back") == b"back"

    def test_down_closes_open_links(self, fault_proxy: ProxyFactory, echo: EchoServer) -> None:
        proxy = fault_proxy(echo.address)
        with connect(proxy) as sock:
            assert roundtrip(sock, b"x") == b"x"
            proxy.disable()
            assert sock.recv(10) == b""
        proxy.enable()

    def test_postgres_connect_refused_while_down(
        self, fault_proxy: ProxyFactory, pg_password_cluster: tuple[PostgresCluster, str]
    ) -> None:
        cluster, password = pg_password_cluster
        proxy = fault_proxy((cluster.host, cluster.port))
        dsn = f"host=127.0.0.1 port={proxy.port} user=postgres dbname=postgres"
        with proxy.down(), pytest.raises(psycopg.OperationalError, match="refused"):
            psycopg.connect(dsn, password=password, connect_timeout=5)


class TestToxics:
    def test_latency_delays_each_chunk_by_at_least_its_latency(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        with connect(proxy) as sock:
            with proxy.toxic("latency", stream="downstream", latency=150, jitter=0):
                start = time.monotonic()
                assert roundtrip(sock, b"slow") == b"slow"
                delayed = time.monotonic() - start
            # A lower bound only: the proxy slept at least this long (never a speed claim).
            assert delayed >= 0.15

    def test_changed_while_a_connection_is_open(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        with connect(proxy) as sock:
            assert roundtrip(sock, b"a") == b"a"
            toxic = proxy.add_toxic("latency", latency=0)
            proxy.update_toxic(toxic.name, latency=120)
            start = time.monotonic()
            assert roundtrip(sock, b"b") == b"b"
            assert time.monotonic() - start >= 0.12
            assert proxy.toxics()[0].attributes == {"latency": 120}

    def test_bandwidth_limits_throughput(self, fault_proxy: ProxyFactory, echo: EchoServer) -> None:
        proxy = fault_proxy(echo.address)
        payload = b"z" * 20_000
        with connect(proxy) as sock, proxy.toxic("bandwidth", stream="upstream", rate=100):
            start = time.monotonic()
            assert roundtrip(sock, payload) == payload
            # 20 KB at 100 KB/s: the proxy paused at least 0.19 s between chunks.
            assert time.monotonic() - start >= 0.19

    def test_reset_peer_sends_rst_at_the_next_chunk(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        with connect(proxy) as sock:
            assert roundtrip(sock, b"ok") == b"ok"
            proxy.add_toxic("reset_peer", stream="upstream", timeout=0)
            sock.sendall(b"boom")
            with pytest.raises(ConnectionResetError):
                sock.recv(10)
        assert proxy.stats.resets == 1

    def test_reset_peer_with_timeout_resets_an_idle_link_later(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        with connect(proxy) as sock:
            assert roundtrip(sock, b"ok") == b"ok"
            proxy.add_toxic("reset_peer", stream="downstream", timeout=50)
            with pytest.raises(ConnectionResetError):
                sock.recv(10)  # nothing sent: the clock alone triggers the reset

    def test_timeout_black_holes_data_until_removed(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        with connect(proxy) as sock:
            sock.settimeout(0.3)
            with proxy.toxic("timeout", stream="upstream", timeout=0):
                sock.sendall(b"lost")
                with pytest.raises(TimeoutError):
                    sock.recv(10)
            sock.settimeout(WAIT_S)
            assert roundtrip(sock, b"found") == b"found"  # "lost" was dropped, as in Toxiproxy

    def test_timeout_with_a_duration_closes_the_link(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        proxy.add_toxic("timeout", stream="downstream", timeout=100)
        with connect(proxy) as sock:
            sock.sendall(b"never answered")
            assert sock.recv(10) == b""
        assert proxy.stats.closed_by_toxic == 1

    def test_limit_data_closes_after_n_bytes(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        proxy.add_toxic("limit_data", stream="downstream", bytes=3)
        with connect(proxy) as sock:
            sock.sendall(b"abcdef")
            got = b""
            while chunk := sock.recv(10):
                got += chunk
            assert got == b"abc"

    def test_slow_close_holds_the_close_back(self, fault_proxy: ProxyFactory) -> None:
        hangs_up = EchoServer(close_after=2)
        try:
            proxy = fault_proxy(hangs_up.address)
            proxy.add_toxic("slow_close", stream="downstream", delay=200)
            with connect(proxy) as sock:
                start = time.monotonic()
                assert roundtrip(sock, b"hi") == b"hi"
                assert sock.recv(10) == b""
                assert time.monotonic() - start >= 0.2
        finally:
            hangs_up.close()

    def test_toxicity_is_rolled_per_connection_from_the_seed(self, echo: EchoServer) -> None:
        def pattern(seed: int) -> list[bool]:
            outcome = []
            with FaultProxy(echo.address, seed=seed) as proxy:
                proxy.add_toxic("reset_peer", stream="upstream", toxicity=0.5)
                for _ in range(16):
                    with connect(proxy) as sock:
                        try:
                            outcome.append(roundtrip(sock, b"p") == b"p")
                        except ConnectionResetError:
                            outcome.append(False)
            return outcome

        first = pattern(7)
        assert first == pattern(7)
        assert 0 < sum(first) < len(first)  # some links reset, some passed

    def test_reset_links_resets_every_open_link(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        with connect(proxy) as a, connect(proxy) as b:
            roundtrip(a, b"1")
            roundtrip(b, b"2")
            assert proxy.reset_links() == 2
            for sock in (a, b):
                with pytest.raises(ConnectionResetError):
                    sock.recv(1)


class TestMisuse:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"type": "jitter"}, "unknown toxic type 'jitter'; allowed: latency"),
            ({"type": "latency", "delay": 5}, "latency takes latency, jitter; unknown attribute"),
            ({"type": "latency", "toxicity": 1.5}, r"toxicity is a probability in \[0, 1\]"),
            ({"type": "latency", "stream": "sideways"}, "stream must be upstream or downstream"),
            ({"type": "bandwidth", "rate": -1}, "must not be negative"),
        ],
    )
    def test_bad_toxics_are_one_clear_line(
        self, fault_proxy: ProxyFactory, echo: EchoServer, kwargs: dict[str, object], message: str
    ) -> None:
        proxy = fault_proxy(echo.address)
        kind = kwargs.pop("type")
        with pytest.raises(ProxyError, match=message):
            proxy.add_toxic(str(kind), **kwargs)  # type: ignore[arg-type]

    def test_duplicate_and_missing_names(self, fault_proxy: ProxyFactory, echo: EchoServer) -> None:
        proxy = fault_proxy(echo.address)
        proxy.add_toxic("latency", name="slow")
        with pytest.raises(ProxyError, match="already exists"):
            proxy.add_toxic("latency", name="slow")
        with pytest.raises(ProxyError, match="no toxic 'fast'"):
            proxy.update_toxic("fast", latency=1)

    def test_calls_before_start_say_so(self, echo: EchoServer) -> None:
        with pytest.raises(ProxyError, match="not running; call start"):
            FaultProxy(echo.address).disable()


class TestLimitedReset:
    def test_a_limited_reset_peer_resets_once_then_removes_itself(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        proxy.add_toxic("reset_peer", stream="upstream", limit=1)
        with connect(proxy) as sock:
            sock.sendall(b"x")
            with pytest.raises(ConnectionResetError):
                sock.recv(1)
        with connect(proxy) as sock:
            assert roundtrip(sock, b"fine") == b"fine"
        assert proxy.toxics() == ()
        assert proxy.stats.resets == 1

    def test_limit_is_for_reset_peer_only(
        self, fault_proxy: ProxyFactory, echo: EchoServer
    ) -> None:
        proxy = fault_proxy(echo.address)
        with pytest.raises(ProxyError, match="for reset_peer only"):
            proxy.add_toxic("latency", limit=1)
