"""Issue 20 end to end: small trees written the way real projects write them, one per flavour.

Each folder ``tests/data/residue_<flavour>/`` holds a plan, a tree before the cutover and the
migrated tree after it, and ``leftovers.yaml``: every leftover of the before tree, reviewed by
hand, at its file and line. The before tree must fail (exit 1) naming exactly those; the
migrated tree must pass SC-004 and SC-001 with exit 0 — through ``cutover residue``, as a
reviewer runs it. Trees are discovered from the data folder, never listed here.

- ``residue_terraform``: a root module (envs/prod) calling modules for the network, the
  Aurora cluster and the API; the cluster reaches the API through module outputs, locals,
  module inputs and the API module's variables, in other files and folders.
- ``residue_tfplan``: ``terraform show -json`` of the same service, a plan that keeps the
  cluster (pretty-printed) and the migrated plan that deletes it (one line, as Terraform
  writes it).
- ``residue_cloudformation``: a database template and a SAM application template.
- ``residue_cdk_typescript``: a CDK app in TypeScript; before without ``cdk.out``, after with
  its synthesized templates beside the source.
- ``residue_cdk_python``: a CDK app in Python retiring a standalone RDS instance.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harness.residue.command import residue

DATA = Path(__file__).resolve().parent / "data"
TREES = sorted(p.parent for p in DATA.glob("residue_*/leftovers.yaml"))
BEFORE = ("before", "pending")
AFTER = ("after", "migrated")


def _side(tree: Path, names: tuple[str, ...]) -> Path:
    (side,) = [tree / n for n in names if (tree / n).is_dir()]
    return side


@functools.cache
def _run(tree: Path, side: Path) -> tuple[int, dict[str, Any]]:
    """``cutover residue SIDE --plan PLAN --format json``, once per side."""
    result = CliRunner().invoke(
        residue, [str(side), "--plan", str(tree / "plan.yaml"), "--format", "json"]
    )
    return result.exit_code, json.loads(result.output)


def _reported(side: Path, report: dict[str, Any]) -> set[tuple[str, int, str, str, str]]:
    found = set()
    for check in report["results"]:
        if check["area"] != "residue":
            continue
        relative = Path(check["name"]).relative_to(side).as_posix()
        for key in ("code", "comments"):
            for hit in check["evidence"].get(key, []):
                found.add((relative, hit["line"], hit["rule"], hit["context"], hit["text"]))
    return found


def _manifest(tree: Path) -> set[tuple[str, int, str, str, str]]:
    data = yaml.safe_load((tree / "leftovers.yaml").read_text(encoding="utf-8"))
    return {(x["path"], x["line"], x["rule"], x["context"], x["text"]) for x in data["leftovers"]}


STORED_AS_TEXT = ".py.txt"
"""The CDK Python app's modules are data, kept as ``*.py.txt`` so nothing takes them for the
project's own code (they import aws_cdk, which no one installs); a test scans a copy where
they have their real names."""


def materialised(tree: Path, factory: pytest.TempPathFactory) -> Path:
    """``tree`` as a project holds it: itself, or a copy with ``*.py.txt`` named ``*.py``."""
    if not any(tree.rglob(f"*{STORED_AS_TEXT}")):
        return tree
    copy = factory.mktemp(tree.name) / tree.name
    shutil.copytree(tree, copy)
    for stored in copy.rglob(f"*{STORED_AS_TEXT}"):
        stored.rename(stored.with_name(stored.name.removesuffix(".txt")))
    return copy


@pytest.fixture(scope="module", params=TREES, ids=lambda p: p.name)
def tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialised(request.param, tmp_path_factory)


def test_there_is_a_tree_for_every_flavour() -> None:
    assert {t.name for t in TREES} == {
        "residue_cdk_python",
        "residue_cdk_typescript",
        "residue_cloudformation",
        "residue_terraform",
        "residue_tfplan",
    }


class TestBeforeTree:
    def test_exits_1_naming_every_leftover_at_its_file_and_line(self, tree: Path) -> None:
        side = _side(tree, BEFORE)
        code, report = _run(tree, side)
        assert code == 1
        assert _reported(side, report) == _manifest(tree)

    def test_sc001_fails_naming_the_rds_database_with_file_and_line(self, tree: Path) -> None:
        side = _side(tree, BEFORE)
        _code, report = _run(tree, side)
        (target,) = [r for r in report["results"] if r["area"] == "residue_target"]
        assert target["status"] == "fail"
        assert target["evidence"]["rds"]
        for where in target["evidence"]["rds"]:
            path, line, _name = where.split(":", 2)
            text = Path(path).read_text(encoding="utf-8").splitlines()
            assert 1 <= int(line) <= len(text), where


class TestMigratedTree:
    def test_exits_0_with_no_finding(self, tree: Path) -> None:
        side = _side(tree, AFTER)
        code, report = _run(tree, side)
        assert code == 0, json.dumps(report, indent=1)
        assert [f for r in report["results"] for f in r["findings"]] == []

    def test_sc001_passes_with_exactly_one_dsql_cluster(self, tree: Path) -> None:
        side = _side(tree, AFTER)
        _code, report = _run(tree, side)
        (target,) = [r for r in report["results"] if r["area"] == "residue_target"]
        assert target["status"] == "pass"
        assert len(target["evidence"]["dsql_clusters"]) == 1
        assert target["evidence"]["rds"] == []


class TestCdkBesideCdkOut:
    """The synthesized templates are what deploys: beside them, the source is not counted."""

    def test_the_typescript_app_is_counted_once_from_its_templates(self) -> None:
        tree = DATA / "residue_cdk_typescript"
        _code, report = _run(tree, tree / "after")
        (target,) = [r for r in report["results"] if r["area"] == "residue_target"]
        assert target["evidence"]["dsql_clusters"] == [
            f"{tree / 'after'}/cdk.out/OrdersDatabase.template.json:3:Orders"
        ]
        assert list(target["evidence"]["counted"]) == ["cloudformation"]

    def test_without_cdk_out_the_source_is_counted(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        tree = materialised(DATA / "residue_cdk_python", tmp_path_factory)
        _code, report = _run(tree, tree / "after")
        (target,) = [r for r in report["results"] if r["area"] == "residue_target"]
        assert target["evidence"]["dsql_clusters"] == [
            f"{tree / 'after'}/reports/database_stack.py:12:Reports"
        ]


@pytest.mark.slow
def test_cutover_residue_as_a_user_runs_it(tmp_path: Path) -> None:
    """One real process per side: the migrated Terraform tree exits 0, the before tree 1."""
    from tests.conftest import run_cutover

    tree = DATA / "residue_terraform"
    plan = str(tree / "plan.yaml")
    after = run_cutover("residue", str(tree / "after"), "--plan", plan, cwd=tmp_path)
    before = run_cutover("residue", str(tree / "before"), "--plan", plan, cwd=tmp_path)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "residue_target[dsql]: pass" in after.stdout
    assert before.returncode == 1
    assert "modules/api/variables.tf:21:1: RES303 'variable \"db_host\"'" in before.stdout
