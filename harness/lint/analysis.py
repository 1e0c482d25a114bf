"""The per-statement result of analysis, before positions, suppressions and context are added.

Kept apart from :mod:`harness.lint.report` because it is the engine's working data: plain
and picklable (it is what worker processes send back), with the facts the transaction and
script passes need (category, rows, tables read and written, objects created).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DDL = "ddl"
DML = "dml"
QUERY = "query"
BEGIN = "begin"
COMMIT = "commit"
ROLLBACK = "rollback"
SESSION = "session"
CLIENT = "client"
"""psql meta-commands: never sent to the server."""

UNBOUNDED = -1
"""``rows`` value for a statement that may touch every row of a table."""


@dataclass(slots=True)
class Hit:
    """A rule firing, with an optional regex that locates the offending words."""

    rule: str
    message: str
    anchor: str | None = None
    subject: str | None = None
    """For DSQL040 on a user-defined type: its bare name, so the script pass can clear it
    when the script itself creates that type as a (supported) domain."""


@dataclass(slots=True)
class Analysis:
    """What one statement is and which statement-level rules it fires."""

    kind: str
    category: str = SESSION
    method: str = "prescan"
    hits: list[Hit] = field(default_factory=list)
    unanalysed: bool = False
    rows: int = 0
    """Rows the statement may modify: 0 (none or few), a count, or :data:`UNBOUNDED`."""
    payload: int = 0
    """Estimated bytes written (string literals, ``repeat`` sizes)."""
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    locked: tuple[str, ...] = ()
    """Tables read with FOR UPDATE / FOR KEY SHARE (in the OCC conflict set)."""
    obj: str | None = None
    """The object the statement defines or changes."""
    creates: tuple[tuple[str, str], ...] = ()
    """(kind, name) of objects created: ``("table", "orders")``, ``("index", "orders")``…"""
    primary_key: tuple[str, ...] = ()
    """Key columns declared for ``obj`` (CREATE TABLE or ADD PRIMARY KEY)."""
    key_columns: int = 0
    """Columns in the widest key (PK, UNIQUE, index) this statement declares."""
    dropped_columns: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    """Bare names of the functions the statement calls that are not built in (views,
    defaults, queries): the script pass reports a call of one the script failed to create."""
    refers: tuple[tuple[str, str], ...] = ()
    """(kind, bare name) of an existing routine the statement acts on (``ALTER FUNCTION …
    OWNER TO``, ``COMMENT ON FUNCTION``, ``GRANT … ON FUNCTION``)."""

    def hit(self, rule: str, message: str, anchor: str | None = None) -> None:
        self.hits.append(Hit(rule, message, anchor))


def bare(name: str) -> str:
    """``"Public"."Orders"`` → ``orders``: the key the script model matches tables by."""
    return name.rsplit(".", 1)[-1].strip('"').lower()
