"""The ``dsql_local`` fixture as a team uses it: a test file of their own, run by pytest with
cutover installed, signing tokens with boto3 exactly as their code does for a real cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.aws_support import ACCESS_KEY, SECRET_KEY, without_aws

pytestmark = pytest.mark.slow

TEAM_TEST = """
import boto3
import psycopg


def token(cluster):
    client = boto3.client("dsql", region_name=cluster.region)
    return client.generate_db_connect_admin_auth_token(cluster.endpoint, cluster.region)


def test_the_app_meets_dsql(dsql_local):
    with psycopg.connect(dsql_local.conninfo(password=token(dsql_local)), autocommit=True) as c:
        c.execute("CREATE TABLE signups (id uuid PRIMARY KEY, email text)")
        c.execute("INSERT INTO signups VALUES (gen_random_uuid(), 'ada@example.com')")
        assert c.execute("SELECT count(*) FROM signups").fetchone() == (1,)
        try:
            c.execute("CREATE TABLE s2 (id serial PRIMARY KEY)")
        except psycopg.Error as exc:
            assert exc.sqlstate == "42704"
        else:
            raise AssertionError("serial accepted")


def test_the_same_cluster_serves_the_session(dsql_local):
    with psycopg.connect(dsql_local.conninfo(password=token(dsql_local))) as c:
        assert c.execute("SELECT count(*) FROM signups").fetchone() == (1,)
"""


def _run(folder: Path, **keys: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_team.py").write_text(TEAM_TEST, encoding="utf-8")
    env = without_aws(folder, **keys)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("credentials", ["none", "the sessions own"])
def test_a_teams_suite_gets_a_local_dsql(tmp_path: Path, credentials: str) -> None:
    keys = {}
    if credentials != "none":
        keys = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    run = _run(tmp_path, **keys)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
