"""A run's SIGINT and SIGTERM: both stop the run the way Ctrl-C does, once, and reach its
xdist workers.

:mod:`harness.embedded.interrupts` makes SIGTERM unwind a process while it owns a server; a
verification run needs that for its whole length, servers or not. With the trap in place,
SIGTERM raises KeyboardInterrupt, as SIGINT (Ctrl-C) does: pytest stops, fixtures and the
run's resources stop every server they started, and the record is written as incomplete,
instead of the process dying with its servers running and nothing written.

Once: a second SIGINT or SIGTERM is dropped (:func:`harness.embedded.interrupts.interrupt`),
so it cannot cut the first one's cleanup short. The controller passes the first on to its
xdist workers as SIGTERM (a worker started in the background ignores SIGINT), so their servers
stop at once too. A signal the process was started ignoring stays ignored. While the report
folder is being written (:meth:`SignalTrap.held`) a signal is dropped: every item has run or
stopped by then, and the folder is written whole.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

from harness.embedded import interrupts

if TYPE_CHECKING:
    import pytest

__all__ = ["SignalTrap", "stop_reason"]


class SignalTrap:
    """One process's SIGINT and SIGTERM handlers for a run (see the module docstring)."""

    def __init__(self) -> None:
        self._previous: list[tuple[int, Any]] = []
        self._workers: list[subprocess.Popen[bytes]] = []
        """Controller: the xdist worker processes, which a signal to this one reaches too."""
        self._holding = False

    def install(self) -> None:
        """Put the trap in place of the default handlers (in the main thread; elsewhere no
        handler can be set, and none runs)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, ours in (
            (signal.SIGTERM, interrupts.takes_over),
            (signal.SIGINT, lambda handler: handler is signal.default_int_handler),
        ):
            previous = signal.getsignal(signum)
            if ours(previous):
                self._previous.append((signum, previous))
                signal.signal(signum, self._terminate)

    def pass_on_to(self, worker: subprocess.Popen[bytes]) -> None:
        """Send the first signal on to ``worker`` as well (an xdist worker process)."""
        self._workers.append(worker)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Drop signals for the block, then take them again: the run is writing its folder."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def restore(self) -> None:
        """Put back the handlers the trap replaced and forget the interruption."""
        for signum, previous in reversed(self._previous):
            signal.signal(signum, previous)
        self._previous.clear()
        interrupts.reset()

    def _terminate(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:  # the items have all run or stopped: let the folder be written whole
            return
        if interrupts.interrupted() is None:
            for worker in self._workers:
                with contextlib.suppress(OSError):
                    worker.send_signal(signal.SIGTERM)  # polls first: never a reused pid
        interrupts.interrupt(signum)


def stop_reason(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """Why a run stopped early, in one line: Ctrl-C, SIGTERM, ``pytest.exit``'s message, a
    collection error or an xdist worker that stopped."""
    text = str(getattr(excinfo.value, "msg", None) or excinfo.value).strip()
    if text:
        return text.splitlines()[0]
    # a bare KeyboardInterrupt: Python's own SIGINT handler (Ctrl-C)
    return "SIGINT" if excinfo.type is KeyboardInterrupt else excinfo.typename
