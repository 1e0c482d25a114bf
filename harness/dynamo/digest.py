"""An order-independent digest of a table's items.

Each item is written in one canonical form (attribute names sorted, sets sorted, numbers
normalised) and hashed with SHA-256; the table's digest is the sum of the item hashes modulo
2**256. A sum, unlike XOR, does not cancel two equal hashes, and it does not care in which
order parallel scan segments deliver the items, so segments can be combined by adding.
"""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

MODULUS = 2**256


def item_hash(item: dict[str, Any]) -> int:
    """SHA-256 of one item in DynamoDB's wire format (``{"name": {"S": "…"}}``), as an int."""
    canonical = json.dumps(
        {name: _canon(value) for name, value in item.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return int.from_bytes(hashlib.sha256(canonical.encode("utf-8")).digest(), "big")


def combine(*partials: int) -> int:
    """Combine item hashes or partial digests; any grouping and order give the same value."""
    return sum(partials) % MODULUS


def hexdigest(value: int) -> str:
    return f"{value % MODULUS:064x}"


def _canon(value: dict[str, Any]) -> Any:
    ((kind, inner),) = value.items()
    if kind == "N":
        return ["N", _number(inner)]
    if kind == "B":
        return ["B", _b64(inner)]
    if kind == "NS":
        return ["NS", sorted(_number(v) for v in inner)]
    if kind == "BS":
        return ["BS", sorted(_b64(v) for v in inner)]
    if kind == "SS":
        return ["SS", sorted(inner)]
    if kind == "M":
        return ["M", {k: _canon(v) for k, v in inner.items()}]
    if kind == "L":
        return ["L", [_canon(v) for v in inner]]
    return [kind, inner]  # S, BOOL, NULL


def _number(text: str) -> str:
    """DynamoDB keeps numbers as decimal text; 1.50 and 1.5 are the same number."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return "0" if number.is_zero() else format(number.normalize(), "f")


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else data
