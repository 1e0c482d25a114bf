"""Schema parity of one table pair across dialects.

Compared on meaning, never on rendered text: columns by mapped name and type class
(:func:`harness.db.typemap.compare`), nullability, defaults (read through sqlglot), primary keys,
unique constraints and unique indexes together (they enforce the same thing), foreign keys
and plain indexes by their columns (names rarely survive a migration). Identifiers are
compared as names, however each side quotes them. Views are compared in
:mod:`harness.checks.views`.

Where a type narrows, the data decides: the source column's actual values are checked
against the target type inside the source database. From a SQLite source, whose declared
widths are never enforced (its INTEGER is always 64-bit), a narrowing whose values all fit is
a warning stating so; from a PostgreSQL source the declared type is a contract the
application may rely on, so narrowing stays an error, with the same evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlglot
from sqlglot import exp

from harness.checks import constraints, enums, narrowing, waivers
from harness.db import typemap as types
from harness.db.catalog import Index, Table
from harness.db.database import Database, FitReport
from harness.db.sqltext import postgres_expression
from harness.db.typemap import Compat
from harness.plan.model import ExpectedDifference
from harness.plan.naming import Renamer
from harness.plan.scope import TablePair
from harness.results.check import CheckResult, Finding, FindingKind, Severity, conclude
from harness.rows.canon import CanonOptions

K, S = FindingKind, Severity

AREA = "schema"
"""The area of the schema checks (the registry reads it: harness.capabilities)."""


def check_table(
    pair: TablePair,
    source: Table | None,
    target: Table | None,
    *,
    renamer: Renamer,
    source_db: Database,
    target_dialect: str,
    expected: tuple[ExpectedDifference, ...] = (),
    options: Mapping[str, CanonOptions] | None = None,
) -> CheckResult:
    """Compare one table pair; findings become a pass, fail or waived result. ``options``
    are row parity's per-column value options (source column names), so that a narrowing
    counts the values that row parity will see change."""
    findings: list[Finding] = []
    evidence: dict[str, Any] = {"source_table": pair.source, "target_table": pair.target}
    if source is None and target is not None:
        findings.append(
            Finding(K.EXTRA_TABLE, S.WARNING, pair.id, f"table {pair.id} exists only on the target")
        )
    elif target is None and source is not None:
        findings.append(
            Finding(
                K.MISSING_TABLE,
                S.ERROR,
                pair.id,
                f"table {pair.id} is missing on the target",
                source=source.name,
            )
        )
    elif source is not None and target is not None:
        _Comparison(
            pair, source, target, renamer, source_db, target_dialect, findings, evidence
        ).run(dict(options or {}))
    findings = waivers.apply(findings, expected, pair)
    ok = "exists only on the target" if source is None else "schema matches"
    return conclude(AREA, pair.id, findings, evidence, ok=ok)


def _bounded(info: types.TypeInfo) -> bool:
    """Whether a type refuses, rounds or drops part of some values SQLite would keep."""
    return (
        info.length is not None
        or info.scale is not None
        or (info.family == "integer" and (info.bits or 64) < 64)
        or (info.family == "float" and info.bits == 24)
        or (info.family in ("timestamp", "timestamptz", "time") and info.precision is not None)
        or info.family in ("timestamp", "date")  # text's offset, a date's time of day: dropped
    )


def _listed(columns: Iterable[str]) -> str:
    """Columns as a finding shows them on each side: ``(a, b)``."""
    return f"({', '.join(columns)})"


class _Comparison:
    """The comparison of two existing tables; collects findings and evidence."""

    def __init__(
        self,
        pair: TablePair,
        source: Table,
        target: Table,
        renamer: Renamer,
        source_db: Database,
        target_dialect: str,
        findings: list[Finding],
        evidence: dict[str, Any],
    ) -> None:
        self.pair, self.source, self.target, self.renamer = pair, source, target, renamer
        self.db, self.target_dialect = source_db, target_dialect
        self.findings, self.evidence = findings, evidence
        self.value_options: dict[str, CanonOptions] = {}

    def add(
        self,
        kind: FindingKind,
        severity: Severity,
        message: str,
        *,
        column: str | None = None,
        source: object = None,
        target: object = None,
    ) -> None:
        self.findings.append(
            Finding(
                kind,
                severity,
                self.pair.id,
                message,
                column,
                None if source is None else str(source),
                None if target is None else str(target),
            )
        )

    def mapped(self, columns: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.pair.target_column(c) for c in columns)

    def run(self, options: dict[str, CanonOptions]) -> None:
        self.value_options = options
        self.columns()
        self.keys()
        self.indexes()
        rewritten = {self.pair.target_column(c.name) for c in self.source.columns if c.labels}
        self.findings.extend(
            constraints.compare(
                self.pair,
                self.source,
                self.target,
                (self.db.dialect, self.target_dialect),
                rewritten=rewritten,
            )
        )

    def columns(self) -> None:
        rows: list[dict[str, Any]] = []
        mapped_targets = set()
        for column in self.source.columns:
            name = self.pair.target_column(column.name)
            mapped_targets.add(name)
            other = self.target.column(name)
            row: dict[str, Any] = {
                "source": column.name,
                "source_type": column.declared_type,
                "target": name if other else None,
            }
            rows.append(row)
            if other is None:
                self.add(
                    K.MISSING_COLUMN,
                    S.ERROR,
                    f"column {self.pair.id}.{name} is missing on the target",
                    column=name,
                    source=column.declared_type,
                )
                continue
            row["target_type"] = other.declared_type
            s_type = types.parse(column.declared_type, self.db.dialect)
            t_type = types.parse(other.declared_type, self.target_dialect)
            if column.labels and enums.is_text(other, self.target_dialect):
                row["class"] = "enum"
                checks = self.target.checks_on(other)
                obj = f"{self.pair.id}.{name}"
                for found in enums.compare(column, other, checks, obj, self.target_dialect):
                    self.add(
                        found.kind,
                        found.severity,
                        found.message,
                        column=name,
                        source=column.declared_type,
                        target=other.declared_type,
                    )
            else:
                compat = types.compare(s_type, t_type)
                row["class"] = compat.value
                self.type_change(column.name, name, s_type, t_type, compat, row)
            self.nullability(column.name, name, column.nullable, other.nullable)
            self.default(name, column.default, other.default, t_type.family)
        for other in self.target.columns:
            if other.name in mapped_targets:
                continue
            rows.append({"source": None, "target": other.name, "target_type": other.declared_type})
            blocks_inserts = not other.nullable and other.default is None
            self.add(
                K.EXTRA_COLUMN,
                S.ERROR if blocks_inserts else S.WARNING,
                f"column {self.pair.id}.{other.name} exists only on the target"
                + (
                    " and is NOT NULL without a default: the application's inserts will fail"
                    if blocks_inserts
                    else ""
                ),
                column=other.name,
                target=other.declared_type,
            )
        self.evidence["columns"] = rows

    def type_change(
        self,
        src_name: str,
        name: str,
        s_type: types.TypeInfo,
        t_type: types.TypeInfo,
        compat: Compat,
        row: dict[str, Any],
    ) -> None:
        obj = f"{self.pair.id}.{name}"
        if compat is Compat.EQUIVALENT:
            self.unenforced(src_name, name, s_type, t_type, row)
            return
        if compat is Compat.WIDENING:
            self.add(
                K.TYPE_WIDENING,
                S.INFO,
                f"{obj} widens {s_type.name} → {t_type.name}",
                column=name,
                source=s_type.name,
                target=t_type.name,
            )
            return
        if compat is Compat.INCOMPATIBLE:
            self.add(
                K.TYPE_INCOMPATIBLE,
                S.ERROR,
                f"{obj} changes kind: {s_type.name} → {t_type.name}",
                column=name,
                source=s_type.name,
                target=t_type.name,
            )
            return
        fit = self.fit(src_name, s_type, t_type)
        unenforced = self.db.dialect == "sqlite"
        if fit is None:
            self.add(
                K.TYPE_NARROWING,
                S.ERROR,
                f"{obj} narrows {s_type.name} → {t_type.name}; its values cannot be tested"
                " for the move here, so the declared types decide",
                column=name,
                source=s_type.name,
                target=t_type.name,
            )
            return
        row["values_fit"] = fit.to_dict()
        if fit.unfit == 0:
            verdict = f"all {fit.values} source values fit"
            if fit.minimum is not None:
                verdict += f" (min {fit.minimum}, max {fit.maximum})"
            severity = S.WARNING if unenforced else S.ERROR
            why = (
                "SQLite does not enforce the declared width"
                if unenforced
                else "the declared source type is a contract"
            )
            message = f"{obj} narrows {s_type.name} → {t_type.name}; {verdict}; {why}"
        else:
            severity = S.ERROR
            message = (
                f"{obj} narrows {s_type.name} → {t_type.name}; {fit.unfit} of {fit.values}"
                f" source values would change or not fit (e.g. {fit.example})"
            )
        self.add(
            K.TYPE_NARROWING, severity, message, column=name, source=s_type.name, target=t_type.name
        )

    def fit(
        self, src_name: str, s_type: types.TypeInfo, t_type: types.TypeInfo
    ) -> FitReport | None:
        """How many of the column's values the move would change (None: cannot be tested)."""
        options = self.value_options.get(src_name, CanonOptions())
        return narrowing.fit(self.db, self.source.name, src_name, s_type, t_type, options)

    def unenforced(
        self,
        src_name: str,
        name: str,
        s_type: types.TypeInfo,
        t_type: types.TypeInfo,
        row: dict[str, Any],
    ) -> None:
        """SQLite declares NUMERIC(10,2) or VARCHAR(20) without enforcing either: where the
        target will, the values are tested for the move even though the types match."""
        if self.db.dialect != "sqlite" or not _bounded(t_type):
            return
        fit = self.fit(src_name, s_type, t_type)
        if fit is None or fit.unfit == 0:
            return
        row["values_fit"] = fit.to_dict()
        self.add(
            K.TYPE_NARROWING,
            S.ERROR,
            f"{self.pair.id}.{name} is {t_type.name} on both sides, but SQLite does not enforce"
            f" it: {fit.unfit} of {fit.values} source values would change or not fit"
            f" (e.g. {fit.example})",
            column=name,
            source=s_type.name,
            target=t_type.name,
        )

    def nullability(self, src_name: str, name: str, src_nullable: bool, tgt_nullable: bool) -> None:
        obj = f"{self.pair.id}.{name}"
        if src_nullable and not tgt_nullable:
            nulls = self.db.count_nulls(self.source.name, src_name)
            if nulls:
                self.add(
                    K.NULLABILITY,
                    S.ERROR,
                    f"{obj} is NOT NULL on the target but {nulls} source rows hold NULL",
                    column=name,
                    source="NULL",
                    target="NOT NULL",
                )
            else:
                self.add(
                    K.NULLABILITY,
                    S.WARNING,
                    f"{obj} is NOT NULL on the target only (no source row holds NULL)",
                    column=name,
                    source="NULL",
                    target="NOT NULL",
                )
        elif tgt_nullable and not src_nullable:
            self.add(
                K.NULLABILITY,
                S.WARNING,
                f"{obj} accepts NULL on the target but not on the source",
                column=name,
                source="NOT NULL",
                target="NULL",
            )

    def default(self, name: str, src: str | None, tgt: str | None, family: str) -> None:
        s = normalize_default(src, self.db.dialect, family)
        t = normalize_default(tgt, self.target_dialect, family)
        if s != t and not (s == "<auto>" or (t == "<auto>" and s is None)):
            self.add(
                K.DEFAULT,
                S.WARNING,
                f"{self.pair.id}.{name} default differs: {src or 'none'} → {tgt or 'none'}",
                column=name,
                source=src,
                target=tgt,
            )

    def keys(self) -> None:
        s_pk, t_pk = self.mapped(self.source.primary_key), self.target.primary_key
        if s_pk != t_pk:
            self.add(
                K.PRIMARY_KEY,
                S.ERROR,
                f"primary key differs: ({', '.join(s_pk) or 'none'}) → "
                f"({', '.join(t_pk) or 'none'})",
                source=_listed(s_pk),
                target=_listed(t_pk),
            )
        s_uniq = {frozenset(self.mapped(u)) for u in _uniques(self.source)}
        t_uniq = {frozenset(u) for u in _uniques(self.target)}
        for cols in sorted(s_uniq - t_uniq, key=sorted):
            self.add(
                K.UNIQUE,
                S.ERROR,
                f"unique ({', '.join(sorted(cols))}) is missing on the target",
                source=_listed(sorted(cols)),
            )
        for cols in sorted(t_uniq - s_uniq, key=sorted):
            self.add(
                K.UNIQUE,
                S.WARNING,
                f"unique ({', '.join(sorted(cols))}) exists only on the "
                "target: writes the source accepted may be rejected",
                target=_listed(sorted(cols)),
            )
        s_fk = {
            (
                self.mapped(f.columns),
                self.renamer.table(f.ref_table),
                tuple(self.renamer.column(f.ref_table, c) for c in f.ref_columns),
            )
            for f in self.source.foreign_keys
        }
        t_fk = {(f.columns, f.ref_table, f.ref_columns) for f in self.target.foreign_keys}
        for fk_cols, ref, ref_cols in sorted(s_fk - t_fk):
            self.add(
                K.FOREIGN_KEY,
                S.WARNING,
                f"foreign key ({', '.join(fk_cols)}) → {ref}"
                f"({', '.join(ref_cols)}) is missing on the target",
            )
        for fk_cols, ref, ref_cols in sorted(t_fk - s_fk):
            self.add(
                K.FOREIGN_KEY,
                S.WARNING,
                f"foreign key ({', '.join(fk_cols)}) → {ref}"
                f"({', '.join(ref_cols)}) exists only on the target",
            )

    def indexes(self) -> None:
        """Plain, partial and expression indexes, compared by what they index, not by name."""
        source = {
            _index_shape(i, self.db.dialect, self.pair.target_column)
            for i in self.source.indexes
            if not _plain_unique(i)
        }
        target = {
            _index_shape(i, self.target_dialect, str)
            for i in self.target.indexes
            if not _plain_unique(i)
        }
        for shape in sorted(source - target, key=_shape_order):
            unique = shape[2]
            self.add(
                K.UNIQUE if unique else K.MISSING_INDEX,
                S.ERROR if unique else S.WARNING,
                f"{_described(shape)} is missing on the target: "
                + (
                    "duplicates it rejects would be accepted"
                    if unique
                    else "queries filtering on it may slow down"
                ),
                source=_described(shape),
            )
        for shape in sorted(target - source, key=_shape_order):
            unique = shape[2]
            self.add(
                K.UNIQUE if unique else K.EXTRA_INDEX,
                S.WARNING if unique else S.INFO,
                f"{_described(shape)} exists only on the target"
                + (": writes the source accepted may be rejected" if unique else ""),
                target=_described(shape),
            )
        self.evidence["indexes"] = {
            "source": sorted(map(_described, source)),
            "target": sorted(map(_described, target)),
        }


