"""No password, secret value or IAM token reaches a log line, an error, the run's output or any
report file — on the paths that succeed and on every path that fails."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from harness.endpoints.connectivity import check_connect, check_reader
from harness.endpoints.resolve import connect_postgres, resolve
from harness.endpoints.settings import AuroraEndpoint, ConnectSettings, DsqlEndpoint
from harness.errors import HarnessError
from tests.aws_support import (
    APP_DB,
    APP_USER,
    DSQL_HOST,
    FROZEN,
    REGION,
    SECRET_KEY,
    StandIn,
    aws_env,
    dsql_token,
    frozen_clock,
    moto_server,
    report_texts,
    run_verify,
    sqlite_source,
    standin,
)

__all__ = ["aws_env", "moto_server", "standin"]  # fixtures used by name below

WRONG = "wrong-Pa55word-that-must-not-leak"
FAST = ConnectSettings.model_validate({"retry": {"initial_s": 0.01, "cap_s": 0.02, "attempts": 2}})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _outputs(run: Callable[[], Any]) -> list[str]:
    """Run one path; return what it produced: a result's text or the error's line."""
    try:
        value = run()
    except HarnessError as exc:
        return [str(exc), repr(exc)]
    if hasattr(value, "to_dict"):
        return [json.dumps(value.to_dict(), default=str), repr(value)]
    return [repr(value)]


def test_no_secret_reaches_logs_errors_or_results_in_process(
    aws_env: None,
    standin: StandIn,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    frozen_clock(monkeypatch)
    token = dsql_token(admin=True)
    standin.set_password("admin", token)
    good = {"username": APP_USER, "password": standin.app_password, "dbname": APP_DB}
    secrets = {
        "good": json.dumps(good),
        "wrong": json.dumps({**good, "password": WRONG}),
        "bad-json": '{"username": "x", "password": "' + WRONG + '",}',
        "url": f"postgresql://{APP_USER}:{standin.app_password}@127.0.0.1:{standin.tls_port}/x",
    }
    produced: list[str] = []

    def aurora(secret: str, **fields: Any) -> AuroraEndpoint:
        return AuroraEndpoint.model_validate(
            {"kind": "aurora", "secret": secret, "region": REGION, **fields}
        )

    def resolved(spec: AuroraEndpoint | DsqlEndpoint) -> Any:
        with ExitStack() as resources:
            return resolve(spec, "target", resources, connect=FAST)

    tls = {"host": "127.0.0.1", "port": standin.tls_port}
    dsql = DsqlEndpoint.model_validate(
        {"kind": "dsql", "endpoint": DSQL_HOST, "hostaddr": "127.0.0.1", "port": standin.tls_port}
    )
    paths: list[Callable[[], Any]] = [
        lambda: check_connect(
            resolved(aurora("good", **tls, reader_host="localhost")), budget_s=30
        ),
        lambda: check_reader(resolved(aurora("good", **tls, reader_host="localhost"))),
        lambda: check_connect(resolved(aurora("url")), budget_s=30),
        lambda: connect_postgres(resolved(aurora("wrong", **tls))),
        lambda: connect_postgres(resolved(aurora("good", host="127.0.0.1", port=_closed_port()))),
        lambda: connect_postgres(
            resolved(aurora("good", host="127.0.0.1", port=standin.plain_port))
        ),
        lambda: connect_postgres(resolved(aurora("good", host="nowhere.invalid"))),
        lambda: resolved(aurora("bad-json", **tls)),
        lambda: resolved(aurora("missing", **tls)),
        lambda: check_connect(resolved(dsql), budget_s=30),
    ]
    # Every logger at DEBUG, botocore's too: its DEBUG lines carry response bodies and
    # signatures, which harness.endpoints.aws masks.
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        for name, value in secrets.items():  # the test's own setup: not captured
            client.create_secret(Name=name, SecretString=value)
        with caplog.at_level(logging.DEBUG):
            for path in paths:
                produced += _outputs(path)
            # A token signed later is refused: that error must not echo the token either.
            frozen_clock(monkeypatch, FROZEN.replace(minute=FROZEN.minute + 1))
            produced += _outputs(lambda: connect_postgres(resolved(dsql)))
    produced += [record.getMessage() for record in caplog.records]
    produced += [json.dumps(getattr(r, "cutover", {})) for r in caplog.records]
    produced.append(caplog.text)

    attempts = [r for r in caplog.records if r.name == "cutover.retry"]
    assert len(attempts) >= len(paths)  # the attempts really were logged
    assert any(r.name == "botocore.parsers" for r in caplog.records)  # and botocore's bodies
    values = (standin.app_password, standin.admin_password, WRONG, token, SECRET_KEY)
    leaks = [(value[:6] + "…", text) for text in produced for value in values if value in text]
    assert leaks == []
    signature = token.rsplit("X-Amz-Signature=", 1)[1]
    assert not any(signature in text for text in produced)


@pytest.mark.slow
def test_no_secret_reaches_the_output_or_report_of_a_verify_run(
    aws_env: None,
    moto_server: str,
    standin: StandIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen_clock(monkeypatch)
    token = dsql_token(admin=True)
    standin.set_password("admin", token)
    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_server)
    good = {"username": APP_USER, "password": standin.app_password, "dbname": APP_DB}
    client.create_secret(Name=f"leak-good-{tmp_path.name}", SecretString=json.dumps(good))
    client.create_secret(
        Name=f"leak-bad-{tmp_path.name}", SecretString=json.dumps({**good, "password": WRONG})
    )
    targets = {
        "aurora-go": {
            "kind": "aurora",
            "secret": f"leak-good-{tmp_path.name}",
            "host": "127.0.0.1",
            "reader_host": "localhost",
            "port": standin.tls_port,
        },
        "aurora-wrong": {
            "kind": "aurora",
            "secret": f"leak-bad-{tmp_path.name}",
            "host": "127.0.0.1",
            "port": standin.tls_port,
        },
        "dsql": {
            "kind": "dsql",
            "endpoint": DSQL_HOST,
            "hostaddr": "127.0.0.1",
            "port": standin.tls_port,
        },
    }
    produced: dict[str, str] = {}
    codes = {}
    for name, target in targets.items():
        folder = tmp_path / name
        folder.mkdir()
        sqlite_source(folder)
        plan = {
            "name": name,
            "source": {"kind": "sqlite", "path": "source.db"},
            "target": {**target, "region": REGION} if target["kind"] == "aurora" else target,
        }
        (folder / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
        run = run_verify(
            folder / "plan.yaml",
            folder,
            env={"AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_server},
            freeze=True,
        )
        codes[name] = run.returncode
        produced[f"{name}: stdout"] = run.stdout
        produced[f"{name}: stderr"] = run.stderr
        produced.update(report_texts(folder / "out") if (folder / "out").exists() else {})

    assert codes["aurora-wrong"] == 2
    assert codes["dsql"] in (0, 1), produced["dsql: stdout"]  # connected with the token
    assert codes["aurora-go"] in (0, 1)  # 1 only if a non-connectivity check disagrees
    assert any("connectivity" in text for key, text in produced.items() if "aurora-go" in key)
    values = (standin.app_password, standin.admin_password, WRONG, token, SECRET_KEY)
    leaks = [
        (where, value[:6] + "…")
        for where, text in produced.items()
        for value in values
        if value in text
    ]
    assert leaks == []
