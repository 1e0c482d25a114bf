"""An application process started by cutover: its environment, its time limit, its end.

The process runs in a session of its own so that a command which forks (``npm test`` starts
a shell, which starts node) is stopped whole, children included, when its time is up. Its
output goes to a file, not a pipe (a chatty suite cannot block on a full pipe), and only its
last lines are kept, scrubbed of the side's password or token.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.app.sides import Pointed
from harness.errors import CheckError

_TAIL_LINES = 20
_STOP_GRACE_S = 5.0


def environment(pointed: Pointed, extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any inherited ``PG*`` or ``DATABASE_URL`` (an
    inherited ``PGHOSTADDR`` or ``PGSERVICE`` would point libpq elsewhere), then the plan's
    ``env``, then the side's."""
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"
    }
    return {**inherited, **extra, **pointed.env}


def gist(tail: str, lines: int = 3) -> str:
    """The last few meaningful lines of output, on one line: stack frames (``at …``) and
    blank lines left out, so an error's own message survives a long trace."""
    kept = [ln.strip() for ln in tail.splitlines() if ln.strip() and not _frame(ln)]
    return " | ".join(kept[-lines:])[-400:] or "(no output)"


def _frame(line: str) -> bool:
    text = line.strip()
    return text.startswith(("at ", 'File "')) or text in ("}", "{", "^")


@dataclass(frozen=True)
class Finished:
    """A command that ran to its end (or was stopped at its time limit)."""

    exit_code: int | None
    """None: stopped at the time limit."""
    tail: str
    """Its last lines of output (stdout and stderr together), scrubbed."""


class Started:
    """A long-running application process (a server), stopped by :meth:`stop`."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> None:
        # Held open for the process's life, closed by close().
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.popen = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            self._log.close()
            raise CheckError(
                f"cannot start '{' '.join(argv)}' in {cwd}: {exc.strerror or exc}"
            ) from None

    def tail(self, pointed: Pointed) -> str:
        self._log.seek(0)
        text = self._log.read().decode(errors="replace")
        return pointed.scrub("\n".join(text.splitlines()[-_TAIL_LINES:]))

    def stop(self) -> int | None:
        """SIGTERM to its whole process group, SIGKILL after a grace period."""
        if self.popen.poll() is None:
            _signal_group(self.popen, signal.SIGTERM)
            try:
                self.popen.wait(timeout=_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                _signal_group(self.popen, signal.SIGKILL)
                self.popen.wait()
        else:  # the leader ended: its children may not have
            _signal_group(self.popen, signal.SIGKILL)
        return self.popen.returncode

    def close(self) -> None:
        self.stop()
        self._log.close()


def run(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout_s: float, pointed: Pointed
) -> Finished:
    """Run a command to its end; at ``timeout_s`` its whole process group is killed."""
    if not cwd.is_dir():
        raise CheckError(f"cannot run '{' '.join(argv)}': {cwd} is not a folder")
    started = Started(argv, cwd=cwd, env=env)
    try:
        try:
            code: int | None = started.popen.wait(timeout=timeout_s)
            _signal_group(started.popen, signal.SIGKILL)  # what it left running, if anything
        except subprocess.TimeoutExpired:
            started.stop()
            code = None
        return Finished(code, started.tail(pointed))
    finally:
        started.close()


def _signal_group(popen: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(popen.pid, sig)
