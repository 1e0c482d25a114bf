"""`cutover verify` with a posture: section over each flavour's migrated and insecure tree:
exit 0 (GO) on the migrated one, exit 1 (NO-GO) on the insecure one with every finding in
results.json naming its file and line. Trees and plan: tests/test_posture_trees.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_posture_scenario import run_posture
from tests.test_posture_trees import BROKEN, FLAVOURS, PLAN, tree


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_migrated_tree_is_go(flavour: str, tmp_path: Path) -> None:
    plan = {**PLAN, "mode": "templates", "templates": [str(tree(flavour, "migrated"))]}
    run = run_posture(tmp_path, plan)

    assert run.code == 0, run.output
    assert run.results["verdict"] == "GO"
    assert {c["status"] for c in run.checks("posture").values()} == {"pass"}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_insecure_tree_is_no_go_naming_each_finding(flavour: str, tmp_path: Path) -> None:
    plan = {**PLAN, "mode": "templates", "templates": [str(tree(flavour, "insecure"))]}
    run = run_posture(tmp_path, plan)

    assert run.code == 1, run.output
    assert run.results["verdict"] == "NO-GO"
    messages = [
        f["message"]
        for c in run.checks("posture").values()
        for f in c["findings"]
        if f["severity"] == "error"
    ]
    for where in BROKEN[flavour].values():
        assert any(m.startswith(f"insecure/{where}: ") for m in messages), (where, messages)
