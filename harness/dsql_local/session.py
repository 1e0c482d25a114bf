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
from dataclasses import dataclass

from harness.dsql_local.protocol import rows_modified
from harness.dsql_local.rules import Refusal
from harness.dsql_local.statement import Statement

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
    doomed: bool = False
    """A statement met another transaction's row lock: COMMIT will fail with 40001 (OC000)."""


class Session:
    """The transaction state of one client connection."""

    def __init__(self) -> None:
        self.status = Status.IDLE
        self.txn: Transaction | None = None

    @property
    def doomed(self) -> bool:
        return self.txn is not None and self.txn.doomed

    @property
    def implicit(self) -> bool:
        """An implicit transaction (one query's statements) is running in the server."""
        return self.txn is not None and not self.txn.explicit

    def begin(self, *, explicit: bool) -> None:
        if explicit and self.txn is not None and not self.txn.explicit:
            self.txn.explicit = True  # BEGIN inside a multi-statement query takes it over
        elif self.txn is None:
            self.txn = Transaction(explicit=explicit)
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
        if stmt.is_ddl:
            if txn.ddl:
                return _TWO_DDL
            if txn.dml:
                return _DDL_AND_DML
        if stmt.is_dml and txn.ddl:
            return _DDL_AND_DML
        return None

    def ran(self, stmt: Statement) -> None:
        """``stmt`` was accepted for running in the current transaction."""
        if self.txn is None:
            return
        if stmt.is_ddl:
            self.txn.ddl += 1
        if stmt.is_dml:
            self.txn.dml = True

    def completed(self, stmt: Statement, tag: str) -> Refusal | None:
        """``stmt`` finished with command tag ``tag``; the refusal when it crossed the row
        limit (the caller fails the statement and the transaction)."""
        if not stmt.writes_rows:
            return None
        rows = rows_modified(tag)
        if self.txn is None:
            return _TOO_MANY_ROWS if rows > ROW_LIMIT else None
        self.txn.rows += rows
        return _TOO_MANY_ROWS if self.txn.rows > ROW_LIMIT else None
