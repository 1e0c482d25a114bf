"""SIGTERM and SIGINT stop the servers a process started: interruptions that unwind, once.

SIGTERM's default action ends a process on the spot: no ``finally`` block, ``with`` exit or
``atexit`` hook runs, so a PostgreSQL server the process started would keep running, with its
folder. So while this process owns a live cluster (:func:`hold` / :func:`release`), a SIGTERM
nobody else handles raises KeyboardInterrupt in the main thread, as Ctrl-C does, and
everything unwinds: each ``with`` block, ExitStack and, last, the atexit hook stops its server.
A SIGTERM the process was started ignoring, or that someone else handles, is left alone.

One interruption is enough (:func:`interrupt`): once a signal has raised, later ones are
noted on stderr and dropped, so a second Ctrl-C cannot cut the first one's cleanup short. And
a server's stop is never cut in half (:func:`deferred`): a signal arriving meanwhile is
delivered when the stop is done. A ``serve`` command announces its server and waits for the
signal that stops it with :func:`serve_until_interrupted`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

__all__ = [
    "deferred",
    "hold",
    "interrupt",
    "interrupted",
    "release",
    "reset",
    "serve_until_interrupted",
    "takes_over",
]

_STOPPING = (signal.SIGINT, signal.SIGTERM)
_lock = threading.Lock()
_first: str | None = None  # the signal that interrupted this process, once one has
_live = 0  # clusters this process started and has not stopped
_installed = False  # whether _on_sigterm was put in place by hold()


def interrupt(signum: int) -> None:
    """Raise KeyboardInterrupt naming ``signum``, the first time; after that, note and drop."""
    global _first
    name = signal.Signals(signum).name
    if _first is not None:
        # os.write, not print: a signal handler may run while sys.stderr is mid-write.
        note = f"cutover: {name} ignored: stopping already ({_first}); servers are being stopped\n"
        with contextlib.suppress(OSError):
            os.write(2, note.encode())
        return
    _first = name
    raise KeyboardInterrupt(name)


def interrupted() -> str | None:
    """The name of the signal that interrupted this process, if one has."""
    return _first


def reset() -> None:
    """Forget the interruption (a process that carries on after it, e.g. a second run)."""
    global _first
    _first = None


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    interrupt(signum)


def takes_over(handler: Any) -> bool:
    """Whether a caller may replace ``handler`` with its own SIGTERM handler: it is the
    default (the process would die with its servers running) or the one :func:`hold` set."""
    return handler is signal.SIG_DFL or handler is _on_sigterm


def hold() -> None:
    """A cluster started: SIGTERM now unwinds this process (see the module docstring)."""
    global _live, _installed
    with _lock:
        _live += 1
        if _installed or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
            _installed = True


def release() -> None:
    """A cluster stopped; with the last one, SIGTERM gets its default action back."""
    global _live, _installed
    with _lock:
        _live = max(0, _live - 1)
        if _live or not _installed:
            return
        if threading.current_thread() is not threading.main_thread():
            return  # signal.signal works in the main thread only; the next release restores
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _installed = False
        reset()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block; then hand the first that came to the handler
    that was in place before (outside the main thread, where no handler runs: no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int] = {}
    for stopping in _STOPPING:
        handler = signal.getsignal(stopping)
        if handler is None or handler is signal.SIG_IGN:
            continue  # installed outside Python (cannot be put back), or ignored anyway
        previous[stopping] = handler
        signal.signal(stopping, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        for stopping, handler in previous.items():
            signal.signal(stopping, handler)
        if caught:
            signal.raise_signal(caught[0])


def serve_until_interrupted(uri: str, how_to_connect: str) -> None:
    """Print ``uri`` as the first line on stdout and ``how_to_connect`` on stderr, both
    flushed (whoever started the process reads the URI to connect), then wait for SIGINT or
    SIGTERM. Either raises KeyboardInterrupt here (Python's handler, or :func:`hold`'s): the
    caller catches it, around its start too, and stops its server."""
    print(uri, flush=True)
    print(how_to_connect, file=sys.stderr, flush=True)
    threading.Event().wait()
