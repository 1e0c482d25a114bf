"""A TCP fault proxy on 127.0.0.1 that speaks Toxiproxy's vocabulary.

Toxiproxy itself is a Go server (no toolchain, package or Docker here), so this is a small
asyncio equivalent run in a background thread with its own event loop: synchronous tests and
clients use it through plain method calls. Tests read as Toxiproxy's docs do::

    with FaultProxy(("127.0.0.1", 5432)) as proxy:
        proxy.add_toxic("latency", stream="downstream", latency=200, jitter=20)
        with proxy.down():            # connections are refused (nothing listens)
            ...

Toxics (attributes in Toxiproxy's units: milliseconds, KB/s, bytes):

``latency(latency, jitter)``   each chunk is held ``latency ± jitter`` ms
``bandwidth(rate)``            at most ``rate`` KB/s
``timeout(timeout)``           black hole: data is dropped; the link closes after ``timeout``
                               ms (0: never, until the toxic is removed)
``reset_peer(timeout)``        TCP RST to both peers ``timeout`` ms after the toxic reaches
                               the link (0: at the next chunk)
``limit_data(bytes)``          the link closes once ``bytes`` passed in that direction
``slow_close(delay)``          a close is passed on ``delay`` ms late

Every toxic acts on one direction (``upstream`` = client → server, ``downstream`` = server
→ client) with a ``toxicity``: the probability, rolled once per connection from a seedable
random source, that it applies to that connection. Toxics can be added, changed and removed
while connections are open; open links pick the change up at their next chunk. ``down``
(Toxiproxy's ``enabled=false``) closes the listener and every open link.

Every loop is bounded: a link lives at most ``max_link_s`` seconds and moves at most
``max_chunks`` chunks per direction; every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import HarnessError
from harness.faults.link import STREAMS, Link, Stream, Toxic

__all__ = ["STREAMS", "TOXIC_TYPES", "FaultProxy", "ProxyError", "ProxyStats", "Toxic"]

TOXIC_TYPES: dict[str, tuple[str, ...]] = {
    "latency": ("latency", "jitter"),
    "bandwidth": ("rate",),
    "timeout": ("timeout",),
    "reset_peer": ("timeout",),
    "limit_data": ("bytes",),
    "slow_close": ("delay",),
}
"""Each toxic type with the attributes it takes (all optional, default 0)."""

_CALL_TIMEOUT_S = 10.0  # a control call into the loop thread; it never blocks on traffic
T = TypeVar("T")


class ProxyError(HarnessError):
    """The fault proxy was used wrongly (unknown toxic, bad attribute) or could not start."""


@dataclass
class ProxyStats:
    """What the proxy saw: connections accepted (attempts on the wire), resets sent, bytes."""

    accepted: int = 0
    resets: int = 0
    closed_by_toxic: int = 0
    bytes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))

    def snapshot(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "resets": self.resets,
            "closed_by_toxic": self.closed_by_toxic,
            "bytes": dict(self.bytes),
        }


class FaultProxy:
    """A fault-injecting TCP proxy in front of ``upstream`` (host, port) or a unix socket path.

    It listens on 127.0.0.1 only; ``port=0`` picks a free port, kept across down/up so
    clients can reconnect to the same address.
    """

    def __init__(
        self,
        upstream: tuple[str, int] | str | Path,
        *,
        port: int = 0,
        seed: int | None = None,
        name: str = "proxy",
        max_link_s: float = 300.0,
        max_chunks: int = 1_000_000,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.upstream = upstream
        self.name = name
        self.max_link_s = max_link_s
        self.max_chunks = max_chunks
        self.connect_timeout_s = connect_timeout_s
        self.stats = ProxyStats()
        self._port = port
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._toxics: tuple[Toxic, ...] = ()
        self._budgets: dict[str, int] = {}  # limited toxics: actions left
        self._names = itertools.count(1)
        self._links: set[Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self.closing = False  # set by stop(): every link loop ends at its next tick

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Start the loop thread and listen; return self."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"fault-{self.name}", daemon=True)
        self._thread.start()
        if not ready.wait(_CALL_TIMEOUT_S):
            raise ProxyError(f"fault proxy {self.name}: event loop did not start")
        self.enable()
        return self

    def stop(self) -> None:
        """Close the listener and every link, stop the loop and join its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            self._call(self._shutdown())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_CALL_TIMEOUT_S)
        if not thread.is_alive():
            loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- where it is -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self._port

    @property
    def enabled(self) -> bool:
        return self._server is not None

    # -- toxics ------------------------------------------------------------------------------

    def add_toxic(
        self,
        type: str,
        *,
        stream: Stream = "downstream",
        toxicity: float = 1.0,
        name: str | None = None,
        limit: int | None = None,
        **attributes: float,
    ) -> Toxic:
        """Add a toxic; it applies to open links at their next chunk and to new ones.

        ``limit`` (reset_peer only, not in Toxiproxy): the toxic resets at most this many
        links and then removes itself, so "one reset, then a healthy network" is exact
        rather than a race between the reset and a test removing the toxic.
        """
        toxic = self._validated(
            Toxic(name or f"{type}_{next(self._names)}", type, stream, toxicity, attributes)
        )
        if limit is not None and (type != "reset_peer" or limit < 1):
            raise ProxyError("limit is a positive number of resets, for reset_peer only")
        with self._lock:
            if any(t.name == toxic.name for t in self._toxics):
                raise ProxyError(f"toxic {toxic.name!r} already exists on {self.name}")
            self._toxics = (*self._toxics, toxic)
            if limit is not None:
                self._budgets[toxic.name] = limit
        return toxic

    def spend(self, name: str) -> bool:
        """Whether toxic ``name`` may act once more; a spent limited toxic removes itself."""
        with self._lock:
            left = self._budgets.get(name)
            if left is None:
                return True
            if left <= 0:
                return False
            self._budgets[name] = left - 1
            if left == 1:
                self._toxics = tuple(t for t in self._toxics if t.name != name)
            return True

    def update_toxic(
        self, name: str, *, toxicity: float | None = None, **attributes: float
    ) -> Toxic:
        """Change a toxic's attributes (or toxicity) while links are open."""
        with self._lock:
            old = next((t for t in self._toxics if t.name == name), None)
            if old is None:
                raise ProxyError(f"no toxic {name!r} on {self.name}")
            new = self._validated(
                Toxic(
                    name,
                    old.type,
                    old.stream,
                    old.toxicity if toxicity is None else toxicity,
                    {**old.attributes, **attributes},
                )
            )
            self._toxics = tuple(new if t.name == name else t for t in self._toxics)
        return new

    def remove_toxic(self, name: str) -> None:
        with self._lock:
            self._toxics = tuple(t for t in self._toxics if t.name != name)
            self._budgets.pop(name, None)

    def clear(self) -> None:
        """Remove every toxic (Toxiproxy's reset), leaving the proxy enabled state alone."""
        with self._lock:
            self._toxics = ()
            self._budgets.clear()

    def toxics(self) -> tuple[Toxic, ...]:
        return self._toxics

    def toxic_names(self) -> set[str]:
        return {t.name for t in self._toxics}

    @contextlib.contextmanager
    def toxic(self, type: str, **kwargs: Any) -> Iterator[Toxic]:
        """A toxic for the length of a ``with`` block."""
        toxic = self.add_toxic(type, **kwargs)
        try:
            yield toxic
        finally:
            self.remove_toxic(toxic.name)

    # -- down / up ---------------------------------------------------------------------------

    def disable(self) -> None:
        """Down: stop listening (connections are refused) and close every open link."""
        self._call(self._disable())

    def enable(self) -> None:
        """Up: listen again on the same port."""
        self._call(self._enable())

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """Refuse connections for the length of a ``with`` block."""
        self.disable()
        try:
            yield
        finally:
            self.enable()

    def reset_links(self) -> int:
        """Send RST on every open link now (what reset_peer does, once); return how many."""
        count: int = self._call(self._reset_links())
        return count

    # -- randomness (one seeded source, used only on the loop thread) -----------------------

    def roll(self, probability: float) -> bool:
        return probability >= 1.0 or self._rng.random() < probability

    def uniform(self, low: float, high: float) -> float:
        return self._rng.uniform(low, high) if high > low else low

    # -- loop-thread side --------------------------------------------------------------------

    def _validated(self, toxic: Toxic) -> Toxic:
        allowed = TOXIC_TYPES.get(toxic.type)
        if allowed is None:
            raise ProxyError(
                f"unknown toxic type {toxic.type!r}; allowed: {', '.join(TOXIC_TYPES)}"
            )
        if toxic.stream not in STREAMS:
            raise ProxyError(f"stream must be upstream or downstream, not {toxic.stream!r}")
        if not 0.0 <= toxic.toxicity <= 1.0:
            raise ProxyError(f"toxicity is a probability in [0, 1], not {toxic.toxicity}")
        unknown = sorted(set(toxic.attributes) - set(allowed))
        if unknown:
            raise ProxyError(
                f"{toxic.type} takes {', '.join(allowed)}; unknown attribute(s): "
                + ", ".join(unknown)
            )
        if any(float(v) < 0 for v in toxic.attributes.values()):
            raise ProxyError(f"{toxic.type} attributes must not be negative")
        return toxic

    def _call(self, coro: Any) -> Any:
        if self._loop is None:
            coro.close()
            raise ProxyError(f"fault proxy {self.name} is not running; call start() first")
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(_CALL_TIMEOUT_S)

    async def _enable(self) -> None:
        if self._server is not None:
            return
        try:
            self._server = await asyncio.start_server(
                self._accept, "127.0.0.1", self._port, reuse_address=True
            )
        except OSError as exc:
            raise ProxyError(
                f"fault proxy {self.name} cannot listen on 127.0.0.1:{self._port}: {exc.strerror}"
            ) from None
        self._port = self._server.sockets[0].getsockname()[1]

    async def _disable(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for link in list(self._links):
            link.abort(reset=False)
        if server is not None:  # since 3.12 this also waits for the links closed above
            await asyncio.wait_for(server.wait_closed(), _CALL_TIMEOUT_S)

    async def _reset_links(self) -> int:
        links = list(self._links)
        for link in links:
            link.abort(reset=True)
        return len(links)

    async def _shutdown(self) -> None:
        self.closing = True
        await self._disable()
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=_CALL_TIMEOUT_S / 2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats.accepted += 1
        try:
            try:
                server = await asyncio.wait_for(self._open_upstream(), self.connect_timeout_s)
            except (OSError, TimeoutError):
                writer.transport.abort()  # upstream unreachable: the client sees a reset
                return
            link = Link(self, (reader, writer), server)
            self._links.add(link)
            try:
                await link.run()
            finally:
                self._links.discard(link)
        except asyncio.CancelledError:
            # Only stop() cancels, and only a link that outlived its grace period; ending
            # quietly keeps asyncio's stream callback from logging the cancellation.
            writer.transport.abort()
        finally:
            self._tasks.discard(task)

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if isinstance(self.upstream, tuple):
            return await asyncio.open_connection(*self.upstream)
        return await asyncio.open_unix_connection(str(self.upstream))
