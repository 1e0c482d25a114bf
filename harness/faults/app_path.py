"""The application's own connection path, run under a fault: a Python callable or a command.

The plan names it (``faults.app``): ``callable: module:function`` returns a DB-API connection,
or ``command:`` is any shell command (a Node or Go backend's connect script as much as a
Python one). Either runs with the environment an app has in production, pointed at the fault
proxy and the moto server instead: ``PGHOST``/``PGPORT``/``PGUSER``/``PGPASSWORD``/
``PGDATABASE``, ``DATABASE_URL``, ``AWS_ENDPOINT_URL``, ``AWS_REGION``, dummy AWS keys and
``CUTOVER_SECRET_ID``. The harness does not retry for the app: whether the app survives the
fault is what is being measured. Output is kept only after every known secret is removed.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness.endpoints.redact import scrub
from harness.faults.settings import AppPath

__all__ = ["AppRun", "app_environment", "run_app"]

_OUTPUT_TAIL = 600  # characters of output kept as evidence
_ENV_LOCK = threading.Lock()  # os.environ is process-global: one callable at a time


@dataclass(frozen=True)
class AppRun:
    """What the app did under the fault."""

    ok: bool
    seconds: float
    message: str
    """One line: how it ended (scrubbed)."""
    exit_code: int | None = None
    output: str = ""
    """The end of its stdout and stderr (scrubbed)."""


def app_environment(
    *,
    host: str,
    port: int,
    user: str,
    password: str,
    dbname: str,
    aws_endpoint: str | None = None,
    region: str = "us-east-2",
    secret_id: str | None = None,
) -> dict[str, str]:
    """The variables an app reads to find its database and AWS, pointed at the fault bed."""
    env = {
        "PGHOST": host,
        "PGPORT": str(port),
        "PGUSER": user,
        "PGPASSWORD": password,
        "PGDATABASE": dbname,
        "PGCONNECT_TIMEOUT": "3",
        "DATABASE_URL": (
            f"postgresql://{quote(user)}:{quote(password, safe='')}@{host}:{port}/{quote(dbname)}"
        ),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    if aws_endpoint is not None:
        # moto accepts any keys; real ones must never reach a stand-in.
        env |= {
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }
    if secret_id is not None:
        env["CUTOVER_SECRET_ID"] = secret_id
    return env


def run_app(app: AppPath, env: Mapping[str, str], secrets: tuple[str, ...] = ()) -> AppRun:
    """Run the app's connect path once with ``env``; bounded by ``app.timeout_s``."""
    hidden = (*secrets, env.get("PGPASSWORD", ""), env.get("DATABASE_URL", ""))
    if app.command is not None:
        return _run_command(app.command, app, env, hidden)
    assert app.callable is not None
    return _run_callable(app.callable, app, env, hidden)


def _clean_base(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment without anything that would point the app elsewhere."""
    drop = ("PG", "AWS_", "CUTOVER_", "DATABASE_URL", "PYTEST_")
    return {k: v for k, v in (environ or os.environ).items() if not k.startswith(drop)}


def _run_command(
    command: str, app: AppPath, env: Mapping[str, str], secrets: tuple[str, ...]
) -> AppRun:
    start = time.monotonic()
    try:
        done = subprocess.run(
            command,
            shell=True,  # the plan author wrote this command to be run as a shell line
            cwd=app.cwd,
            env=_clean_base() | dict(env),
            capture_output=True,
            text=True,
            timeout=app.timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = _text(exc.stdout) + _text(exc.stderr)
        return AppRun(
            False,
            time.monotonic() - start,
            f"the app's command did not finish within {app.timeout_s:g} s",
            None,
            _tail(output, secrets),
        )
    except OSError as exc:
        return AppRun(False, time.monotonic() - start, f"cannot run the app's command: {exc}")
    seconds = time.monotonic() - start
    output = _tail(done.stdout + done.stderr, secrets)
    if done.returncode == 0:
        return AppRun(True, seconds, "connected (exit 0)", 0, output)
    last = next((ln for ln in reversed(output.splitlines()) if ln.strip()), "")
    return AppRun(
        False, seconds, f"exit {done.returncode}: {last}".strip(), done.returncode, output
    )


def _run_callable(
    target: str, app: AppPath, env: Mapping[str, str], secrets: tuple[str, ...]
) -> AppRun:
    start = time.monotonic()
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            with _environment(env), _importable(app.cwd):
                module_name, _, function = target.partition(":")
                func = getattr(importlib.import_module(module_name.strip()), function.strip())
                conn = func()
                try:
                    _select_one(conn)
                finally:
                    with contextlib.suppress(Exception):
                        conn.close()
            outcome["ok"] = True
        except Exception as exc:  # the app's failure is the measurement, not our crash
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=call, name="cutover-app-callable", daemon=True)
    thread.start()
    thread.join(app.timeout_s)
    seconds = time.monotonic() - start
    if thread.is_alive():
        return AppRun(False, seconds, f"{target} did not return within {app.timeout_s:g} s")
    if outcome.get("ok"):
        return AppRun(True, seconds, f"{target} returned a working connection")
    message = _tail(str(outcome.get("error", "failed")), secrets).splitlines()
    return AppRun(False, seconds, message[0] if message else "failed")


def _select_one(conn: Any) -> None:
    if hasattr(conn, "execute"):
        conn.execute("SELECT 1").fetchone()
        return
    cursor = conn.cursor()
    try:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    finally:
        cursor.close()


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    with _ENV_LOCK:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(_clean_base(saved) | dict(env))
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


@contextlib.contextmanager
def _importable(folder: Path | None) -> Iterator[None]:
    """Let ``module:function`` resolve against the app's folder (the plan's ``cwd``)."""
    if folder is None:
        yield
        return
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _tail(text: str, secrets: tuple[str, ...]) -> str:
    return scrub(text, [s for s in secrets if s])[-_OUTPUT_TAIL:].strip()
