"""No password, secret value or IAM token reaches a log line, an error, the run's output or any
report file — on the paths that succeed and on every path that fails."""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import re
import socket
import string
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from psycopg import sql

from harness.embedded.provision import PostgresCluster
from harness.endpoints.connectivity import check_connect, check_reader
from harness.endpoints.redact import dsn_secrets, redact_dsn, scrub
from harness.endpoints.resolve import connect_postgres, resolve
from harness.endpoints.settings import (
    AuroraEndpoint,
    ConnectSettings,
    DsqlEndpoint,
    PostgresEndpoint,
)
from harness.errors import HarnessError
from tests.aws_support import (
    APP_DB,
    APP_USER,
    DSQL_HOST,
    FROZEN,
    REGION,
    SCHEMA,
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


# -- DSN passwords: every printable character, every error path, every output -------------------

PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=6, max_size=32)
"""Passwords of printable ASCII: spaces, both quotes, ``@ : / % # \\`` and the rest."""
ADVERSARIAL = {
    "space": "Hello World42",
    "quotes": "Zq7@se:cr/et%2F#'\" Kx9",
    "backslash": '\\\'b@ck\\sl%41sh "q" :/?#[]',
    "punctuation": string.punctuation + " Aa9",
}
"""Fixed passwords for the end-to-end runs (each a few seconds): the issue's own and worse."""
BENIGN = "benign-PW-2f9c"
"""A password whose outputs are the background: words a drawn password may match by chance."""


def kv_quote(value: str) -> str:
    """libpq's single-quoted value: backslash and quote escaped with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def encode(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def dsn_forms(user: str, host: str, port: int, dbname: str) -> dict[str, Callable[[str], str]]:
    """One DSN per way to write a password in it: URI and key=value, encoded and raw."""
    uri = f"{host}:{port}/{dbname}"
    kv = f"host={host} port={port} user={user}"
    return {
        "uri-encoded": lambda pw: f"postgresql://{user}:{encode(pw)}@{uri}",
        "uri-raw": lambda pw: f"postgresql://{user}:{pw}@{uri}",
        "uri-query-encoded": lambda pw: f"postgresql://{user}@{uri}?password={encode(pw)}",
        "kv-quoted": lambda pw: f"{kv} password={kv_quote(pw)} dbname={dbname}",
        "kv-raw": lambda pw: f"{kv} password={pw} dbname={dbname}",
    }


FORMS = dsn_forms("app", "db.internal", 5432, "shop")
CONNECTABLE = ("uri-encoded", "uri-query-encoded", "kv-quoted")
"""The forms libpq reads back as exactly the password (the raw ones are refused or misread)."""


def spellings(password: str) -> set[str]:
    """The password as any output could hold it: raw, percent-encoded (either hex case, ``+``
    for space), inside libpq quotes, JSON- and HTML-escaped. Written out here, not taken from
    harness.endpoints.redact, so the test does not share the code it checks."""
    encoded = urllib.parse.quote(password, safe="")
    return {
        password,
        encoded,
        encoded.lower(),
        urllib.parse.quote_plus(password),
        urllib.parse.quote(password, safe="!$&'()*+,;=:~"),
        kv_quote(password)[1:-1],
        json.dumps(password)[1:-1],
        html.escape(password),
        html.escape(password, quote=False).replace("'", "&#39;").replace('"', "&#34;"),
    }


def fragments(password: str) -> set[str]:
    """The runs of at least six characters between its spaces and quotes: what a redaction
    that stops at a space or a quote would leave showing."""
    return {run for run in re.split(r"[\s'\"]+", password) if len(run) >= 6}


def leaks(password: str, texts: dict[str, str], *, background: str = "") -> list[str]:
    """Where (``texts`` key) a spelling or a fragment of ``password`` appears; those the
    background (the fixed words around it) holds by chance are not counted."""
    found = []
    for spelling in spellings(password) | fragments(password):
        if spelling in background:
            continue
        found += [f"{where}: {spelling!r}" for where, text in texts.items() if spelling in text]
    return found


@contextlib.contextmanager
def debug_logs() -> Iterator[list[logging.LogRecord]]:
    """Every log record of every logger, at DEBUG, while the block runs."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def log_texts(records: list[logging.LogRecord]) -> dict[str, str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return {
        f"log {i} ({r.name})": formatter.format(r) + json.dumps(getattr(r, "cutover", {}))
        for i, r in enumerate(records)
    }


