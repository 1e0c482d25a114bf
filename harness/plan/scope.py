"""Which tables are compared, and which target table answers for each source table.

Selection patterns and every table the plan names match either the source or the target
name, so a plan reads naturally whichever side its author had in mind. A table the plan
names that exists on neither side is a :class:`~harness.errors.PlanError`: a typo must not
silently drop a key, a rename or a waiver.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from harness.db.catalog import Catalog, Table
from harness.errors import PlanError, did_you_mean
from harness.plan.model import Plan
from harness.plan.naming import Renamer


@dataclass(frozen=True)
class TablePair:
    """A source table and the target table expected to hold the same rows."""

    id: str
    """Readable id: the target name, or the source name when the target lacks the table."""
    source: str | None
    target: str | None
    columns: tuple[tuple[str, str], ...] = ()
    """(source column, expected target column) for every source column."""
    keys: tuple[str, ...] = ()
    """The row key from the plan's ``tables.keys``: the entry under the source name, else the
    one under the target name. Empty: the source's primary key, and without one a multiset
    comparison. The row check reads its key here and nowhere else."""

    def target_column(self, source_column: str) -> str:
        return dict(self.columns).get(source_column, source_column)


@dataclass(frozen=True)
class Scope:
    """The table pairs of a run, in a stable order."""

    pairs: tuple[TablePair, ...]
    renamer: Renamer

    def pair(self, pair_id: str) -> TablePair:
        return next(p for p in self.pairs if p.id == pair_id)


def _selected(plan: Plan, *names: str | None) -> bool:
    candidates = [n for n in names if n]
    included = any(fnmatchcase(n, pat) for n in candidates for pat in plan.tables.include)
    excluded = any(fnmatchcase(n, pat) for n in candidates for pat in plan.tables.exclude)
    return included and not excluded


def build_scope(plan: Plan, source: Catalog, target: Catalog) -> Scope:
    """Pair source and target tables per the plan's renames and selection."""
    renamer = Renamer(plan.renames)
    _check_named_tables(plan, source, target, renamer)
    pairs: list[TablePair] = []
    claimed: set[str] = set()
    for table in source.tables:
        expected = renamer.table(table.name)
        present = target.table(expected) is not None
        claimed.add(expected)  # even when excluded: its target twin is excluded with it
        if not _selected(plan, table.name, expected):
            continue
        keys = plan.tables.keys.get(table.name) or plan.tables.keys.get(expected) or ()
        pairs.append(
            TablePair(
                id=expected if present else table.name,
                source=table.name,
                target=expected if present else None,
                columns=tuple((c.name, renamer.column(table.name, c.name)) for c in table.columns),
                keys=tuple(keys),
            )
        )
    for table in target.tables:
        if table.name not in claimed and _selected(plan, table.name):
            pairs.append(TablePair(id=table.name, source=None, target=table.name))
    return Scope(tuple(sorted(pairs, key=lambda p: p.id)), renamer)


def _check_named_tables(plan: Plan, source: Catalog, target: Catalog, renamer: Renamer) -> None:
    known = {
        *source.table_names,
        *target.table_names,
        *(v.name for v in source.views),
        *(v.name for v in target.views),
    }
    named: list[tuple[str, str]] = [(f"tables.keys.{n}", n) for n in plan.tables.keys]
    named += [(f"tables.include: {n}", n) for n in plan.tables.include if not _is_glob(n)]
    named += [(f"renames.tables.{n}", n) for n in plan.renames.tables]
    named += [(f"renames.columns.{n}", n) for n in plan.renames.columns]
    named += [
        (f"expected_differences.{i}.table", d.table)
        for i, d in enumerate(plan.expected_differences)
        if d.table is not None
    ]
    for key, name in named:
        if name not in known:
            raise PlanError(
                f"table '{name}' is in neither the source nor the target."
                + did_you_mean(name, known),
                key=key,
            )
    for table_name, columns in plan.renames.columns.items():
        _check_columns(source.table(table_name), columns, f"renames.columns.{table_name}")
    for table_name, keys in plan.tables.keys.items():
        table = source.table(table_name) or target.table(table_name)
        _check_columns(table, keys, f"tables.keys.{table_name}")


def _check_columns(table: Table | None, columns: object, key: str) -> None:
    if table is None:
        return
    names = [c.name for c in table.columns]
    for column in columns:  # type: ignore[attr-defined]
        if column not in names:
            raise PlanError(
                f"table '{table.name}' has no column '{column}'.{did_you_mean(column, names)}",
                key=key,
            )


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")
