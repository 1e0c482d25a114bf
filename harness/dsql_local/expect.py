"""What the relay waits for, in order: one entry per answer the client's stream expects.

Either a server response to a message the relay sent (``kind`` names the message) or a
message the relay answers itself (``synthetic``), so the relay's own answers keep the
client's order among the server's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.dsql_local.statement import Statement

__all__ = ["Batch", "Expect", "Fake"]


@dataclass(eq=False)
class Expect:
    """One thing the client's message stream is waiting for, in order.

    Either a server response to a message the guard sent (``kind`` names the message) or a
    message the guard itself answers (``synthetic``), so both keep the client's order."""

    kind: str
    stmt: Statement | None = None
    forward: bool = True
    data: bytes = b""
    private: bool = False
    stage: int = 0
    tag: str | None = None
    error: dict[str, str] | None = None
    notices: list[str] = field(default_factory=list)
    """SQLSTATEs of the NoticeResponses the statement drew (``42P07``: already exists)."""
    rows: list[list[str | None]] = field(default_factory=list)
    """A private query's rows (text values)."""
    occ: bool = False
    """A meeting with another transaction's lock is the relay's to settle (occ.py)."""
    savepoint: bool = False
    """A savepoint of the relay's went before it, to undo it when it meets a lock."""
    resend: bytes = b""
    """What runs it again if it must (peers.py): Close of its portal, its Bind and Execute
    (extended)."""
    types: bytes = b"\0\0"
    """Its Parse's parameter types (extended), for a stand-in of the same parameters."""
    bound: bytes = b"\0\0\0\0"
    """Its Bind's parameter formats and values (extended; none by default)."""
    blocked: bool = False
    """It met another transaction's row lock (55P03) and was rolled back to the savepoint."""
    described: bool = False
    """A RowDescription of its was forwarded."""
    sent_rows: int = 0
    """DataRows of its forwarded so far."""
    skip_rows: int = -1
    """A stand-in query (occ.py): rows already sent by the statement it stands in for (its
    RowDescription too, unless -1)."""


@dataclass
class Batch:
    """What happened in the current unit (one simple query, or extended messages to Sync)."""

    failed: bool = False
    blocked: Expect | None = None
    """An Execute that met another transaction's lock, to be answered at Sync (occ.py)."""
    blocked_alone: bool = True
    """No other message of the client's came after it (so a stand-in answer fits)."""
    outstanding_writes: int = 0
    """Executes of writing statements sent and not answered yet (their rows may cross the
    limit, so a COMMIT behind them waits)."""


class Fake:
    """A statement the guard runs itself: the end of a failed transaction block."""
