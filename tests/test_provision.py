"""Specification of harness.embedded.provision: real PostgreSQL 16 servers from pgserver."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from harness.embedded import provision
from harness.embedded.provision import PostgresCluster, postgres_bin
from harness.embedded.reaper import Owner
from harness.errors import ProvisionError

CHINOOK = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "chinook"
PASSWORD = "s3cret pa'ss"  # a space and a quote: conninfo and PGPASSWORD must carry it intact


def tcp_listeners(cluster: PostgresCluster) -> set[tuple[str, int]]:
    """Return the (address, port) pairs the cluster's postmaster listens on."""
    pid = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    return {
        (conn.laddr.ip, conn.laddr.port)
        for conn in psutil.Process(pid).net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN
    }


def scalar(conninfo: str, query: str) -> object:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def socket_cluster() -> Iterator[PostgresCluster]:
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def tcp_cluster() -> Iterator[PostgresCluster]:
    with PostgresCluster(tcp=True, password=PASSWORD) as cluster:
        yield cluster


@pytest.fixture
def script(tmp_path: Path) -> Path:
    """A path for a SQL script in pytest's tmp dir, which the server user cannot read."""
    return tmp_path / "script.sql"


class TestBinaries:
    def test_postgres_bin_finds_the_wheels_psql(self) -> None:
        assert postgres_bin("psql").is_file()

    def test_an_unknown_binary_raises_with_a_fix(self) -> None:
        with pytest.raises(ProvisionError, match="pip install"):
            postgres_bin("no-such-binary")


class TestSocketCluster:
    def test_it_runs_postgres_16(self, socket_cluster: PostgresCluster) -> None:
        assert socket_cluster.running
        assert socket_cluster.server_version().startswith("16.")

    def test_starting_it_again_is_a_no_op(self, socket_cluster: PostgresCluster) -> None:
        port = socket_cluster.port
        assert socket_cluster.start() is socket_cluster
        assert socket_cluster.running
        assert socket_cluster.port == port

    def test_it_listens_on_no_tcp_address(self, socket_cluster: PostgresCluster) -> None:
        assert scalar(socket_cluster.conninfo(), "SHOW listen_addresses") == ""
        assert socket_cluster.host == str(socket_cluster.socket_dir)
        assert tcp_listeners(socket_cluster) == set()

    def test_its_conninfo_refuses_tcp(self, socket_cluster: PostgresCluster) -> None:
        with pytest.raises(ProvisionError, match="tcp=True"):
            socket_cluster.conninfo(tcp=True)

    def test_its_settings_are_light(self, socket_cluster: PostgresCluster) -> None:
        assert scalar(socket_cluster.conninfo(), "SHOW fsync") == "off"
        assert scalar(socket_cluster.conninfo(), "SHOW server_encoding") == "UTF8"

    def test_a_database_cloned_from_a_template_has_its_rows(
        self, socket_cluster: PostgresCluster
    ) -> None:
        template = socket_cluster.create_database("tmpl-clone")
        with psycopg.connect(template) as conn:
            conn.execute("CREATE TABLE t AS SELECT generate_series(1, 3) AS x")
        clone = socket_cluster.create_database("clone", template="tmpl-clone")
        assert scalar(clone, "SELECT sum(x) FROM t") == 6
        socket_cluster.drop_database("clone")
        socket_cluster.drop_database("tmpl-clone")

    def test_dropping_a_missing_database_is_fine(self, socket_cluster: PostgresCluster) -> None:
        socket_cluster.drop_database("never-created")

    def test_creating_an_existing_database_raises(self, socket_cluster: PostgresCluster) -> None:
        with pytest.raises(ProvisionError, match=r"creating database 'postgres': .*already exists"):
            socket_cluster.create_database("postgres")

    def test_restart_keeps_data_and_port(self, socket_cluster: PostgresCluster) -> None:
        conninfo = socket_cluster.create_database("survives")
        with psycopg.connect(conninfo) as conn:
            conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
        port = socket_cluster.port
        socket_cluster.restart()
        assert socket_cluster.running
        assert socket_cluster.port == port
        assert scalar(conninfo, "SELECT x FROM kept") == 42
        socket_cluster.drop_database("survives")


