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

    def __post_init__(self) -> None:
        # Parsed values may be str subclasses that remember their position; a hit crosses
        # process boundaries and reaches reports, so it holds plain strings only.
        if type(self.text) is not str:
            object.__setattr__(self, "text", str(self.text))

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


@dataclass(frozen=True)
class Definition:
    """A database a tree defines, for SC-001: a DSQL cluster or an RDS one, and where."""

    kind: str
    """``dsql`` or ``rds``."""
    flavour: str
    """``cloudformation``, ``cdk``, ``terraform`` or ``terraform-plan``."""
    path: str
    line: int
    name: str
    """Logical id, Terraform address or CDK construct id."""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.name}"
