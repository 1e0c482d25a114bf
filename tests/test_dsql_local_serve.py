"""``cutover dsql-local serve`` as a team runs it: a URI on the first line, tokens signed
for the endpoint name by boto3 (as for a real cluster), psycopg and ``psql`` over TLS, DSQL's
rules on every session, and SIGTERM or SIGINT stopping it cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import psycopg
import pytest

from tests.aws_support import ACCESS_KEY, SECRET_KEY, without_aws

pytestmark = pytest.mark.slow

ENDPOINT = "kfz5wqjtbtmfsn3ghtwtv6lhga.dsql.eu-west-1.on.aws"


def _serve(folder: Path, *args: str, **keys: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "dsql-local", "serve", *args],
        env=without_aws(folder, **keys),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = _serve(
        tmp_path,
        "--endpoint",
        ENDPOINT,
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
    )
    assert process.stdout is not None
    uri = process.stdout.readline().strip()
    try:
        yield process, uri
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=60)  # waits, and closes both pipes


def _token(host: str, region: str) -> str:
    client = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
    ).client("dsql", region_name=region)
    token: str = client.generate_db_connect_admin_auth_token(Hostname=host, Region=region)
    return token


def test_the_first_line_is_a_uri_shaped_like_a_real_clusters(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    _, uri = served
    parts = urlsplit(uri)
    assert parts.scheme == "postgresql"
    assert parts.username == "admin"
    assert parts.hostname == ENDPOINT
    assert parts.path == "/postgres"
    assert parts.query == "hostaddr=127.0.0.1&sslmode=require"


def test_psycopg_connects_with_a_boto3_token_and_meets_dsqls_rules(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    _, uri = served
    region = ENDPOINT.split(".")[2]  # as a client derives it from the name
    with psycopg.connect(uri, password=_token(ENDPOINT, region), autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT current_user").fetchone() == ("admin",)
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            conn.execute("SET statement_timeout = 0")
    with pytest.raises(psycopg.OperationalError, match="access denied"):
        psycopg.connect(uri, password=_token(ENDPOINT, "us-east-1"))  # signed for another region


@pytest.mark.skipif(shutil.which("psql") is None, reason="needs a psql built with TLS")
def test_psql_connects_the_same_way(served: tuple[subprocess.Popen[str], str]) -> None:
    _, uri = served  # pgserver's own psql has no TLS: the system's (postgresql-client)
    env = {**os.environ, "PGPASSWORD": _token(ENDPOINT, "eu-west-1")}
    run = subprocess.run(
        ["psql", uri, "-XAtc", "SELECT 40 + 2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (run.returncode, run.stdout.strip()) == (0, "42"), run.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_and_its_server(
    served: tuple[subprocess.Popen[str], str], signum: int
) -> None:
    process, uri = served
    port = urlsplit(uri).port
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(uri, password="x", connect_timeout=2)
    assert port is not None


def test_a_custom_role_logs_in_once_granted_to_the_arn_the_credentials_stand_for(
    tmp_path: Path,
) -> None:
    arn = "arn:aws:iam::123456789012:role/AppRole"  # as a team's migration names it
    process = _serve(
        tmp_path,
        "--arn",
        arn,
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
    )
    assert process.stdout is not None
    uri, host = process.stdout.readline().strip(), ""
    try:
        host = urlsplit(uri).hostname or ""
        region = host.split(".")[2]
        with psycopg.connect(uri, password=_token(host, region), autocommit=True) as admin:
            admin.execute("CREATE ROLE app WITH LOGIN")
            admin.execute(f"AWS IAM GRANT app TO '{arn}'")
        client = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
        ).client("dsql", region_name=region)
        token = client.generate_db_connect_auth_token(Hostname=host, Region=region)
        with psycopg.connect(uri.replace("admin@", "app@"), password=token) as app:
            assert app.execute("SELECT current_user").fetchone() == ("app",)
    finally:
        process.kill()
        process.communicate(timeout=60)


def test_an_arn_that_is_not_an_iam_principals_is_one_line(tmp_path: Path) -> None:
    process = _serve(tmp_path, "--arn", "arn:aws:s3:::bucket", AWS_ACCESS_KEY_ID=ACCESS_KEY)
    out, err = process.communicate(timeout=120)
    assert (process.returncode, out) == (2, "")
    assert "is not an IAM role or user ARN" in err
    assert "Traceback" not in err


def test_without_aws_credentials_it_says_what_to_set(tmp_path: Path) -> None:
    process = _serve(tmp_path)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert out == ""
    assert err.startswith("cutover: error: no AWS credentials found for the local DSQL")
    assert len(err.strip().splitlines()) == 1
