"""``cutover aurora-iam serve --plan``: a plan's ``aurora`` endpoint with ``auth: iam``, served
on 127.0.0.1 as a real PostgreSQL behind the IAM stand-in, in its own process, as
``examples/node-app/run.sh`` starts it. Clients reach it exactly as the plan says (the
harness's own path signs an RDS token per connection, verifies TLS against the CA the command
wrote); a token signed with other keys is refused; SIGTERM stops it and removes the CA file;
a plan it cannot serve is one line and exit 2.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from harness.embedded.iam_command import CA_MARK
from harness.endpoints.resolve import Connector, connect_postgres, resolve
from harness.endpoints.settings import AuroraEndpoint
from harness.errors import EndpointError
from harness.plan.load import load_plan
from tests.aws_support import ACCESS_KEY, SECRET_KEY, aws_env, without_aws

__all__ = ["aws_env"]  # a fixture used by name below

pytestmark = pytest.mark.slow

HOST = "orders.cluster-c0ffee123456.eu-west-1.rds.amazonaws.com"
USER = "orders_app"
DATABASE = "orders"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _plan(folder: Path, **target: Any) -> Path:
    fields = {
        "kind": "aurora",
        "auth": "iam",
        "host": HOST,
        "hostaddr": "127.0.0.1",
        "port": _free_port(),
        "database": DATABASE,
        "user": USER,
        "sslmode": "verify-full",
        "sslrootcert": "standin/ca.crt",
        **target,
    }
    path = folder / "plan.yaml"
    target_fields = {k: v for k, v in fields.items() if v is not None}
    path.write_text(yaml.safe_dump({"name": "served", "target": target_fields}), encoding="utf-8")
    return path


def _serve(folder: Path, plan: Path, *args: str, **keys: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "aurora-iam", "serve", "--plan", str(plan), *args],
        env=without_aws(folder, **keys),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _refused(folder: Path, plan: Path, *args: str) -> str:
    """Run the command to its end (it must not start serving); its one line of stderr."""
    process = _serve(
        folder, plan, *args, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2, out + err
    assert out == ""
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


@dataclass(frozen=True)
class Served:
    process: subprocess.Popen[str]
    uri: str
    plan: Path

    @property
    def target(self) -> AuroraEndpoint:
        spec = load_plan(self.plan).plan.target
        assert isinstance(spec, AuroraEndpoint)
        return spec

    def connector(self, **changes: Any) -> Connector:
        with ExitStack() as resources:
            found = resolve(self.target, "target", resources)
        return Connector(**{**found.to_dict(), **changes})


def _start(folder: Path) -> Served:
    """Serve a plan's target loaded with two orders; ready once its URI is printed."""
    (folder / "schema.sql").write_text(
        "CREATE TABLE orders (id integer PRIMARY KEY, total numeric(10, 2) NOT NULL);\n"
        "INSERT INTO orders VALUES (1, 9.50), (2, 12.00);\n",
        encoding="utf-8",
    )
    plan = _plan(folder)
    process = _serve(
        folder,
        plan,
        "--load",
        "schema.sql",
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
    )
    assert process.stdout is not None
    return Served(process, process.stdout.readline().strip(), plan)


def _stop(served: Served) -> None:
    if served.process.poll() is None:
        served.process.kill()
    served.process.communicate(timeout=60)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    started = _start(tmp_path_factory.mktemp("served"))
    try:
        yield started
    finally:
        _stop(started)