# (key columns or expressions, predicate, unique), in one spelling for both sides.
_IndexShape = tuple[tuple[str, ...], str | None, bool]


def _plain_unique(index: Index) -> bool:
    """Unique on plain columns: compared with the unique constraints (same guarantee)."""
    return index.unique and not index.partial and not index.expressions


def _index_shape(index: Index, dialect: str, column: Callable[[str], str]) -> _IndexShape:
    keys = tuple(
        postgres_expression(key, dialect, column) if i in index.expressions else column(key)
        for i, key in enumerate(index.columns)
    )
    predicate = postgres_expression(index.predicate, dialect, column) if index.predicate else None
    return keys, predicate, index.unique


def _shape_order(shape: _IndexShape) -> tuple[tuple[str, ...], str, bool]:
    """Shapes in a stable order; a plain index sorts before a partial one on the same keys."""
    keys, predicate, unique = shape
    return keys, predicate or "", unique


def _described(shape: _IndexShape) -> str:
    keys, predicate, unique = shape
    where = f" WHERE {predicate}" if predicate else ""
    return f"{'unique index' if unique else 'index'} on ({', '.join(keys)}){where}"


def _uniques(table: Table) -> set[tuple[str, ...]]:
    """Unique constraints and unique indexes: both enforce uniqueness the same way."""
    out = set(table.unique_constraints)
    out.update(i.columns for i in table.indexes if _plain_unique(i))
    out.discard(table.primary_key)
    return out


def normalize_default(text: str | None, dialect: str, family: str) -> str | None:
    """A default in a dialect-neutral form: ``'USD'::character varying`` reads as ``'USD'``."""
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered.startswith(("nextval(", "generated ")):
        return "<auto>"  # sequences and identities: how keys are generated, not a value
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError:
        return lowered
    while isinstance(tree, exp.Cast | exp.Paren):
        tree = tree.this
    if family == "boolean":
        value = tree.sql().lower()
        return {"1": "true", "0": "false", "'t'": "true", "'f'": "false"}.get(value, value)
    if isinstance(tree, exp.Literal) and not tree.is_string:
        try:
            return repr(float(tree.this))
        except ValueError:
            return str(tree.this)
    if isinstance(tree, exp.CurrentTimestamp | exp.Anonymous) and tree.sql().lower() in (
        "current_timestamp",
        "now()",
        "localtimestamp",
    ):
        return "current_timestamp"
    return tree.sql(dialect="postgres").lower()
