"""Rules that need the statements around a statement: transactions and the script's schema.

DSQL runs every statement outside ``BEGIN … COMMIT`` as its own transaction, allows one DDL
per transaction and no DDL next to DML, and caps a transaction at 3,000 modified rows and
10 MiB (dsql-compat.md §1g/§1h). The script pass keeps a small schema model — primary keys,
index and object counts — for the limits no single statement shows (§1a DSQL015/016, §1f
DSQL084). The part of that model a later migration relies on (domains, user-defined types,
primary keys) is a :class:`Schema` that one lint run carries from file to file in migration
order, so a type or a table created in ``V1__init.sql`` is known in ``V2__change.sql``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from harness.lint import analysis as A
from harness.lint.analysis import Analysis, Hit
from harness.lint.pack import RULES_BY_ID
from harness.results.check import Severity

ROW_LIMIT = 3000
SIZE_LIMIT = 10 * 1024 * 1024
OBJECT_LIMITS = {"schema": 10, "table": 1000, "view": 5000, "sequence": 5000}
INDEXES_PER_TABLE = 24


@dataclass
class Schema:
    """What the files linted so far created: known to the files after them (one lint run,
    in migration order)."""

    domains: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    """Enum, composite and range types (bare names)."""
    primary_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Table (bare name) → its key columns."""


def transaction_hits(
    analyses: list[Analysis], *, assume_in_transaction: bool = False
) -> list[tuple[int, Hit]]:
    """(statement index, hit) for every transaction-level rule that fires."""
    out: list[tuple[int, Hit]] = []
    in_txn = assume_in_transaction
    begun_at = 0
    ddl = dml = rows = size = 0
    first_ddl = -1
    mixed_reported = rows_reported = size_reported = False
    unlocked_reads: set[str] = set()
    warned_tables: set[str] = set()

    def reset() -> None:
        nonlocal ddl, dml, rows, size, first_ddl, mixed_reported, rows_reported, size_reported
        ddl = dml = rows = size = 0
        first_ddl = -1
        mixed_reported = rows_reported = size_reported = False
        unlocked_reads.clear()
        warned_tables.clear()

    for i, a in enumerate(analyses):
        if a.category == A.BEGIN:
            in_txn, begun_at = True, i
            reset()
            continue
        if a.category in (A.COMMIT, A.ROLLBACK):
            in_txn = False
            reset()
            continue
        if not in_txn:
            reset()
        if a.category == A.DDL:
            ddl += 1
            if in_txn and ddl == 2:
                out.append((i, Hit("DSQL090", "second DDL statement in the transaction opened "
                                   f"at statement {begun_at + 1} (first DDL: statement "
                                   f"{first_ddl + 1})")))  # fmt: skip
            first_ddl = i if first_ddl < 0 else first_ddl
        elif a.category == A.DML:
            dml += 1
        if in_txn and ddl and dml and not mixed_reported:
            mixed_reported = True
            out.append((i, Hit("DSQL091", "DDL and DML in the transaction opened at statement "
                               f"{begun_at + 1}")))  # fmt: skip
        if a.rows == A.UNBOUNDED:
            out.append((i, Hit("DSQL120", _unbounded_message(a))))
            rows_reported = True
        elif a.rows:
            rows += a.rows
            if rows > ROW_LIMIT and not rows_reported:
                rows_reported = True
                where = "this statement" if a.rows > ROW_LIMIT else "the transaction"
                out.append((i, Hit("DSQL120", f"{where} modifies {rows:,} rows; the limit is "
                                   f"{ROW_LIMIT:,} per transaction")))  # fmt: skip
        size += a.payload
        if size > SIZE_LIMIT and not size_reported:
            size_reported = True
            out.append((i, Hit("DSQL121", f"about {size / 1048576:.1f} MiB written in one "
                               "transaction; the limit is 10 MiB")))  # fmt: skip
        if in_txn:
            if a.category == A.QUERY:
                unlocked_reads.update(a.reads)
            for table in a.writes:
                if a.category == A.DML and table in unlocked_reads and table not in warned_tables:
                    warned_tables.add(table)
                    out.append((i, Hit("DSQL095", f"{table} was read without FOR UPDATE earlier in "
                                       "this transaction and is now written")))  # fmt: skip
    return out


def _unbounded_message(a: Analysis) -> str:
    if a.kind.startswith("INSERT"):
        return "INSERT … SELECT may insert more than 3,000 rows in one transaction"
    if a.kind.startswith("MERGE"):
        return "MERGE may modify more than 3,000 rows in one transaction"
    return f"{a.kind} without WHERE modifies every row (limit: 3,000 per transaction)"


