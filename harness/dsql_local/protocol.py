"""PostgreSQL frontend/backend protocol v3: reading, building and parsing the messages the
local DSQL's guard needs (https://www.postgresql.org/docs/16/protocol-message-formats.html).

Only framing and the few fields the guard decides on are parsed; every other message is
carried as its type byte and raw payload, so what the guard does not understand it relays
byte for byte. Names follow the protocol documentation (``ParseComplete``, ``ReadyForQuery``).
"""

from __future__ import annotations

import asyncio
import re
import struct
from dataclasses import dataclass, field

__all__ = [
    "CANCEL_REQUEST",
    "GSSENC_REQUEST",
    "PROTOCOL_3",
    "SSL_REQUEST",
    "Message",
    "MessageStream",
    "Startup",
    "authentication",
    "backend_error",
    "bind_names",
    "bind_parameters",
    "command_complete",
    "command_tag",
    "data_row",
    "data_values",
    "describe_target",
    "error_response",
    "execute_portal",
    "message",
    "parameter_status",
    "parse_message",
    "parse_startup",
    "parse_types",
    "query_text",
    "read_message",
    "read_startup",
    "ready_for_query",
    "row_description",
    "rows_modified",
    "startup_message",
]

PROTOCOL_3 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
_MAX_STARTUP = 10_000  # PostgreSQL's own limit on a startup packet
_MAX_MESSAGE = 1 << 30  # PostgreSQL refuses messages of 1 GiB and more


@dataclass(frozen=True, slots=True)
class Message:
    """One typed protocol message: its type byte and its payload (without the length)."""

    kind: bytes
    body: bytes

    def encode(self) -> bytes:
        return message(self.kind, self.body)


@dataclass(frozen=True)
class Startup:
    """A startup packet: the request code (protocol version, SSL/GSS/cancel request) and its
    parameters (``user``, ``database``, ``options`` …) in the order the client sent them."""

    code: int
    params: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""
    """The packet's payload after the code (a cancel request's pid and key)."""


def message(kind: bytes, body: bytes = b"") -> bytes:
    """A framed message: type byte, Int32 length (itself included), payload."""
    return kind + struct.pack("!i", len(body) + 4) + body


def _cstring(text: str) -> bytes:
    return text.encode() + b"\0"


async def read_startup(reader: asyncio.StreamReader, head: bytes = b"") -> Startup:
    """Read one untyped startup-phase packet (its first bytes may already have been read)."""
    head += await reader.readexactly(8 - len(head)) if len(head) < 8 else b""
    length, code = struct.unpack("!ii", head[:8])
    if not 8 <= length <= _MAX_STARTUP:
        raise ValueError(f"invalid startup packet length {length}")
    rest = await reader.readexactly(length - 8)
    return parse_startup(code, rest)


def parse_startup(code: int, rest: bytes) -> Startup:
    """The parameters of a protocol-3 startup packet (``name\\0value\\0 … \\0``)."""
    if code != PROTOCOL_3:
        return Startup(code, {}, rest)
    parts = rest.split(b"\0")
    params: dict[str, str] = {}
    for name, value in zip(parts[0::2], parts[1::2], strict=False):
        if not name:
            break
        params[name.decode(errors="replace")] = value.decode(errors="replace")
    return Startup(code, params, rest)


def startup_message(params: dict[str, str]) -> bytes:
    """A protocol-3 startup packet for ``params``."""
    body = struct.pack("!i", PROTOCOL_3) + b"".join(
        _cstring(k) + _cstring(v) for k, v in params.items()
    )
    return struct.pack("!i", len(body) + 5) + body + b"\0"


async def read_message(reader: asyncio.StreamReader) -> Message:
    """Read one typed message; raises ``asyncio.IncompleteReadError`` at end of stream."""
    head = await reader.readexactly(5)
    length = struct.unpack("!i", head[1:5])[0]
    if not 4 <= length < _MAX_MESSAGE:
        raise ValueError(f"invalid message length {length}")
    return Message(head[:1], await reader.readexactly(length - 4))


