"""One client session's transaction as DSQL keeps it: the rules that span statements.

DSQL runs every transaction at REPEATABLE READ and allows in one transaction at most one DDL
statement, never DDL together with DML, and at most 3,000 modified rows (the statement that
crosses the limit fails with ``54000`` and the transaction with it). A failed transaction
block answers ``25P02`` to everything until ``ROLLBACK`` — or ``COMMIT``, which then reports
``ROLLBACK``; a refusal outside a transaction block leaves the session as it was. Several
statements in one simple query, or one extended-protocol batch, form one implicit
transaction, so the same rules hold there (recorded as ``multi_two_ddl``).

This module is pure bookkeeping: :mod:`harness.dsql_local.guard` tells it what ran and asks
what to refuse; it never touches a socket.
"""

from __future__ import annotations

import enum
import functools
import time
from dataclasses import dataclass, field

from harness.dsql_local.limits import SCHEMA_CONFLICT, Limits, SchemaLog
from harness.dsql_local.protocol import rows_modified
from harness.dsql_local.rules import Refusal
from harness.dsql_local.statement import Statement, words
from harness.lint.analysis import bare

__all__ = ["ABORTED", "ROW_LIMIT", "Session", "Status", "Transaction"]

ROW_LIMIT = 3000
"""Rows one transaction may modify; 3,000 is allowed, 3,001 is not (recorded)."""

ABORTED = Refusal(
    "25P02",
    "current transaction is aborted, commands ignored until end of transaction block",
    "aborted-transaction",
)
_TOO_MANY_ROWS = Refusal("54000", "transaction row limit exceeded", "DSQL120")
_TWO_DDL = Refusal("0A000", "multiple ddl statements not supported in a transaction", "DSQL090")
_DDL_AND_DML = Refusal("0A000", "ddl and dml are not supported in the same transaction", "DSQL091")


class Status(enum.Enum):
    """Where the session is, as ReadyForQuery reports it."""

    IDLE = b"I"
    """No transaction block (an implicit one may run for the current query)."""
    OPEN = b"T"
    """Inside a transaction block the client began."""
    FAILED = b"E"
    """Inside a transaction block that failed; only its end is accepted."""


@dataclass
class Transaction:
    """What one transaction has done so far."""

    explicit: bool
    """Begun by the client (``BEGIN``); otherwise the implicit one of a multi-statement query."""
    ddl: int = 0
    dml: bool = False
    rows: int = 0
    doomed: Refusal | None = None
    """What its COMMIT answers, already certain: 40001 (OC000) when a statement met another
    transaction's row lock or newer row, or a statement that commits first released its
    locks; 40001 (OC001) when another session's DDL did (peers.py)."""
    opened_with: str = "BEGIN"
    """The client's BEGIN (``BEGIN READ ONLY`` …), to begin the server's transaction again
    when its locks are released (peers.py)."""
    started: float = field(default_factory=time.monotonic)
    epoch: int = 0
    """The schema clock when it began: DDL committed later on a table it touched is OC001."""
    tables: set[str] = field(default_factory=set)
    """Tables its statements read, wrote or changed (bare names)."""
    written: int = 0
    """Bytes of modified data so far (see :meth:`Session.completed`)."""
    changes: list[str | None] = field(default_factory=list)
    """The tables its DDL changes (None: one the analysis cannot name)."""

    @property
    def wrote(self) -> bool:
        """It ran DML or DDL: only such a transaction's COMMIT can conflict on DSQL."""
        return self.dml or self.ddl > 0