def _resolve_user_types(a: Analysis, domains: set[str], types: set[str], own: set[str]) -> None:
    """Columns typed with a domain the run creates are fine (domains are supported; the
    domain's base type is checked where it is created); name enum/composite types as such
    (``own``: the types this script creates, the rest come from an earlier file)."""
    kept = []
    for hit in a.hits:
        if hit.subject in domains:
            continue
        if hit.subject in types:
            where = "in this script" if hit.subject in own else "by an earlier file"
            hit.message += f" (a user-defined type created {where}; DSQL044)"
        kept.append(hit)
    a.hits = kept


def script_hits(analyses: list[Analysis], schema: Schema | None = None) -> list[tuple[int, Hit]]:
    """(statement index, hit) for limits that need the whole script's schema. ``schema``:
    what earlier files of the run created; this script's domains, types and keys are added."""
    schema = Schema() if schema is None else schema
    out: list[tuple[int, Hit]] = []
    objects: Counter[str] = Counter()
    indexes: Counter[str] = Counter()
    primary_keys = schema.primary_keys
    own_types = {name for a in analyses for kind, name in a.creates if kind == "type"}
    schema.domains |= {name for a in analyses for kind, name in a.creates if kind == "domain"}
    schema.types |= own_types
    domains, types = schema.domains, schema.types
    rejected: dict[str, tuple[int, str, Hit]] = {}
    for i, a in enumerate(analyses):
        if domains or types:
            _resolve_user_types(a, domains, types, own_types)
        out += [(i, hit) for hit in _consequences(a, rejected)]
        for kind, name in a.creates:
            if kind in _ROUTINES:
                cause = _rejection(a)
                if cause is not None:
                    rejected[name] = (i, kind, cause)
                else:  # CREATE OR REPLACE in a form DSQL accepts
                    rejected.pop(name, None)
        for kind, name in a.creates:
            if kind == "index":
                indexes[name] += 1
                if indexes[name] == INDEXES_PER_TABLE + 1:
                    out.append((i, Hit("DSQL015", f"index {INDEXES_PER_TABLE + 1} on {name}; "
                                       f"DSQL allows {INDEXES_PER_TABLE} per table")))  # fmt: skip
                continue
            objects[kind] += 1
            limit = OBJECT_LIMITS.get(kind)
            if limit is not None and objects[kind] == limit + 1:
                out.append((i, Hit("DSQL016", f"{kind} number {limit + 1}; a cluster allows "
                                   f"{limit}")))  # fmt: skip
        if a.obj and a.primary_key:
            primary_keys[A.bare(a.obj)] = a.primary_key
        if a.obj and a.dropped_columns:
            key = primary_keys.get(A.bare(a.obj), ())
            for column in a.dropped_columns:
                if column in key:
                    out.append((i, Hit("DSQL084", f"{column} is in the primary key of "
                                       f"{a.obj}", rf"\b{column}\b")))  # fmt: skip
    return out


_ROUTINES = ("function", "aggregate", "procedure")


def _rejection(a: Analysis) -> Hit | None:
    """The first finding of ``a`` that makes DSQL reject it, if any."""
    for hit in a.hits:
        rule = RULES_BY_ID.get(hit.rule)
        if rule is not None and rule.severity is Severity.ERROR and hit.rule != "DSQL000":
            return hit
    return None


def _consequences(a: Analysis, rejected: dict[str, tuple[int, str, Hit]]) -> list[Hit]:
    """A call of, or a statement on, a routine whose CREATE earlier in the script DSQL
    rejects fails too; reported under the rule that rejected the CREATE, as a comment on a
    rejected extension is."""
    hits: list[Hit] = []
    fired = {hit.rule for hit in a.hits}  # ALTER AGGREGATE is rejected by its kind already
    for kind, name in a.refers:
        if name in rejected and rejected[name][2].rule not in fired:
            at, created, cause = rejected[name]
            hits.append(Hit(cause.rule, f"{kind} {name} will not exist on DSQL: its CREATE "
                            f"{created.upper()} (statement {at + 1}) is rejected "
                            f"({cause.message})", rf"\b{re.escape(name)}\b"))  # fmt: skip
    for name in a.calls:
        if name in rejected and rejected[name][2].rule not in fired:
            at, created, cause = rejected[name]
            hits.append(Hit(cause.rule, f"calls {name}(), which will not exist on DSQL: its "
                            f"CREATE {created.upper()} (statement {at + 1}) is rejected "
                            f"({cause.message})", rf"\b{re.escape(name)}\s*\("))  # fmt: skip
    return hits
