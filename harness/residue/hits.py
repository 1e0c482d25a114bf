"""One place in one file that still refers to the retired cluster."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.residue.settings import AllowEntry


class Context(enum.Enum):
    """Where the reference sits; comments are reported apart from code."""

    CODE = "code"
    """Code, configuration or a string literal: it can still be deployed or executed."""
    COMMENT = "comment"
    """A comment, a docstring or prose (Markdown, text): read by people only."""


@dataclass(frozen=True)
class Hit:
    """A reference found by a rule: where, what text, and why it matters."""

    rule: str
    """The :class:`~harness.residue.rules.Rule` id, e.g. ``RES101``."""
    line: int
    column: int
    text: str
    """The matched text only, never the whole line (a line may hold a secret value)."""
    context: Context
    message: str
    allowed_by: AllowEntry | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "line": self.line,
            "column": self.column,
            "text": self.text,
            "context": self.context.value,
            "message": self.message,
            "allowed": None
            if self.allowed_by is None
            else {"reason": self.allowed_by.reason, "path": self.allowed_by.path},
        }
