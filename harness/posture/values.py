"""Reading one IaC resource's properties into facts: values, their lines, and what is unknown.

Every IaC gatherer reads properties through a :class:`Props`: it looks a value up, converts it
(``as_bool``, ``as_int``…), records the line that set it, and remembers a property whose value
is an expression it cannot work out, so the checks can tell "left to the default" from
"cannot tell".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.posture.facts import Located, Where

T = TypeVar("T")

UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()
"""A value an expression stands for that cannot be worked out without deploying."""


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_str(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


@dataclass
class Props:
    """One resource's properties as read so far: the facts' fields, lines and unknowns."""

    file: str
    line: int
    lines: dict[str, Where] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)

    def read(
        self,
        prop: str,
        value: Any,
        line: int | None,
        convert: Callable[[Any], T | None],
        default: T | None = None,
    ) -> T | None:
        """``value`` converted (``default`` when absent); its line kept under ``prop``."""
        if line is not None:
            self.lines[prop] = Where(self.file, line)
        if value is None:
            return default
        converted = convert(value)
        if converted is None:
            self.unknown.add(prop)
        return converted

    def where(self, line: int | None = None) -> Where:
        return Where(self.file, self.line if line is None else line)

    def located(self) -> Located:
        return Located(self.where(), dict(self.lines), frozenset(self.unknown))


def first(mapping: Mapping[str, Any], *keys: str) -> tuple[str | None, Any]:
    """The first of ``keys`` present in ``mapping`` and its value."""
    for key in keys:
        if key in mapping:
            return key, mapping[key]
    return None, None
