"""node-postgres against the local DSQL: the driver a Node backend uses, over TLS with an IAM
token, its parameterised queries (the extended protocol) and DSQL's refusals as it sees them.

Needs Node and npm's ``pg`` package: the one examples/node-app already installed (``npm ci``
there, as .ci/run does), else installed into a temporary folder once per worker; the tests skip
cleanly where either is missing (.ci/run installs Debian's nodejs where it can).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.dsql_local import DsqlLocal
from harness.dsql_local.tokens import SigningIdentity

pytestmark = pytest.mark.slow

SCRIPT = r"""
const { Client } = require('pg');
const fs = require('fs');
(async () => {
  const out = {};
  const connect = async (password) => {
    const client = new Client({
      host: '127.0.0.1', port: Number(process.env.PORT), user: 'admin', database: 'postgres',
      password, ssl: { ca: fs.readFileSync(process.env.CA), servername: process.env.ENDPOINT },
    });
    await client.connect();
    return client;
  };
  const client = await connect(process.env.TOKEN);
  out.tls = client.connection.stream.encrypted === true;
  out.sum = (await client.query('SELECT $1::int + $2::int AS n', [40, 2])).rows[0].n;
  try { await client.query('SET statement_timeout = 0'); out.set = 'accepted'; }
  catch (e) { out.set = e.code; }
  await client.query('BEGIN');
  await client.query('CREATE TABLE node_t (id int PRIMARY KEY)');
  try {
    await client.query('CREATE TABLE node_u (id int PRIMARY KEY)');
    out.second_ddl = 'accepted';
  } catch (e) { out.second_ddl = e.code; }
  await client.query('ROLLBACK');
  await client.end();
  try { await connect('not-a-token'); out.bad_token = 'accepted'; }
  catch (e) { out.bad_token = e.message; }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"""


# The Node example's own node_modules (pg 8, from its lock file): linked, never written, it
# spares a registry download of the same driver on every run.
EXAMPLE_MODULES = Path(__file__).resolve().parents[1] / "examples" / "node-app" / "node_modules"


@pytest.fixture(scope="module")
def node_pg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None:
        pytest.skip("needs Node")
    folder = tmp_path_factory.mktemp("node-pg")
    (folder / "check.js").write_text(SCRIPT, encoding="utf-8")
    if _major(EXAMPLE_MODULES / "pg" / "package.json") == "8":
        (folder / "node_modules").symlink_to(EXAMPLE_MODULES)
        return folder
    if shutil.which("npm") is None:
        pytest.skip("needs npm (or npm ci in examples/node-app)")
    install = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "pg@8"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if install.returncode != 0:
        pytest.skip(f"npm could not install pg: {install.stderr.strip()[:200]}")
    return folder


def _major(package_json: Path) -> str | None:
    """The major version of an installed npm package, or None where it is not installed."""
    if not package_json.is_file():
        return None
    version: str = json.loads(package_json.read_text(encoding="utf-8"))["version"]
    return version.split(".")[0]


@pytest.fixture(scope="module")
def dsql() -> Iterator[DsqlLocal]:
    with DsqlLocal(identity=SigningIdentity("AKIDNODETEST", "node-test-secret")) as local:
        yield local


def test_node_postgres_meets_dsqls_rules(node_pg: Path, dsql: DsqlLocal) -> None:
    env = {
        **os.environ,
        "PORT": str(dsql.port),
        "CA": str(dsql.ca_file),
        "ENDPOINT": dsql.endpoint,
        "TOKEN": dsql.token("admin"),
    }
    run = subprocess.run(
        ["node", "check.js"],
        cwd=node_pg,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen == {
        "tls": True,
        "sum": 42,
        "set": "0A000",
        "second_ddl": "0A000",
        "bad_token": "unable to accept connection, access denied",
    }