def resolved_or_refused(dsn: str, origin: str) -> dict[str, str]:
    """Resolve a ``postgres`` target whose DSN comes from ``origin`` (the plan's ``dsn``, a
    ``dsn_env`` variable or CUTOVER_TARGET_DSN); what the run would show of it."""
    plan: dict[str, Any] = {"kind": "postgres"}
    env = {"CUTOVER_TARGET_DSN": None, "LEAK_TEST_DSN": None}
    if origin == "dsn":
        plan["dsn"] = dsn
    else:
        plan["dsn_env"] = "LEAK_TEST_DSN"
        env["LEAK_TEST_DSN" if origin == "dsn_env" else "CUTOVER_TARGET_DSN"] = dsn
    saved = {name: os.environ.get(name) for name in env}
    try:
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        with ExitStack() as resources:
            spec = PostgresEndpoint.model_validate(plan)
            connector = resolve(spec, "target", resources, connect=FAST)
        return {"display": connector.display, "connector": repr(connector)}
    except HarnessError as exc:
        return {"error": str(exc)}
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_FIXED_WORDS = " ".join(
    resolved_or_refused(dsn, "dsn").get("error", "")
    for dsn in ("postgresql://app:a b@db.internal:5432/shop", "host=db password=a b", "bogus=1")
)
"""The words of the refusals themselves (a password 'encode' is in 'percent-encode')."""


