"""A dialect-neutral model of a database schema, filled by :mod:`harness.db.introspect`.

Everything here is plain, frozen data so it can be compared, hashed into evidence and sent
between pytest-xdist workers. Names are kept exactly as the database reports them; mapping
source names onto target names (renames, naming policies) is :mod:`harness.plan.naming`'s job.
Names are names, never SQL: ``Code``, not ``"Code"``, whichever way the database spells them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """One column as declared, with its type also in the harness's normal form."""

    name: str
    declared_type: str
    """The type text the database reports (``NVARCHAR(160)``, ``character varying(160)``)."""
    type: str
    """Normalised type (:func:`harness.db.typemap.normalize`), e.g. ``varchar(160)``."""
    nullable: bool
    default: str | None
    position: int
    labels: tuple[str, ...] = ()
    """An enum column's labels in their sort order; empty for every other type."""
    domain_checks: tuple[str, ...] = ()
    """A domain column's CHECK expressions (``VALUE`` for the column)."""
    base_type: str | None = None
    """A domain column's underlying type as the database reports it."""


@dataclass(frozen=True)
class Index:
    """A (possibly unique) index; compared by columns, not by name, since names rarely survive."""

    name: str
    columns: tuple[str, ...]
    """Key columns; an expression key is its SQL text in the side's own dialect."""
    unique: bool
    predicate: str | None = None
    """The WHERE of a partial index, as SQL text in the side's own dialect."""
    expressions: tuple[int, ...] = ()
    """Positions in ``columns`` that hold expressions rather than column names."""

    @property
    def partial(self) -> bool:
        return self.predicate is not None


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key from ``columns`` to ``ref_table(ref_columns)``."""

    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """A CHECK constraint: the columns it reads and its expression in the side's dialect."""

    columns: tuple[str, ...]
    expression: str
    name: str | None = None


@dataclass(frozen=True)
class Table:
    """A base table with its keys, constraints and indexes."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    unique_constraints: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    checks: tuple[Check, ...] = ()

    def column(self, name: str) -> Column | None:
        """The column called ``name``, or None."""
        return next((c for c in self.columns if c.name == name), None)

    def checks_on(self, column: Column) -> tuple[str, ...]:
        """The CHECKs that read ``column`` alone: its domain's, then its table's."""
        own = (c.expression for c in self.checks if c.columns == (column.name,))
        return (*column.domain_checks, *own)


@dataclass(frozen=True)
class View:
    """A view: its presence, columns and definition are compared."""

    name: str
    columns: tuple[str, ...]
    definition: str = ""
    """As the database keeps it: SQLite the whole ``CREATE VIEW`` as written, PostgreSQL its
    own rendering of the query; compared through :func:`harness.db.sqltext.view_query`."""


@dataclass(frozen=True)
class Catalog:
    """All tables and views of one schema of one database."""

    dialect: str
    """``sqlite`` or ``postgres``."""
    schema: str | None
    tables: tuple[Table, ...]
    views: tuple[View, ...] = field(default=())

    def table(self, name: str) -> Table | None:
        """The table called ``name``, or None."""
        return next((t for t in self.tables if t.name == name), None)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)
