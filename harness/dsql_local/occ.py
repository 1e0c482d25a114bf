"""Optimistic concurrency as DSQL has it, on a server that locks rows: no waits, a loser at COMMIT.

DSQL never waits on a lock: two transactions may write the same row, and the one that commits
second fails *at COMMIT* with ``40001 change conflicts with another transaction (OC000)``;
``SELECT … FOR UPDATE`` and ``FOR KEY SHARE`` put rows in the conflict set the same way, and
so do foreign-key checks. PostgreSQL instead makes the second writer wait on the first's row
lock. The guard keeps DSQL's shape by never letting a statement of a transaction block wait:

- the server runs with a short ``lock_timeout``; before each statement of a block that writes
  or locks rows, the relay sets a savepoint of its own (pipelined, no round trip);
- a statement that meets another transaction's lock times out (``55P03``) — or meets a row
  changed since its snapshot, which PostgreSQL fails at once with its own ``40001`` and DSQL
  at COMMIT: the relay rolls back to the savepoint, answers the client as if the statement
  had run — the rows an ``UPDATE``/``DELETE`` would have touched counted in the transaction's
  snapshot, the rows a ``SELECT … FOR UPDATE`` reads read without the lock — and marks the
  transaction *doomed*;
- a doomed transaction's ``COMMIT`` fails with DSQL's ``40001 … (OC000)`` and ends it.

Between two blocks the lock holder thus always wins; DSQL's winner is whoever commits first,
which is the lock holder whenever it commits before the waiter would have. When a stand-in
answer cannot be computed (``RETURNING``, ``UPDATE … FROM``, ``DELETE … USING``), the statement
fails at once with the same ``40001``. A statement that commits as soon as it ends
(autocommit, one query's implicit transaction) or DDL wins instead, as on DSQL: the holder's
block gives its locks up and loses at COMMIT (:mod:`harness.dsql_local.peers`).
"""

from __future__ import annotations

import functools
import re
import struct

from harness.dsql_local.rules import Refusal
from harness.dsql_local.statement import Statement

__all__ = ["CONFLICT", "LOCK_TIMEOUT", "PARAMETER", "SAVEPOINT", "guarded", "meeting", "stand_in"]

CONFLICT = Refusal("40001", "change conflicts with another transaction (OC000)", "occ")
"""DSQL's words for a data conflict (recorded 2026-09-17, occ_conflict)."""
LOCK_TIMEOUT = "100ms"
"""How long the server lets a statement wait for a row lock before the relay calls it a
conflict (DSQL waits not at all; a little slack keeps brief locks of autocommit statements
from counting as conflicts)."""
SAVEPOINT = "cutover_dsql_occ"
_TEXT = 25  # pg_type oid of text
PARAMETER = re.compile(r"\$\d")
"""A bound parameter in a stand-in's text (``$1``): then it is bound as its statement was."""


def guarded(stmt: Statement) -> bool:
    """Whether ``stmt`` may meet another transaction's row lock (writes, locking reads)."""
    return stmt.is_dml or bool(stmt.analysis.locked)


def meeting(sqlstate: str | None, stmt: Statement | None, *, in_block: bool) -> bool:
    """The server's error ``sqlstate`` is a meeting with another transaction that DSQL
    settles at COMMIT: a row lock (``55P03``, after :data:`LOCK_TIMEOUT`), or — for a write
    of a block — a row another transaction changed since the block's snapshot (PostgreSQL's
    ``40001`` at once; DSQL's at the block's COMMIT)."""
    if sqlstate == "55P03":
        return True
    return sqlstate == "40001" and in_block and stmt is not None and not stmt.is_ddl


@functools.lru_cache(maxsize=1024)
def stand_in(text: str) -> str | None:
    """A lock-free query answering as ``text`` would have: ``SELECT count(*) …`` for an
    ``UPDATE``/``DELETE`` (its command tag's count), the ``SELECT`` without its locking clause;
    None when there is none."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        node = sqlglot.parse_one(text, read="postgres")
    except SqlglotError:
        return None
    if isinstance(node, exp.Select) and node.args.get("locks"):
        free = node.copy()
        free.set("locks", None)
        return free.sql("postgres")
    if isinstance(node, exp.Update | exp.Delete):
        if any(node.args.get(k) for k in ("from", "from_", "using", "returning", "with")):
            return None
        query = exp.select("count(*)").from_(node.this.copy())
        where = node.args.get("where")
        if where is not None:
            query = query.where(where.this.copy())
        return query.sql("postgres")
    return None


def stand_in_types(query: str, types: bytes) -> bytes:
    """The parameter types a stand-in is parsed with: its statement's (the Parse's count and
    OIDs), except that a parameter it leaves out and the client left untyped is ``text`` —
    PostgreSQL cannot infer the type of a parameter nothing uses."""
    count = struct.unpack("!h", types[:2])[0]
    oids = list(struct.unpack(f"!{count}I", types[2 : 2 + 4 * count]))
    used = {int(n) for n in re.findall(r"\$(\d+)", query)}
    oids = [oid or (0 if at + 1 in used else _TEXT) for at, oid in enumerate(oids)]
    return struct.pack(f"!h{count}I", count, *oids)


def tag(stmt: Statement, count: str | None) -> str | None:
    """The command tag ``stmt`` would have answered with, from its stand-in's count."""
    if stmt.kind == "INSERT" and stmt.static_rows is not None:
        return f"INSERT 0 {stmt.static_rows}"
    if count is None:
        return None
    if stmt.kind in ("UPDATE", "DELETE"):
        return f"{stmt.kind} {count}"
    return None
