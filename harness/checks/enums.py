"""An enum column's move: its labels against the values the target column accepts.

Aurora DSQL has no enum types (``CREATE TYPE … AS ENUM`` is refused with ``0A000``); the
rewrite its documentation and the recordings of a real cluster show is a text column with
``CHECK (col IN (…))``, or a domain over text with ``CHECK (VALUE IN (…))`` (recorded
2026-09 in ``Dreamescaper/dsql-emulator``, test/conformance/golden/enum.json, MIT). Either
keeps every value and refuses the same ones, so it is not a change of kind to be waived: the
check reads the target's CHECK and compares its values with the enum's labels. A CHECK it
cannot read as a plain list of values is not taken on trust, and what does change (the sort
order ``ORDER BY`` uses) is said.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from harness.db import typemap as types
from harness.db.catalog import Column
from harness.results.check import FindingKind, Severity

K, S = FindingKind, Severity


@dataclass(frozen=True)
class EnumFinding:
    kind: FindingKind
    severity: Severity
    message: str


def allowed_values(column: Column, checks: Iterable[str], dialect: str) -> frozenset[str] | None:
    """The values ``column`` accepts when its enum or one of ``checks`` (the CHECKs on it
    alone) limits it to a list; else None."""
    if column.labels:
        return frozenset(column.labels)
    for check in checks:
        values = _listed_values(check, column.name, dialect)
        if values is not None:
            return values
    return None


def compare(
    source: Column, target: Column, checks: Iterable[str], obj: str, target_dialect: str
) -> list[EnumFinding]:
    """What moving the enum column ``source`` into the text or enum column ``target``
    changes (``obj``: table.column; ``checks``: the target's CHECKs on the column alone);
    empty when the target is the same enum. A target of any
    other kind is a change of kind, the ordinary type comparison's to report."""
    labels = source.labels
    listed = ", ".join(labels)
    if target.labels:
        return _against(labels, frozenset(target.labels), obj, "enum") + (
            [
                EnumFinding(
                    K.ALLOWED_VALUES,
                    S.WARNING,
                    f"{obj}: the enum's order changes"
                    f" ({listed} → {', '.join(target.labels)}), so ORDER BY does too",
                )
            ]
            if set(target.labels) == set(labels) and target.labels != labels
            else []
        )
    t_type = types.parse(target.base_type or target.declared_type, target_dialect)
    allowed = allowed_values(target, checks, target_dialect)
    if allowed is None:
        return [
            EnumFinding(
                K.ALLOWED_VALUES,
                S.ERROR,
                f"{obj}: enum {source.declared_type} → {target.declared_type} keeps every value,"
                f" but no CHECK on the target limits it to the enum's {len(labels)} labels"
                f" ({listed}); add CHECK ({target.name} IN (…)) or a domain",
            )
        ]
    found = _against(labels, allowed, obj, "CHECK")
    # SQLite declares a length without enforcing it: only a server's column can be too short.
    bound = t_type.length if target_dialect != "sqlite" else None
    too_long = [label for label in labels if bound is not None and len(label) > bound]
    if too_long:
        found.append(
            EnumFinding(
                K.TYPE_NARROWING,
                S.ERROR,
                f"{obj}: enum label {too_long[0]!r} does not fit {t_type.name}",
            )
        )
    if list(labels) != sorted(labels):
        found.append(
            EnumFinding(
                K.ALLOWED_VALUES,
                S.WARNING,
                f"{obj}: ORDER BY sorts the text on the target, not in the enum's order ({listed})",
            )
        )
    if not any(f.severity is S.ERROR for f in found):
        found.append(
            EnumFinding(
                K.ALLOWED_VALUES,
                S.INFO,
                f"{obj}: enum {source.declared_type} → {target.declared_type} with a CHECK of"
                f" the same {len(labels)} labels",
            )
        )
    return found


def is_text(column: Column, dialect: str) -> bool:
    """Whether ``column`` holds text (directly or through a domain), or is an enum itself."""
    if column.labels:
        return True
    return types.parse(column.base_type or column.declared_type, dialect).family == "text"


def _against(
    labels: tuple[str, ...], allowed: frozenset[str], obj: str, what: str
) -> list[EnumFinding]:
    found = []
    refused = [label for label in labels if label not in allowed]
    if refused:
        found.append(
            EnumFinding(
                K.ALLOWED_VALUES,
                S.ERROR,
                f"{obj}: the target's {what} refuses enum label(s) {', '.join(refused)}",
            )
        )
    extra = sorted(allowed - set(labels))
    if extra:
        found.append(
            EnumFinding(
                K.ALLOWED_VALUES,
                S.WARNING,
                f"{obj}: the target's {what} also accepts {', '.join(extra)}, which the"
                " source's enum refuses",
            )
        )
    return found


def _listed_values(check: str, column: str, dialect: str) -> frozenset[str] | None:
    """The values of ``col IN (…)``, ``col = ANY (ARRAY[…])`` or ``col = 'a' OR col = 'b'``
    (``VALUE`` for a domain's check), casts and parentheses aside; None for anything else."""
    try:
        tree = sqlglot.parse_one(check, read=dialect)
    except (SqlglotError, ValueError):
        return None
    values = _values(_bare(tree), {column.lower(), "value"})
    return frozenset(values) if values else None


def _values(node: exp.Expr, names: set[str]) -> list[str] | None:
    if isinstance(node, exp.Or):
        left, right = _values(_bare(node.this), names), _values(_bare(node.expression), names)
        return None if left is None or right is None else left + right
    if isinstance(node, exp.In) and _names(node.this, names):
        return _literals(node.expressions)
    if isinstance(node, exp.EQ) and _names(node.this, names):
        other = _bare(node.expression)
        if isinstance(other, exp.Any):
            array = _bare(other.this)
            return _literals(array.expressions) if isinstance(array, exp.Array) else None
        return _literals([other])
    return None


def _names(node: exp.Expr, names: set[str]) -> bool:
    bare = _bare(node)
    return isinstance(bare, exp.Column) and not bare.table and bare.name.lower() in names


def _literals(nodes: list[exp.Expr]) -> list[str] | None:
    values = [_bare(n) for n in nodes]
    if not values or not all(isinstance(v, exp.Literal) and v.is_string for v in values):
        return None
    return [v.this for v in values]


def _bare(node: exp.Expr) -> exp.Expr:
    """``node`` without the parentheses and casts PostgreSQL's rendering wraps it in."""
    while isinstance(node, exp.Paren | exp.Cast):
        node = node.this
    return node