class TestDsnPasswordsAreNeverShown:
    """Redaction and validation over passwords drawn from every printable character."""

    @pytest.mark.parametrize("origin", ["dsn", "dsn_env", "CUTOVER_TARGET_DSN"])
    @pytest.mark.parametrize("form", FORMS)
    @settings(max_examples=60, deadline=None)
    @given(password=PRINTABLE)
    def test_resolving_redacting_and_scrubbing_never_show_it(
        self, form: str, origin: str, password: str
    ) -> None:
        def shown_for(pw: str) -> dict[str, str]:
            dsn = FORMS[form](pw)
            return {
                "redact_dsn": redact_dsn(dsn),
                "scrub": scrub(f'connection to "{dsn}" failed: FATAL: no such database'),
                "scrub with its secrets": scrub(f"could not use {dsn}", dsn_secrets(dsn)),
                **resolved_or_refused(dsn, origin),
            }

        background = " ".join(shown_for(BENIGN).values()) + _FIXED_WORDS
        assert leaks(password, shown_for(password), background=background) == []

    @pytest.mark.parametrize(
        ("dsn", "fragments"),
        [
            pytest.param(
                "postgresql://secretuser:Hello World42@127.0.0.1:55432/appdb",
                ("Hello", "World42"),
                id="uri-with-a-space",
            ),
            pytest.param("host=h password=Hello World42 dbname=x", ("World42",), id="kv-space"),
            pytest.param(
                "host=h password='Zq7@se:cr/et%2F#'\" Kx9' dbname=x",
                ("Zq7", "Kx9", "se:cr"),
                id="kv-misquoted",
            ),
            pytest.param(
                "postgresql://u:Zq7@se:cr/et%2F#'\" Kx9@host/db",
                ("Zq7", "se:cr", "Kx9"),
                id="uri-raw-at-quote-space",
            ),
        ],
    )
    def test_the_issues_partial_leaks_show_no_fragment(
        self, dsn: str, fragments: tuple[str, ...]
    ) -> None:
        shown = [
            redact_dsn(dsn),
            scrub(dsn),
            scrub(f"error at {dsn}: x"),
            resolved_or_refused(dsn, "dsn")["error"],
        ]
        assert [(f, s) for f in fragments for s in shown if f in s] == []

    @pytest.mark.parametrize(
        ("dsn", "says"),
        [
            pytest.param(
                "postgresql://secretuser:Hello World42@127.0.0.1:55432/appdb",
                "target: target.dsn: the password in "
                "postgresql://secretuser:***@127.0.0.1:55432/appdb holds a character a URI "
                "must percent-encode; percent-encode it as %40 for '@', %2F for '/', %20 for a "
                "space and %25 for '%' (or give the DSN as key=value with password='…')",
                id="uri-space",
            ),
            pytest.param(
                "host=h password=Hello World42 dbname=x",
                "target: target.dsn is not a valid PostgreSQL DSN (not shown: it may hold a "
                "password): it holds a word that is not key=value (single-quote a value with "
                "spaces or quotes, escaping inner ones with a backslash: password='it\\'s a b'); "
                "expected postgresql://USER@HOST:PORT/DBNAME or 'host=… dbname=… user=…'",
                id="kv-space",
            ),
            pytest.param(
                "host=h sslmod=require",
                "target: target.dsn is not a valid PostgreSQL DSN (not shown: it may hold a "
                'password): it holds an unknown option name (did you mean "sslmode"?); '
                "expected postgresql://USER@HOST:PORT/DBNAME or 'host=… dbname=… user=…'",
                id="typo",
            ),
            pytest.param(
                "host=h password='unterminated",
                "target: target.dsn is not a valid PostgreSQL DSN (not shown: it may hold a "
                "password): it holds a quoted value with no closing quote; "
                "expected postgresql://USER@HOST:PORT/DBNAME or 'host=… dbname=… user=…'",
                id="unterminated",
            ),
        ],
    )
    def test_a_refused_dsn_names_the_key_and_what_is_wrong(self, dsn: str, says: str) -> None:
        assert resolved_or_refused(dsn, "dsn") == {"error": says}

    def test_an_override_is_named_as_the_variable_it_came_from(self) -> None:
        error = resolved_or_refused("host=h password=a b", "CUTOVER_TARGET_DSN")["error"]
        assert error.startswith("target: CUTOVER_TARGET_DSN is not a valid PostgreSQL DSN")
        error = resolved_or_refused("host=h password=a b", "dsn_env")["error"]
        assert error.startswith("target: LEAK_TEST_DSN is not a valid PostgreSQL DSN")


@pytest.fixture
def leak_role(pg_password_cluster: tuple[PostgresCluster, str]) -> Iterator[Any]:
    """A login role of its own in the password cluster; call it to set its password."""
    cluster, _ = pg_password_cluster
    role = f"leak_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(cluster.conninfo("postgres"), autocommit=True)
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))

    class Role:
        name = role
        port = cluster.port
        admin_dsn = cluster.conninfo("postgres")

        def set_password(self, password: str) -> None:
            admin.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )

        def database(self) -> str:
            """A database of its own holding the users of ``sqlite_source``."""
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(role), sql.Identifier(role)
                )
            )
            with psycopg.connect(cluster.conninfo(role), autocommit=True) as conn:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
                conn.execute(SCHEMA)  # type: ignore[arg-type]
            return role

    yield Role()
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(role)))
    admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    admin.close()


def _connected(dsn: str) -> dict[str, str]:
    """Resolve and connect (the connectivity check's way); what that shows."""
    with ExitStack() as resources:
        spec = PostgresEndpoint.model_validate({"kind": "postgres", "dsn": dsn})
        connector = resolve(spec, "target", resources, connect=FAST)
        return {"check": json.dumps(check_connect(connector, budget_s=30).to_dict(), default=str)}