class TestRunSqlFile:
    def test_a_script_with_a_connect_meta_command_loads(
        self, socket_cluster: PostgresCluster, script: Path
    ) -> None:
        script.write_text(
            "DROP DATABASE IF EXISTS scripted;\nCREATE DATABASE scripted;\n\\c scripted\n"
            "CREATE TABLE t (x int);\nINSERT INTO t VALUES (1), (2);\n"
        )
        socket_cluster.run_sql_file(script)
        assert scalar(socket_cluster.conninfo("scripted"), "SELECT count(*) FROM t") == 2
        socket_cluster.drop_database("scripted")

    def test_a_bad_statement_names_file_and_line(
        self, socket_cluster: PostgresCluster, script: Path
    ) -> None:
        script.write_text("SELECT 1;\nSELECT * FROM no_such_table;\nSELECT 3;\n")
        with pytest.raises(ProvisionError) as caught:
            socket_cluster.run_sql_file(script)
        message = str(caught.value)
        assert message == f'{script}:2: relation "no_such_table" does not exist'
        assert "\n" not in message

    def test_a_missing_file_raises(self, socket_cluster: PostgresCluster, tmp_path: Path) -> None:
        with pytest.raises(ProvisionError, match=r"loading .*absent\.sql: No such file"):
            socket_cluster.run_sql_file(tmp_path / "absent.sql")

    def test_a_password_cluster_loads_through_pgpassword(
        self, tcp_cluster: PostgresCluster, script: Path
    ) -> None:
        script.write_text("CREATE TABLE loaded (x int);\n")
        tcp_cluster.run_sql_file(script)
        assert scalar(tcp_cluster.conninfo(), "SELECT count(*) FROM loaded") == 0

    @pytest.mark.chinook
    @pytest.mark.skipif(not CHINOOK.is_dir(), reason="no ../shared/fixtures/chinook")
    def test_the_chinook_script_loads(self, tcp_cluster: PostgresCluster) -> None:
        tcp_cluster.run_sql_file(CHINOOK / "Chinook_PostgreSql.sql")
        assert scalar(tcp_cluster.conninfo("chinook"), "SELECT count(*) FROM track") == 3503


class TestPasswordTcpCluster:
    def test_the_right_password_connects_over_tcp(self, tcp_cluster: PostgresCluster) -> None:
        assert tcp_cluster.host == "127.0.0.1"
        assert scalar(tcp_cluster.conninfo(), "SELECT inet_server_addr()::text") == "127.0.0.1/32"

    @pytest.mark.parametrize("tcp", [True, False], ids=["tcp", "socket"])
    def test_a_wrong_password_is_rejected(self, tcp_cluster: PostgresCluster, tcp: bool) -> None:
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(tcp_cluster.conninfo(password="wrong", tcp=tcp))

    def test_it_listens_only_on_loopback(self, tcp_cluster: PostgresCluster) -> None:
        assert tcp_listeners(tcp_cluster) == {("127.0.0.1", tcp_cluster.port)}


class TestStop:
    @pytest.fixture
    def base_dir(self) -> Iterator[Path]:
        # Not tmp_path: any pytest session starting meanwhile (another xdist run, a colleague's)
        # resets /tmp/pytest-of-root to 0700, locking the unprivileged server user out. This
        # folder is the test's own, so it may open it (cutover never widens a caller's folder).
        with tempfile.TemporaryDirectory(prefix="cutover-test-") as folder:
            Path(folder).chmod(0o755)
            yield Path(folder)

    def test_stop_deletes_the_folder_and_is_idempotent(self, base_dir: Path) -> None:
        cluster = PostgresCluster(base_dir=base_dir).start()
        data_dir = cluster.data_dir
        assert data_dir.is_relative_to(base_dir.resolve())
        cluster.stop()
        assert not cluster.running
        assert not data_dir.parent.exists()
        assert base_dir.exists()  # only the cluster's own folder goes
        cluster.stop()
        with pytest.raises(ProvisionError, match="create a new cluster"):
            cluster.start()

    def test_its_folder_records_this_process_as_owner_until_it_goes(self, base_dir: Path) -> None:
        cluster = PostgresCluster(base_dir=base_dir)
        root = cluster.data_dir.parent
        assert Owner.of(root) == Owner.this_process()
        cluster.start()
        assert cluster.running
        cluster.stop()
        assert not root.exists()

    def test_a_cluster_never_started_stops_quietly(self) -> None:
        cluster = PostgresCluster()
        cluster.stop()
        assert not cluster.data_dir.parent.exists()


class TestPortRaces:
    """Another process may take the chosen port before postgres binds it (xdist, CI)."""

    @pytest.fixture
    def taken_port(self) -> Iterator[int]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            yield sock.getsockname()[1]

    def test_start_retries_on_a_port_taken_meanwhile(
        self, monkeypatch: pytest.MonkeyPatch, taken_port: int
    ) -> None:
        ports = iter([taken_port, provision._free_port()])
        monkeypatch.setattr(provision, "_free_port", lambda: next(ports))
        with PostgresCluster(tcp=True) as cluster:
            assert cluster.port != taken_port
            assert cluster.server_version().startswith("16.")

    def test_a_start_that_keeps_failing_reports_the_server_log(
        self, monkeypatch: pytest.MonkeyPatch, taken_port: int
    ) -> None:
        monkeypatch.setattr(provision, "_free_port", lambda: taken_port)
        cluster = PostgresCluster(tcp=True)
        with pytest.raises(
            ProvisionError, match=r"could not start PostgreSQL .*FATAL.*TCP/IP"
        ) as e:
            cluster.start()
        assert "\n" not in str(e.value)
        assert not cluster.data_dir.parent.exists()
