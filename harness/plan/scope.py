"""Which tables are compared, and which target table answers for each source table.

Selection patterns and every table the plan names match either the source or the target
name, so a plan reads naturally whichever side its author had in mind. A table the plan
names that exists on neither side is a :class:`~harness.errors.PlanError`: a typo must not
silently drop a key, a rename or a waiver. So is a rename to a table the target lacks: every
pair has its own id, and so every check its own.

:func:`check_scope` holds what a verification run asks beyond pairing: every column the plan
names exists, there is a table to compare (unless ``tables.allow_empty`` says an empty run is
expected), since a run that compared nothing must not end GO, and the row comparison can read
the target (not yet a SQLite one).
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
        columns = tuple((c.name, renamer.column(table.name, c.name)) for c in table.columns)
        keys = plan.tables.keys.get(table.name) or plan.tables.keys.get(expected) or ()
        pairs.append(
            TablePair(
                id=expected if present else table.name,
                source=table.name,
                target=expected if present else None,
                columns=columns,
                keys=_source_names(keys, columns),
            )
        )
    for table in target.tables:
        if table.name not in claimed and _selected(plan, table.name):
            pairs.append(TablePair(id=table.name, source=None, target=table.name))
    _check_unique_ids(plan, pairs, renamer)
    return Scope(tuple(sorted(pairs, key=lambda p: p.id)), renamer)


def _source_names(keys: tuple[str, ...], columns: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """A ``tables.keys`` entry in the row check's terms, source column names: an entry may be
    written under either table's name, so in either side's column names."""
    sources = {s for s, _ in columns}
    back = {t: s for s, t in columns}
    return tuple(k if k in sources else back.get(k, k) for k in keys)


def _check_unique_ids(plan: Plan, pairs: list[TablePair], renamer: Renamer) -> None:
    """Two pairs with one id would be two checks with one id: say which rename causes it."""
    by_id: dict[str, list[TablePair]] = {}
    for pair in pairs:
        by_id.setdefault(pair.id, []).append(pair)
    for pair_id, same in sorted(by_id.items()):
        if len(same) < 2:
            continue
        sources = sorted(p.source for p in same if p.source is not None)
        explicit = [s for s in sources if s in plan.renames.tables]
        if len(sources) > 1:
            key = f"renames.tables.{explicit[-1]}" if explicit else "renames.policy"
            raise PlanError(
                f"source tables {' and '.join(repr(s) for s in sources)} all become target "
                f"table '{pair_id}'; rename each to a table of its own.",
                key=key,
            )
        # A source table whose expected name the target lacks, beside an unpaired target
        # table of the source table's own name: the policy renamed a table the target kept.
        source = sources[0]
        raise PlanError(
            f"source table '{source}' becomes '{renamer.table(source)}' under policy "
            f"{plan.renames.policy}, which is not on the target, while the target has "
            f"'{pair_id}'. Map it in renames.tables ({source}: {pair_id}) if the table kept "
            "its name.",
            key="renames.policy",
        )


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
    for table_name, renamed in plan.renames.tables.items():
        if target.table(renamed) is None:
            raise PlanError(
                f"table '{table_name}' is renamed to '{renamed}', which is not on the target."
                + did_you_mean(renamed, target.table_names),
                key=f"renames.tables.{table_name}",
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


def check_scope(plan: Plan, scope: Scope, source: Catalog, target: Catalog) -> None:
    """What a verification run needs beyond :func:`build_scope`'s pairing (a PlanError
    otherwise): every column ``rows.columns`` and the expected differences name exists, there
    is a table to compare, unless ``tables.allow_empty`` says none is expected.

    Separate from the pairing because a check's own tests pair hand-made catalogs with
    waivers that match nothing on purpose; a user's plan that names a missing column has a
    typo, and a run that compares no table proves nothing.
    """
    _check_row_columns(plan, source, target)
    _check_waived_columns(plan, source, target, scope.renamer)
    if not plan.tables.allow_empty:
        if not source.tables:
            raise PlanError(
                "the source has no tables, so no table would be compared; if an empty source is "
                "expected, say so with tables.allow_empty: true",
                key="tables",
            )
        if not scope.pairs:
            raise PlanError(_nothing_selected(plan, source, target), key="tables")


def _check_row_columns(plan: Plan, source: Catalog, target: Catalog) -> None:
    """``rows.columns`` keys are ``table.column`` in source names (as the row check reads them)."""
    for name in plan.rows.columns:
        key = f"rows.columns: {name}"
        owners = [t for t in source.tables if name.startswith(f"{t.name}.")]
        if not owners:
            table_name = name.rpartition(".")[0]
            hint = (
                " (rows.columns names source tables: this is a target table)"
                if target.table(table_name) is not None
                else ""
            )
            raise PlanError(
                f"table '{table_name}' is not on the source{hint}."
                + did_you_mean(table_name, source.table_names),
                key=key,
            )
        table = max(owners, key=lambda t: len(t.name))
        _check_columns(table, [name.removeprefix(f"{table.name}.")], key)


def _check_waived_columns(plan: Plan, source: Catalog, target: Catalog, renamer: Renamer) -> None:
    """An expected difference's column is named as on the source or the target (as findings
    are matched): it must be a column of the table it names, or of that table's pair."""
    for index, diff in enumerate(plan.expected_differences):
        if diff.table is None or diff.column is None:
            continue
        tables = {diff.table, renamer.table(diff.table)}
        tables |= {t.name for t in source.tables if renamer.table(t.name) == diff.table}
        names: set[str] = set()
        for catalog in (source, target):
            for table in catalog.tables:
                if table.name in tables:
                    names.update(c.name for c in table.columns)
            for view in catalog.views:
                if view.name in tables:
                    names.update(view.columns)
        if names and diff.column not in names:
            raise PlanError(
                f"table '{diff.table}' has no column '{diff.column}' on either side."
                + did_you_mean(diff.column, sorted(names)),
                key=f"expected_differences.{index}.column",
            )


def _nothing_selected(plan: Plan, source: Catalog, target: Catalog) -> str:
    """Why the selection is empty, with the tables there are to choose from."""
    names = sorted({*source.table_names, *target.table_names})
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    include = f"include [{', '.join(plan.tables.include)}]"
    if not any(fnmatchcase(n, p) for n in names for p in plan.tables.include):
        return f"no table matches {include}, so none would be compared (tables: {shown})"
    return (
        f"exclude [{', '.join(plan.tables.exclude)}] leaves none of the tables {include} "
        f"selects, so none would be compared (tables: {shown})"
    )


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")
