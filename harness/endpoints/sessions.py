"""A run's read-only sessions on its sides: opened together, each side's outcome kept apart.

Opening a side over a link to Aurora or DSQL is several round trips (TCP, TLS, the login, an
IAM token or a Secrets Manager read, the schema check). So the first time a run with two sides
asks for either, the other side starts opening in a thread of its own while the caller opens
the one it asked for: the two opens overlap instead of following each other. psycopg and
SQLite connections (opened with ``check_same_thread=False``) are independent, so the one
opened in a thread is used from the main thread afterwards.

Each side keeps its own outcome, the :class:`~harness.db.database.Database` or the error its
open raised, and a caller gets only the side it asked for: a source that cannot be reached
fails what needs the source, every time with the one-line error its open raised, while what
needs the target alone waits for the target alone.

The caller's own side opens in the caller's thread, so Ctrl-C or SIGTERM while it connects
unwinds as it always did (signals reach the main thread only). The other side's thread is a
daemon: an interrupted run never waits at exit for a connect it no longer needs, and a side
that arrives after :meth:`Sessions.close` is closed as it arrives.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple

from harness.endpoints.resolve import Connector, open_database

if TYPE_CHECKING:
    from harness.db.database import Database

__all__ = ["Sessions"]


class _Failed(NamedTuple):
    """A side whose open raised: the error, and the traceback it was raised with (each ask
    raises it from there again, instead of growing one traceback item after item)."""

    error: Exception
    traceback: TracebackType | None


class Sessions:
    """The run's sessions, one per side in ``connectors``, opened on first use and closed
    when ``resources`` closes (before whatever resolving put there: servers, relays).

    Asked from the run's own thread, as pytest runs items; the threads it starts only open
    sessions and hand them over."""

    def __init__(self, connectors: Mapping[str, Connector], resources: ExitStack) -> None:
        self._connectors = connectors
        """The run's own mapping: the controller fills it in after this is made."""
        self._resources = resources
        self._opened: dict[str, Future[Database | _Failed]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def database(self, role: str) -> Database:
        """The session on ``role``, opening it (and every other side, alongside) on first use;
        a side whose open failed raises that same error each time it is asked for."""
        if role not in self._opened:
            self._start(role)
        outcome = self._opened[role].result()  # waits for this side only
        if isinstance(outcome, _Failed):
            raise outcome.error.with_traceback(outcome.traceback)
        return outcome

    def _start(self, role: str) -> None:
        connector = self._connectors[role]  # a side the run does not have: KeyError, as ever
        if not self._opened:
            self._resources.callback(self.close)
        for other, its in self._connectors.items():
            if other != role and other not in self._opened:
                self._opened[other] = Future()
                thread = threading.Thread(
                    target=self._open, args=(its, self._opened[other]), name=f"open-{other}"
                )
                thread.daemon = True
                thread.start()
        mine: Future[Database | _Failed] = Future()
        self._open(connector, mine)  # in this thread: an interruption unwinds it as before
        self._opened[role] = mine

    def _open(self, connector: Connector, into: Future[Database | _Failed]) -> None:
        try:
            db = open_database(connector)
        except Exception as exc:  # the side's outcome: raised to whoever asks for this side
            into.set_result(_Failed(exc, exc.__traceback__))
            return
        with self._lock:
            into.set_result(db)
            late = self._closed
        if late:  # it arrived after the run closed its sessions
            db.close()

    def close(self) -> None:
        """Close every side that opened; one still opening is closed when it arrives."""
        with self._lock:
            self._closed = True
            ready = [f.result() for f in self._opened.values() if f.done()]
        for outcome in ready:
            if not isinstance(outcome, _Failed):
                outcome.close()
