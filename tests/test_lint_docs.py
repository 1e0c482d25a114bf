"""docs/lint.md is generated from the rule pack and must not go stale."""

from __future__ import annotations

from pathlib import Path

from harness.lint.docs import markdown
from harness.lint.pack import RULES

REPO = Path(__file__).resolve().parents[1]


def test_the_rule_reference_is_generated_from_the_pack() -> None:
    checked_in = (REPO / "docs" / "lint.md").read_text(encoding="utf-8")
    assert checked_in == markdown(), (
        "docs/lint.md is stale; regenerate it with `python -m harness.lint.docs > docs/lint.md`"
    )


def test_every_rule_has_a_section() -> None:
    text = markdown()
    assert all(f"\n## {r.id}\n" in text for r in RULES)