class MessageStream:
    """Typed messages from ``reader``, read in large chunks: a bulk result is thousands of
    small DataRow messages, and two reads per message cost more than relaying them."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self._buffer = bytearray()
        self._pos = 0

    async def next(self) -> Message:
        """The next message; raises ``asyncio.IncompleteReadError`` at end of stream."""
        buffer = self._buffer
        while True:
            pos = self._pos
            available = len(buffer) - pos
            if available >= 5:
                length = int.from_bytes(buffer[pos + 1 : pos + 5], "big", signed=True)
                if not 4 <= length < _MAX_MESSAGE:
                    raise ValueError(f"invalid message length {length}")
                if available >= length + 1:
                    self._pos = pos + length + 1
                    return Message(bytes(buffer[pos : pos + 1]), bytes(buffer[pos + 5 : self._pos]))
            await self._fill()

    def data_rows(self) -> tuple[bytes, int]:
        """The DataRow messages complete in the buffer from here on, as the bytes to relay and
        their number (none: ``(b"", 0)``); they are consumed."""
        buffer, start = self._buffer, self._pos
        pos, end, count = start, len(buffer), 0
        while pos + 5 <= end and buffer[pos] == 0x44:  # "D"
            step = int.from_bytes(buffer[pos + 1 : pos + 5], "big", signed=True) + 1
            if step < 5 or pos + step > end:
                break
            pos += step
            count += 1
        self._pos = pos
        return bytes(buffer[start:pos]), count

    async def _fill(self) -> None:
        buffer = self._buffer
        if self._pos:
            del buffer[: self._pos]
            self._pos = 0
        chunk = await self.reader.read(256 * 1024)
        if not chunk:
            raise asyncio.IncompleteReadError(bytes(buffer), None)
        buffer += chunk


# -- building backend messages --------------------------------------------------------------


def error_response(
    sqlstate: str, text: str, *, severity: str = "ERROR", detail: str | None = None
) -> bytes:
    """An ErrorResponse (severity ERROR or FATAL) carrying ``sqlstate`` and ``text``."""
    fields = [(b"S", severity), (b"V", severity), (b"C", sqlstate), (b"M", text)]
    if detail:
        fields.append((b"D", detail))
    body = b"".join(tag + _cstring(value) for tag, value in fields) + b"\0"
    return message(b"E", body)


def ready_for_query(status: bytes) -> bytes:
    """ReadyForQuery: ``I`` idle, ``T`` in a transaction block, ``E`` in a failed one."""
    return message(b"Z", status)


def command_complete(tag: str) -> bytes:
    return message(b"C", _cstring(tag))


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", _cstring(name) + _cstring(value))


def authentication(code: int, data: bytes = b"") -> bytes:
    """An Authentication* message: 0 ok, 3 cleartext password …"""
    return message(b"R", struct.pack("!i", code) + data)


def row_description(columns: list[str]) -> bytes:
    """A RowDescription of ``text`` columns (type oid 25), text format."""
    body = struct.pack("!h", len(columns))
    for name in columns:
        body += _cstring(name) + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0)
    return message(b"T", body)


def data_row(values: list[str | None]) -> bytes:
    body = struct.pack("!h", len(values))
    for value in values:
        if value is None:
            body += struct.pack("!i", -1)
        else:
            raw = value.encode()
            body += struct.pack("!i", len(raw)) + raw
    return message(b"D", body)


# -- parsing ---------------------------------------------------------------------------------


def _cstrings(body: bytes, count: int) -> tuple[list[str], int]:
    """The first ``count`` NUL-terminated strings of ``body`` and the offset after them."""
    out: list[str] = []
    at = 0
    for _ in range(count):
        end = body.index(b"\0", at)
        out.append(body[at:end].decode(errors="replace"))
        at = end + 1
    return out, at


def query_text(body: bytes) -> str:
    """The SQL of a Query message."""
    return _cstrings(body, 1)[0][0]


def parse_message(body: bytes) -> tuple[str, str]:
    """(statement name, SQL) of a Parse message."""
    (name, sql), _ = _cstrings(body, 2)
    return name, sql


def bind_names(body: bytes) -> tuple[str, str]:
    """(portal, statement) of a Bind message."""
    (portal, statement), _ = _cstrings(body, 2)
    return portal, statement


def parse_types(body: bytes) -> bytes:
    """The parameter-type part of a Parse message (count, then type OIDs), as sent."""
    _, at = _cstrings(body, 2)
    return body[at:]


def bind_parameters(body: bytes) -> bytes:
    """The parameter part of a Bind message (format codes, count, then values), as sent: what
    another statement of the same parameters may be bound with."""
    _, at = _cstrings(body, 2)
    formats = struct.unpack("!h", body[at : at + 2])[0]
    end = at + 2 + 2 * formats
    count = struct.unpack("!h", body[end : end + 2])[0]
    end += 2
    for _ in range(count):
        length = struct.unpack("!i", body[end : end + 4])[0]
        end += 4 + max(length, 0)
    return body[at:end]


def execute_portal(body: bytes) -> str:
    return _cstrings(body, 1)[0][0]


def describe_target(body: bytes) -> tuple[bytes, str]:
    """(``S`` or ``P``, name) of a Describe or Close message."""
    return body[:1], _cstrings(body[1:], 1)[0][0]


def data_values(body: bytes) -> list[str | None]:
    """The values of a DataRow in text format (None for NULL)."""
    count = struct.unpack("!h", body[:2])[0]
    values: list[str | None] = []
    at = 2
    for _ in range(count):
        length = struct.unpack("!i", body[at : at + 4])[0]
        at += 4
        if length < 0:
            values.append(None)
        else:
            values.append(body[at : at + length].decode(errors="replace"))
            at += length
    return values


def backend_error(body: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse or NoticeResponse, keyed by their type letter."""
    fields: dict[str, str] = {}
    at = 0
    while at < len(body) and body[at] != 0:
        end = body.index(b"\0", at + 1)
        fields[chr(body[at])] = body[at + 1 : end].decode(errors="replace")
        at = end + 1
    return fields


_COUNTED = re.compile(r"^(?:INSERT \d+|UPDATE|DELETE|COPY|MERGE) (\d+)$")


def command_tag(body: bytes) -> str:
    """The tag of a CommandComplete message."""
    return body.rstrip(b"\0").decode(errors="replace")


def rows_modified(tag: str) -> int:
    """Rows a statement wrote, from its command tag (``INSERT 0 5`` → 5, ``SELECT 3`` → 0).

    ``COPY n`` is counted too; the caller asks only for statements that write (a ``COPY …
    FROM``, never a ``COPY … TO``)."""
    match = _COUNTED.match(tag)
    return int(match.group(1)) if match else 0
