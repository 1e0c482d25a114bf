"""Evidence laid out for reading: definition lists and tables while shallow, JSON when deep.

A check's evidence is whatever JSON-able dict it recorded; :func:`evidence_node` decides,
value by value, which template branch (``_evidence.html.j2``) shows it best.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

_EVIDENCE_MAX_DEPTH = 3
"""Nesting deeper than this reads better as indented JSON than as boxes inside boxes."""
_TABLE_MAX_COLUMNS = 8


@dataclass(frozen=True)
class EvidenceNode:
    """One evidence value laid out for reading; ``kind`` picks the template branch."""

    kind: Literal["scalar", "list", "mapping", "table", "json", "empty"]
    text: str = ""
    css: str = ""
    items: tuple[EvidenceNode, ...] = ()
    """A list's elements."""
    entries: tuple[tuple[str, EvidenceNode], ...] = ()
    """A mapping's key/value pairs, in the order the check recorded them."""
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[EvidenceNode, ...], ...] = ()
    """A table's cells, row by row, aligned with ``columns``."""


def evidence_node(value: Any) -> EvidenceNode | None:
    """The layout of a check's whole evidence; ``None`` when it recorded none."""
    return None if value in (None, {}, []) else _evidence(value, 1)


def _evidence(value: Any, depth: int) -> EvidenceNode:
    """Lay out one evidence value: definition lists and tables while shallow, JSON when deep."""
    if isinstance(value, Mapping):
        if not value:
            return EvidenceNode(kind="empty", text="empty mapping")
        if depth > _EVIDENCE_MAX_DEPTH:
            return _json_node(value)
        return EvidenceNode(
            kind="mapping",
            entries=tuple((str(key), _evidence(item, depth + 1)) for key, item in value.items()),
        )
    if isinstance(value, list | tuple):
        if not value:
            return EvidenceNode(kind="empty", text="empty list")
        if all(is_scalar(item) for item in value):
            return EvidenceNode(kind="list", items=tuple(_evidence(item, depth) for item in value))
        columns = _table_columns(value)
        if columns is not None and depth <= _EVIDENCE_MAX_DEPTH:
            return EvidenceNode(
                kind="table",
                columns=columns,
                rows=tuple(
                    tuple(
                        _evidence(row[column], depth + 1) if column in row else _ABSENT
                        for column in columns
                    )
                    for row in value
                ),
            )
        return _json_node(value)
    return _scalar_node(value)


def _table_columns(rows: Sequence[Any]) -> tuple[str, ...] | None:
    """Columns when ``rows`` are all mappings (the union of their keys, first seen first),
    few enough to read across and shallow enough for a cell; else ``None``."""
    columns: dict[str, None] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            return None
        for key, item in row.items():
            if not (is_scalar(item) or _is_flat(item)):
                return None
            columns.setdefault(str(key), None)
    if not columns or len(columns) > _TABLE_MAX_COLUMNS:
        return None
    return tuple(columns)


def _is_flat(value: Any) -> bool:
    """A small mapping or list of scalars: still fits in a table cell."""
    if isinstance(value, Mapping):
        return len(value) <= _TABLE_MAX_COLUMNS and all(is_scalar(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(is_scalar(v) for v in value)
    return False


_ABSENT = EvidenceNode(kind="scalar", text="", css="absent")
"""A table cell for a key this row does not have (unlike ``null``, which it has)."""


def _scalar_node(value: Any) -> EvidenceNode:
    if value is None:
        return EvidenceNode(kind="scalar", text="null", css="null")
    if isinstance(value, bool):
        return EvidenceNode(kind="scalar", text=scalar_text(value), css="bool")
    if isinstance(value, int | float):
        return EvidenceNode(kind="scalar", text=scalar_text(value), css="num")
    return EvidenceNode(kind="scalar", text=scalar_text(value), css="str")


def _json_node(value: Any) -> EvidenceNode:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return EvidenceNode(kind="json", text=text)


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
