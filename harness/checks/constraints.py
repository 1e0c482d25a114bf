"""CHECK constraints of one table pair, compared by what they say.

A move that drops them (AWS DMS migrates no CHECK constraint; pgloader and hand-written
target schemas lose them too) leaves a target that accepts what the source refused, which no
row comparison can see on the day of the move: the rows still match, the next bad write
lands. Each CHECK is read in its side's dialect and normalised as view queries are
(:func:`harness.db.sqltext.view_query`, as the condition of ``SELECT 1 FROM t WHERE …``): the
casts, parentheses and ``= ANY (ARRAY[…])`` spellings a server adds go, names become the
target's, so a faithful copy matches however each server renders it. A CHECK that cannot be
matched is an error, to be waived with its reason when it is the same rule spelled otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlglot import exp

from harness.db import typemap as types
from harness.db.catalog import Check, Table
from harness.db.sqltext import view_query
from harness.plan.scope import TablePair
from harness.results.check import Finding, FindingKind, Severity

K, S = FindingKind, Severity


def compare(
    pair: TablePair,
    source: Table,
    target: Table,
    dialects: tuple[str, str],
    *,
    rewritten: Collection[str] = (),
) -> list[Finding]:
    """Findings for the CHECKs of ``source`` that ``target`` lacks or changed, and those only
    ``target`` has. ``dialects``: the source's and the target's. ``rewritten``: target columns
    whose CHECK another comparison owns (an enum's labels, :mod:`harness.checks.enums`)."""
    source_dialect, target_dialect = dialects
    theirs = {
        check: _normalised(check, target, target_dialect, str, lambda name: name)
        for check in target.checks
        if not (len(check.columns) == 1 and check.columns[0] in rewritten)
    }
    matched: set[Check] = set()
    findings = []
    for check in source.checks:
        columns = tuple(pair.target_column(c) for c in check.columns)
        ours = _normalised(check, source, source_dialect, lambda _: target.name, pair.target_column)
        same_columns = [c for c in theirs if set(c.columns) == set(columns)]
        equal = [c for c in same_columns if ours is not None and theirs[c] == ours]
        matched.update(equal)
        if equal:
            continue
        column = columns[0] if len(columns) == 1 else None
        if same_columns:
            other = same_columns[0]
            matched.add(other)
            findings.append(
                Finding(
                    K.CHECK_CONSTRAINT,
                    S.ERROR,
                    pair.id,
                    f"CHECK on {pair.id}{_listed(columns)} differs: {_shown(check)} →"
                    f" {_shown(other)}; waive it if it is the same rule spelled otherwise",
                    column,
                    check.expression,
                    other.expression,
                )
            )
        else:
            findings.append(
                Finding(
                    K.CHECK_CONSTRAINT,
                    S.ERROR,
                    pair.id,
                    f"CHECK {_shown(check)} on {pair.id} is missing on the target: it"
                    " accepts values the source refuses",
                    column,
                    check.expression,
                    None,
                )
            )
    for check in theirs:
        if check not in matched:
            findings.append(
                Finding(
                    K.CHECK_CONSTRAINT,
                    S.WARNING,
                    pair.id,
                    f"CHECK {_shown(check)} on {pair.id} exists only on the target: it"
                    " refuses values the source accepts",
                    check.columns[0] if len(check.columns) == 1 else None,
                    None,
                    check.expression,
                )
            )
    return findings


def _normalised(
    check: Check,
    table: Table,
    dialect: str,
    rename_table: Callable[[str], str],
    rename_column: Callable[[str], str],
) -> str | None:
    """The CHECK as the condition of a normalised query; None when it cannot be read."""
    relations = {
        table.name: {c.name: types.parse(c.declared_type, dialect).family for c in table.columns}
    }
    quoted = exp.to_identifier(table.name, quoted=True).sql(dialect)
    # Text for sqlglot to read, never run: the catalog's own expression as a condition.
    text = f"SELECT 1 FROM {quoted} WHERE {check.expression}"  # noqa: S608
    try:
        return view_query(
            text,
            dialect,
            relations,
            schema=None,
            table=rename_table,
            column=lambda _table, name: rename_column(name),
        )
    except ValueError:
        return None


def _shown(check: Check) -> str:
    """The expression in one pair of parentheses, as a CHECK writes it."""
    text, depth = check.expression.strip(), 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(text) - 1:
            return f"({text})"  # the first parenthesis closes early: not one group
    return text if text.startswith("(") else f"({text})"


def _listed(columns: tuple[str, ...]) -> str:
    return f"({', '.join(columns)})"