class Session:
    """The transaction state of one client connection."""

    def __init__(self, limits: Limits | None = None, schema: SchemaLog | None = None) -> None:
        self.status = Status.IDLE
        self.txn: Transaction | None = None
        self.limits = limits or Limits()
        self.schema = schema or SchemaLog()
        self.pending_bytes = 0
        """Bytes the next writing statement carries beyond its text (Bind values, COPY data)."""
        self.opened = time.monotonic()
        """When the connection was opened (one session a connection): its age counts from here."""

    @property
    def doomed(self) -> Refusal | None:
        return self.txn.doomed if self.txn is not None else None

    @property
    def implicit(self) -> bool:
        """An implicit transaction (one query's statements) is running in the server."""
        return self.txn is not None and not self.txn.explicit

    def begin(self, *, explicit: bool, text: str = "BEGIN") -> None:
        """A transaction begins: the client's (``text``: its BEGIN) or an implicit one."""
        if explicit and self.txn is not None and not self.txn.explicit:
            self.txn.explicit = True  # BEGIN inside a multi-statement query takes it over
            self.txn.opened_with = text
        elif self.txn is None:
            self.txn = Transaction(explicit=explicit, epoch=self.schema.now(), opened_with=text)
        if explicit:
            self.status = Status.OPEN

    def end(self) -> None:
        """The transaction is over (committed, rolled back, or its implicit block done)."""
        self.status = Status.IDLE
        self.txn = None

    def fail(self) -> None:
        """A statement failed: an explicit block is now aborted; an implicit one just ends
        (the caller rolls the server back)."""
        if self.txn is not None and self.txn.explicit:
            self.status = Status.FAILED
        else:
            self.end()

    def check(self, stmt: Statement) -> Refusal | None:
        """The refusal DSQL gives ``stmt`` here because of the statements before it."""
        if self.status is Status.FAILED:
            return None if stmt.ends_transaction else ABORTED
        txn = self.txn
        if txn is None:
            return None
        if self.expired():
            return self.limits.too_old
        if stmt.is_ddl:
            if txn.ddl:
                return _TWO_DDL
            if txn.dml:
                return _DDL_AND_DML
        if stmt.is_dml and txn.ddl:
            return _DDL_AND_DML
        return None

    def expired(self) -> bool:
        """The transaction block has outlived DSQL's transaction age."""
        txn = self.txn
        return (
            txn is not None
            and txn.explicit
            and time.monotonic() - txn.started > self.limits.transaction_age
        )

    def connection_expired(self) -> bool:
        """The connection has outlived DSQL's connection age, and no transaction block is
        open (one open at that moment may run on to its own age limit)."""
        idle = self.status is Status.IDLE and self.txn is None
        return idle and time.monotonic() - self.opened > self.limits.connection_age

    def commit_refusal(self) -> Refusal | None:
        """What DSQL answers this transaction's COMMIT instead of committing it, from what
        the guard knows itself: the age limit, or a schema change under it (OC001)."""
        txn = self.txn
        if txn is None or not txn.explicit:
            return None
        if self.expired():
            return self.limits.too_old
        if self.schema.stale(txn.epoch, txn.tables):
            return SCHEMA_CONFLICT
        return None

    def committed(self, stmt: Statement) -> None:
        """``stmt`` committed (autocommit, or a block's COMMIT): its DDL is now everyone's."""
        txn = self.txn
        if stmt.is_ddl:
            for table in _changed_tables(stmt.text, stmt.analysis.obj):
                self.schema.changed(table)
        elif stmt.commits and txn is not None and txn.ddl:
            for table in txn.changes:
                self.schema.changed(table)

    def ran(self, stmt: Statement) -> None:
        """``stmt`` was accepted for running in the current transaction."""
        if self.txn is None:
            return
        analysis = stmt.analysis
        self.txn.tables.update(bare(t) for t in (*analysis.reads, *analysis.writes))
        self.txn.tables.update(bare(t) for t in analysis.locked)
        if stmt.is_ddl:
            changes = _changed_tables(stmt.text, stmt.analysis.obj)
            self.txn.changes.extend(changes)
            self.txn.tables.update(t for t in changes if t is not None)
            self.txn.ddl += 1
        if stmt.is_dml:
            self.txn.dml = True

    def completed(self, stmt: Statement, tag: str) -> Refusal | None:
        """``stmt`` finished with command tag ``tag``; the refusal when it crossed the row
        limit or the write size (the caller fails the statement and the transaction).

        The bytes a statement writes are estimated, not measured: the literal data its text
        carries (the lint's payload: string literals, ``repeat`` sizes) — once for an
        ``INSERT … VALUES``, once per row written otherwise — plus the Bind values and COPY
        data it arrived with. Data a statement computes from other rows (``INSERT …
        SELECT`` of a wide table) is not counted."""
        if not stmt.writes_rows:
            return None
        extra, self.pending_bytes = self.pending_bytes, 0
        rows = rows_modified(tag)
        payload = stmt.analysis.payload
        size = extra + (payload if stmt.static_rows is not None else payload * rows)
        txn = self.txn
        if txn is None:
            if rows > ROW_LIMIT:
                return _TOO_MANY_ROWS
            return self.limits.too_big if size > self.limits.write_bytes else None
        txn.rows += rows
        txn.written += size
        if txn.rows > ROW_LIMIT:
            return _TOO_MANY_ROWS
        return self.limits.too_big if txn.written > self.limits.write_bytes else None


@functools.lru_cache(maxsize=1024)
def _changed_tables(text: str, obj: str | None) -> tuple[str | None, ...]:
    """The tables a DDL statement changes: the object the lint names, else the tables a
    ``DROP TABLE``/``VIEW``, ``GRANT`` or ``REVOKE`` names; ``(None,)`` — every table —
    when neither says (``DROP INDEX``: its table is not in the text)."""
    if obj:
        return (bare(obj),)
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        node = sqlglot.parse_one(text, read="postgres")
    except SqlglotError:
        return (None,)
    names = tuple(bare(t.name) for t in node.find_all(exp.Table) if t.name)
    if "SCHEMA" in words(text):  # ON SCHEMA s, ON ALL TABLES IN SCHEMA s: not one table
        return (None,)
    dropped = isinstance(node, exp.Drop) and node.args.get("kind") in ("TABLE", "VIEW")
    if names and (dropped or isinstance(node, exp.Grant | exp.Revoke)):
        return names
    return (None,)
