"""One client connection through the fault proxy: its two directions pumped chunk by chunk
through the toxics that apply to it (:class:`harness.faults.proxy.FaultProxy` owns the
listener, the toxics and the control calls; a link only reads them)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from harness.faults.proxy import FaultProxy

Stream = Literal["upstream", "downstream"]
STREAMS: tuple[Stream, ...] = ("upstream", "downstream")

_CHUNK = 64 * 1024
_AHEAD = 256  # chunks read ahead of a held one (16 MB at most) before reading pauses
_TICK_S = 0.005  # how often a paused link (black hole, pending reset) re-reads its toxics


@dataclass(frozen=True)
class Toxic:
    """One fault on one direction of every link, in Toxiproxy's terms."""

    name: str
    type: str
    stream: Stream = "downstream"
    toxicity: float = 1.0
    attributes: dict[str, float] = field(default_factory=dict)

    def attr(self, key: str) -> float:
        return float(self.attributes.get(key, 0))


class _Reset(Exception):
    """A toxic asked for the link to be torn down with RST."""


class _Close(Exception):
    """A toxic asked for the link to be closed normally (FIN)."""


class Link:
    """One client connection and its upstream connection, pumped in both directions."""

    def __init__(
        self,
        proxy: FaultProxy,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        server: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.rolls: dict[str, bool] = {}  # toxic name -> applies to this link
        self.first_seen: dict[str, float] = {}  # toxic name -> when it reached this link
        self.passed: dict[tuple[str, Stream], int] = {}  # limit_data counters
        self.born = time.monotonic()
        self.timed_out = False

    def active(self, stream: Stream) -> list[Toxic]:
        """The toxics on ``stream`` that apply to this link, rolled once per toxic."""
        out = []
        for toxic in self.proxy.toxics():
            if toxic.stream != stream:
                continue
            if toxic.name not in self.rolls:
                self.rolls[toxic.name] = self.proxy.roll(toxic.toxicity)
                self.first_seen[toxic.name] = time.monotonic()
            if self.rolls[toxic.name]:
                out.append(toxic)
        return out

    async def run(self) -> None:
        pumps = [
            asyncio.ensure_future(self._pump("upstream", self.client[0], self.server[1])),
            asyncio.ensure_future(self._pump("downstream", self.server[0], self.client[1])),
        ]
        try:
            # One direction's EOF half-closes the other side; the link ends when both
            # directions ended, one of them failed, or the link outlived max_link_s.
            done, pending = await asyncio.wait(
                pumps, timeout=self.proxy.max_link_s, return_when=asyncio.FIRST_EXCEPTION
            )
            failed = [t for t in done if not t.cancelled() and t.exception() is not None]
            if failed and isinstance(failed[0].exception(), _Reset):
                self.abort(reset=True)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        finally:
            self.abort(reset=False)

    async def _pump(
        self, stream: Stream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Move one direction's chunks through its toxics. Reading runs ahead of writing, as
        in Toxiproxy: a latency toxic holds each chunk until ``latency`` after it *arrived*,
        so a link with 25 ms each way costs a request-response 50 ms however many chunks it
        spans — a round trip, as on a real network — rather than 25 ms per chunk."""
        arrivals: asyncio.Queue[tuple[float, bytes | BaseException]] = asyncio.Queue(_AHEAD)
        feeding = asyncio.ensure_future(self._feed(stream, reader, arrivals))
        try:
            for _ in range(self.proxy.max_chunks):
                arrived, data = await arrivals.get()
                if isinstance(data, BaseException):
                    raise data
                if not data:  # EOF from this side
                    for toxic in self.active(stream):
                        if toxic.type == "slow_close":
                            await asyncio.sleep(toxic.attr("delay") / 1000)
                    with contextlib.suppress(OSError, RuntimeError):
                        if writer.can_write_eof():
                            writer.write_eof()
                    return
                data = await self._apply(stream, data, writer, arrived)
                if data:
                    self.proxy.stats.bytes[stream] += len(data)  # before the peer can see it
                    writer.write(data)
                    await asyncio.wait_for(writer.drain(), self.proxy.max_link_s)
            raise _Close()
        finally:
            feeding.cancel()
            await asyncio.gather(feeding, return_exceptions=True)

    async def _feed(
        self,
        stream: Stream,
        reader: asyncio.StreamReader,
        arrivals: asyncio.Queue[tuple[float, bytes | BaseException]],
    ) -> None:
        """Read chunks as they come, stamped with their arrival; EOF and failures too."""
        while True:
            try:
                data = await self._read(stream, reader)
            except (_Close, _Reset, OSError) as failure:
                await arrivals.put((time.monotonic(), failure))
                return
            await arrivals.put((time.monotonic(), data))
            if not data:
                return

    async def _read(self, stream: Stream, reader: asyncio.StreamReader) -> bytes:
        """Read the next chunk, waking every tick to act on timed toxics meanwhile."""
        deadline = self.born + self.proxy.max_link_s
        while time.monotonic() < deadline and not self.proxy.closing:
            self._timed(stream)
            try:
                return await asyncio.wait_for(reader.read(_CHUNK), _TICK_S * 20)
            except TimeoutError:
                continue
        raise _Close()

    def _timed(self, stream: Stream) -> None:
        """Toxics that act on the clock rather than on data: reset_peer and timeout."""
        now = time.monotonic()
        for toxic in self.active(stream):
            waited = (now - self.first_seen[toxic.name]) * 1000
            if (
                toxic.type == "reset_peer"
                and toxic.attr("timeout")
                and waited >= toxic.attr("timeout")
                and self.proxy.spend(toxic.name)
            ):
                raise _Reset()
            if (
                toxic.type == "timeout"
                and toxic.attr("timeout")
                and waited >= toxic.attr("timeout")
            ):
                if not self.timed_out:  # the reader and the held chunk may both see it
                    self.timed_out = True
                    self.proxy.stats.closed_by_toxic += 1
                raise _Close()

    async def _apply(
        self, stream: Stream, data: bytes, writer: asyncio.StreamWriter, arrived: float
    ) -> bytes:
        """Run ``data`` through this direction's toxics, in the order they were added."""
        for toxic in self.active(stream):
            kind = toxic.type
            if kind == "latency":
                jitter = toxic.attr("jitter")
                delay = toxic.attr("latency") + self.proxy.uniform(-jitter, jitter)
                await asyncio.sleep(max(arrived + delay / 1000 - time.monotonic(), 0.0))
            elif kind == "bandwidth" and toxic.attr("rate") > 0:
                await asyncio.sleep(len(data) / (toxic.attr("rate") * 1024))
            elif kind == "reset_peer":
                self._timed(stream)
                if not toxic.attr("timeout") and self.proxy.spend(toxic.name):
                    raise _Reset()
            elif kind == "timeout":
                # Black hole: swallow this chunk and wait, bounded, for the toxic to go away
                # or its timeout to close the link.
                while toxic.name in self.proxy.toxic_names() and not self.proxy.closing:
                    self._timed(stream)
                    if time.monotonic() - self.born > self.proxy.max_link_s:
                        raise _Close()
                    await asyncio.sleep(_TICK_S)
                return b""
            elif kind == "limit_data":
                limit = int(toxic.attr("bytes"))
                seen = self.passed.get((toxic.name, stream), 0)
                room = max(limit - seen, 0)
                self.passed[(toxic.name, stream)] = seen + min(len(data), room)
                if len(data) >= room:
                    if room:
                        self.proxy.stats.bytes[stream] += room
                        writer.write(data[:room])
                    self.proxy.stats.closed_by_toxic += 1
                    raise _Close()
        return data

    def abort(self, *, reset: bool) -> None:
        """Close both sockets; with ``reset`` they send RST (SO_LINGER 0), not FIN."""
        for _, writer in (self.client, self.server):
            transport = writer.transport
            if transport.is_closing():
                continue
            if reset:
                sock = transport.get_extra_info("socket")
                if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                transport.abort()
            else:
                transport.close()
        if reset:
            self.proxy.stats.resets += 1
