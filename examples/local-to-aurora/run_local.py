"""Run plan.yaml on this machine, no AWS account: the old local database and the Aurora
cluster are embedded PostgreSQL 16 stand-ins, Secrets Manager is a moto server.

    python run_local.py                    # exit 0: verdict GO
    python run_local.py --stale-secret     # exit 2: the secret's password is out of date

The Aurora stand-in demands a password (SCRAM) and speaks TLS (a self-signed certificate), so
the run exercises what a real cluster does: read the secret, connect with sslmode=require,
authenticate. The script exits with `cutover verify`'s own exit code.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import psycopg
from moto.server import ThreadedMotoServer
from psycopg import sql

from harness.embedded.provision import PostgresCluster

HERE = Path(__file__).resolve().parent
SECRET_ID = "rds!cluster-d1aab255-8b30-49d0-a107-f2cc5e0c5cc6"
REGION = "us-east-2"
DATABASE = "skillinDB"
APP_USER = "skillin_app"


def load(cluster: PostgresCluster) -> None:
    cluster.create_database(DATABASE)
    for script in ("schema.sql", "seed.sql"):
        cluster.run_sql_file(HERE / "db" / script, dbname=DATABASE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-dir", type=Path, default=HERE / "out")
    parser.add_argument(
        "--stale-secret", action="store_true", help="store an outdated password in the secret"
    )
    parser.add_argument("-n", dest="workers", default="0", help="pytest-xdist workers")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log

    app_password = secrets.token_urlsafe(18)
    with (
        PostgresCluster(tcp=True, password=secrets.token_urlsafe(18)) as local,
        PostgresCluster(tcp=True, password=secrets.token_urlsafe(18), tls=True) as aurora,
    ):
        load(local)
        load(aurora)
        with psycopg.connect(aurora.conninfo(DATABASE), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(APP_USER), sql.Literal(app_password)
                )
            )
            conn.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
                    sql.Identifier(APP_USER)
                )
            )

        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        moto.start()
        try:
            host, port = moto.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CUTOVER_"))}
            env.update(
                AWS_ACCESS_KEY_ID="testing",  # moto accepts any static key
                AWS_SECRET_ACCESS_KEY="testing",
                AWS_CONFIG_FILE=os.devnull,
                AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                AWS_ENDPOINT_URL_SECRETS_MANAGER=endpoint,
                SKILLIN_LOCAL_DSN=local.conninfo(DATABASE),
            )
            client = boto3.client(
                "secretsmanager",
                region_name=REGION,
                endpoint_url=endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            client.create_secret(
                Name=SECRET_ID,
                SecretString=json.dumps(
                    {
                        "engine": "postgres",
                        "host": "127.0.0.1",
                        "port": aurora.tls_port,
                        "dbname": DATABASE,
                        "username": APP_USER,
                        "password": "rotated-away" if args.stale_secret else app_password,
                    }
                ),
            )
            command = [sys.executable, "-m", "harness.cli", "verify"]
            command += ["--plan", str(HERE / "plan.yaml"), "--report-dir", str(args.report_dir)]
            command += ["-n", args.workers]
            return subprocess.run(command, env=env, check=False).returncode
        finally:
            moto.stop()


if __name__ == "__main__":
    sys.exit(main())