class TestConnectAndAuthenticate:
    """The connect and authenticate paths, in process against a real PostgreSQL, with every
    logger at DEBUG (psycopg's included)."""

    @pytest.mark.parametrize("form", CONNECTABLE)
    @settings(
        max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(password=PRINTABLE)
    def test_refused_and_wrong_passwords_are_never_shown(
        self, leak_role: Any, form: str, password: str
    ) -> None:
        leak_role.set_password("the-right-one-" + uuid.uuid4().hex)
        wrong = dsn_forms(leak_role.name, "127.0.0.1", leak_role.port, "postgres")[form]
        refused = dsn_forms(leak_role.name, "127.0.0.1", _closed_port(), "postgres")[form]

        def shown_for(pw: str) -> dict[str, str]:
            with debug_logs() as records:
                shown = {
                    "wrong password": _outputs(lambda: _connected(wrong(pw)))[0],
                    "refused": _outputs(lambda: _connected(refused(pw)))[0],
                }
            return {**shown, **log_texts(records)}

        shown = shown_for(password)
        assert "wrong user name or password" in shown["wrong password"]
        assert "nothing listens there" in shown["refused"]
        background = " ".join(shown_for(BENIGN).values())  # the same run's own words
        assert leaks(password, shown, background=background) == []

    @pytest.mark.parametrize("form", CONNECTABLE)
    @settings(
        max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(password=PRINTABLE)
    def test_the_right_password_connects_and_is_never_shown(
        self, leak_role: Any, form: str, password: str
    ) -> None:
        dsn = dsn_forms(leak_role.name, "127.0.0.1", leak_role.port, "postgres")[form]

        def shown_for(pw: str) -> dict[str, str]:
            leak_role.set_password(pw)
            with debug_logs() as records:
                shown = _connected(dsn(pw))
            return {**shown, **log_texts(records)}

        shown = shown_for(password)
        assert '"status": "pass"' in shown["check"]
        background = " ".join(shown_for(BENIGN).values())  # the same run's own words
        assert leaks(password, shown, background=background) == []


# -- end to end: `cutover verify` runs, every output of each -----------------------------------

MIDRUN_PLUGIN = '''"""A mid-run failure (tests only): before the first row comparison, the target
role's password changes and its sessions end, so the comparison's reconnect is refused."""
import os

import psycopg
from psycopg import sql

_done = []


def pytest_runtest_setup(item):
    if _done or "test_rows" not in item.nodeid:
        return
    _done.append(item.nodeid)
    role = sql.Identifier(os.environ["LEAK_ROLE"])
    with psycopg.connect(os.environ["LEAK_ADMIN_DSN"], autocommit=True) as conn:
        new = sql.Literal(os.environ["LEAK_NEW_PASSWORD"])
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, new))
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
            (os.environ["LEAK_ROLE"],),
        )
'''
E2E_FRAGMENTS = ("World42", "Kx9", "se:cr/et", "b@ck", "sl%41sh", "<=>?@[")
"""Pieces of the fixed passwords a redaction that stops at a space or a quote would leave."""


def verify_run(folder: Path, target: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """`cutover verify` on a SQLite source and ``target``, every logger at DEBUG into a file;
    its exit code and every text it produced: terminal, log, each file of the report folder."""
    sqlite_source(folder)
    plan = {"name": "leak", "source": {"kind": "sqlite", "path": "source.db"}, "target": target}
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    (folder / "leak_midrun.py").write_text(MIDRUN_PLUGIN, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PG", "CUTOVER_"))}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, (str(folder), clean.get("PYTHONPATH"))))
    log = folder / "debug.log"
    pytest_args = ["--log-file", str(log), "--log-file-level", "DEBUG"]
    if "LEAK_ROLE" in env:
        pytest_args += ["-p", "leak_midrun"]
    done = subprocess.run(
        [
            *(sys.executable, "-m", "harness.cli", "verify", "--plan", str(folder / "plan.yaml")),
            *("--report-dir", str(folder / "out"), "--", *pytest_args),
        ],
        cwd=folder,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    texts = {"stdout": done.stdout, "stderr": done.stderr, "debug log": log.read_text("utf-8")}
    if (folder / "out").exists():
        written = report_texts(folder / "out")
        texts.update({str(Path(name).relative_to(folder)): text for name, text in written.items()})
    return {"code": done.returncode, "texts": texts}


def dsn_to(role: Any, form: str, password: str, *, port: int | None = None) -> str:
    return dsn_forms(role.name, "127.0.0.1", port or role.port, role.name)[form](password)


E2E_CASES = {
    "parse/uri-space/dsn": (2, "target.dsn: the password in postgresql://"),
    "parse/kv-space/dsn_env": (2, "LEAK_DSN is not a valid PostgreSQL DSN"),
    "parse/kv-misquoted/override": (2, "CUTOVER_TARGET_DSN is not a valid PostgreSQL DSN"),
    "connect/refused/kv-quoted": (2, "nothing listens there"),
    "authenticate/wrong/uri-encoded": (2, "wrong user name or password"),
    "mid-run/lost/kv-quoted": (1, "wrong user name or password"),
}
"""path/what/DSN form or origin → the run's exit code and what its error line (or, for the
mid-run failure, results.json) says: proof the path was taken."""


@pytest.mark.slow
class TestVerifyRunsShowNoPassword:
    """Each error path once, end to end, with the fixed adversarial passwords."""

    @pytest.mark.parametrize("case", E2E_CASES)
    def test_no_password_in_terminal_debug_log_or_report_files(
        self, leak_role: Any, tmp_path: Path, case: str
    ) -> None:
        exit_code, says = E2E_CASES[case]
        right = "right-" + uuid.uuid4().hex
        leak_role.set_password(right)
        env: dict[str, str] = {}
        target: dict[str, Any] = {"kind": "postgres", "dsn": "host=/nowhere"}
        path, what, how = case.split("/")
        if what == "uri-space":
            target["dsn"] = dsn_to(leak_role, "uri-raw", ADVERSARIAL["space"])
        elif what == "kv-space":
            target = {"kind": "postgres", "dsn_env": "LEAK_DSN"}
            env["LEAK_DSN"] = dsn_to(leak_role, "kv-raw", ADVERSARIAL["space"])
        elif what == "kv-misquoted":  # the issue's: an inner quote left unescaped
            env["CUTOVER_TARGET_DSN"] = f"host=127.0.0.1 password='{ADVERSARIAL['quotes']}'"
        elif path == "connect":
            target["dsn"] = dsn_to(leak_role, how, ADVERSARIAL["backslash"], port=_closed_port())
        elif path == "authenticate":
            target["dsn"] = dsn_to(leak_role, how, ADVERSARIAL["punctuation"])
        else:  # connects with the right password, then loses it before the row comparison
            leak_role.set_password(ADVERSARIAL["backslash"])
            leak_role.database()
            target["dsn"] = dsn_to(leak_role, how, ADVERSARIAL["backslash"])
            env.update(
                LEAK_ROLE=leak_role.name,
                LEAK_ADMIN_DSN=leak_role.admin_dsn,
                LEAK_NEW_PASSWORD=ADVERSARIAL["punctuation"],
            )

        run = verify_run(tmp_path, target, env)

        texts: dict[str, str] = run["texts"]
        everything = "\n".join(texts.values())
        assert run["code"] == exit_code, texts["stdout"] + texts["stderr"]
        assert says in (texts["stderr"] if exit_code == 2 else texts["out/results.json"])
        if path != "parse":  # every connect attempt is a DEBUG record
            assert "endpoint=target attempt=1" in texts["debug log"]
        for password in (*ADVERSARIAL.values(), right):
            assert leaks(password, texts) == []
        assert [f for f in E2E_FRAGMENTS if f in everything] == []