class TestServing:
    def test_the_first_line_is_the_plans_endpoint_without_a_password(self, served: Served) -> None:
        spec = served.target
        assert served.uri == (
            f"postgresql://{USER}@{HOST}:{spec.port}/{DATABASE}?hostaddr=127.0.0.1"
            f"&sslmode=verify-full&sslrootcert={spec.sslrootcert}"
        )

    def test_the_harness_connects_as_the_plan_says_with_a_token_over_verified_tls(
        self, aws_env: None, served: Served
    ) -> None:
        with connect_postgres(served.connector()) as conn:
            assert conn.pgconn.ssl_in_use
            row = conn.execute("SELECT current_user, current_database()").fetchone()
            assert row == (USER, DATABASE)
            # the script ran as the user: the application owns its tables
            owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'")
            assert owner.fetchone() == (USER,)
            assert conn.execute("SELECT count(*) FROM orders").fetchone() == (2,)

    def test_the_ca_file_is_marked_as_the_commands_own(self, served: Served) -> None:
        ca = served.target.sslrootcert
        assert ca is not None
        assert ca.read_bytes().startswith(CA_MARK)
        assert b"-----BEGIN CERTIFICATE-----" in ca.read_bytes()

    def test_a_token_signed_with_other_keys_is_refused(
        self, aws_env: None, served: Served, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key-the-stand-in-knows")
        with pytest.raises(EndpointError, match=f'PAM authentication failed for user "{USER}"'):
            connect_postgres(served.connector(retry={"attempts": 1}))

    def test_an_application_pointed_at_it_gets_a_fresh_rds_token_that_logs_in(
        self, aws_env: None, served: Served, tmp_path: Path
    ) -> None:
        from harness.app.sides import pointed_at

        connector = served.connector()
        with pointed_at(connector, allow_writes=True, workdir=tmp_path) as pointed:
            env = pointed.env
        assert env["PGHOST"] == "127.0.0.1"
        assert env["PGSSLMODE"] == "verify-full"
        assert "X-Amz-Signature=" in env["PGPASSWORD"]  # an RDS token, not a DSQL one
        assert f"{HOST}:{served.target.port}/?Action=connect&DBUser={USER}" in env["PGPASSWORD"]
        with psycopg.connect(
            host=env["PGHOST"],
            port=env["PGPORT"],
            user=env["PGUSER"],
            password=env["PGPASSWORD"],
            dbname=env["PGDATABASE"],
            sslmode="verify-ca",  # PGHOST is the address: the certificate names the host too
            sslrootcert=str(served.target.sslrootcert),
        ) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (USER,)

    def test_sigterm_stops_it_and_removes_the_ca_file(self, tmp_path: Path) -> None:
        own = _start(tmp_path)
        try:
            ca = own.target.sslrootcert
            assert ca is not None
            assert ca.exists()
            own.process.send_signal(signal.SIGTERM)
            own.process.wait(timeout=60)
            assert own.process.returncode == 0
            assert not ca.exists()
        finally:
            _stop(own)


class TestWhatItRefuses:
    def test_a_target_that_is_not_aurora_with_iam(self, tmp_path: Path) -> None:
        plan = tmp_path / "plan.yaml"
        plan.write_text(
            yaml.safe_dump({"name": "x", "target": {"kind": "embedded"}}), encoding="utf-8"
        )
        assert "not an aurora endpoint with auth: iam" in _refused(tmp_path, plan)

    def test_a_target_without_hostaddr_names_the_key_to_set(self, tmp_path: Path) -> None:
        err = _refused(tmp_path, _plan(tmp_path, hostaddr=None))
        assert "set target.hostaddr: 127.0.0.1" in err

    def test_it_never_overwrites_a_ca_bundle_it_did_not_write(self, tmp_path: Path) -> None:
        bundle = tmp_path / "standin" / "ca.crt"
        bundle.parent.mkdir()
        bundle.write_bytes(b"-----BEGIN CERTIFICATE-----\nthe real RDS bundle\n")
        err = _refused(tmp_path, _plan(tmp_path))
        assert "was not written by this command" in err
        assert bundle.read_bytes() == b"-----BEGIN CERTIFICATE-----\nthe real RDS bundle\n"

    def test_a_script_that_fails_names_the_file_and_the_error(self, tmp_path: Path) -> None:
        (tmp_path / "bad.sql").write_text("CREATE TABLE t (id integr);\n", encoding="utf-8")
        err = _refused(tmp_path, _plan(tmp_path), "--load", "bad.sql")
        assert "loading bad.sql" in err
        assert 'type "integr" does not exist' in err

    def test_no_aws_credentials_is_one_line_with_the_fix(self, tmp_path: Path) -> None:
        process = _serve(tmp_path, _plan(tmp_path))
        out, err = process.communicate(timeout=120)
        assert process.returncode == 2, out + err
        assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in err
        assert "IAM stand-in" in err
