"""`cutover verify` on the rds-to-dsql example: the residue scenario and SC-001 end to end.

The before/ tree must come out NO-GO naming every planted leftover (examples/rds-to-dsql/
leftovers.yaml, reviewed by hand) at its file and line; the after/ tree must come out GO,
with the allowlisted reference in the migration note still shown, as waived.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import run_cutover
from tests.verify_runs import EXAMPLE, Verified, empty_sqlite_endpoints, plan_for, verify

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> Verified:
    folder = tmp_path_factory.mktemp("before")
    return verify(plan_for("before", folder), folder)


@pytest.fixture(scope="module")
def after(tmp_path_factory: pytest.TempPathFactory) -> Verified:
    folder = tmp_path_factory.mktemp("after")
    return verify(plan_for("after", folder), folder)


def leftovers() -> list[dict[str, Any]]:
    """The example's manifest of leftovers, reviewed by hand."""
    manifest = EXAMPLE / "leftovers.yaml"
    found: list[dict[str, Any]] = yaml.safe_load(manifest.read_text(encoding="utf-8"))["leftovers"]
    return found


def _id(leftover: dict[str, Any]) -> str:
    return f"{leftover['path']}:{leftover['line']}:{leftover['rule']}:{leftover['text'][:24]}"


def reported(run: Verified) -> set[tuple[str, int, str, str, str]]:
    """(path in the tree, line, rule, context, text) of every hit the residue items hold."""
    out = set()
    for name, check in run.checks("residue").items():
        relative = name.split("/", 1)[1]
        for context in ("code", "comments"):
            for hit in check["evidence"].get(context, []):
                out.add((relative, hit["line"], hit["rule"], hit["context"], hit["text"]))
    return out


class TestBeforeTree:
    def test_the_verdict_is_no_go_and_the_exit_code_says_so(self, before: Verified) -> None:
        assert before.results["verdict"] == "NO-GO"
        assert before.code == 1, before.output

    @pytest.mark.parametrize("leftover", leftovers(), ids=_id)
    def test_every_planted_leftover_is_reported_where_it_was_planted(
        self, before: Verified, leftover: dict[str, Any]
    ) -> None:
        context = "comment" if leftover["context"] == "comment" else "code"
        want = (leftover["path"], leftover["line"], leftover["rule"], context, leftover["text"])
        assert want in reported(before)

    def test_nothing_is_reported_that_was_not_planted(self, before: Verified) -> None:
        planted = {(x["path"], x["line"], x["rule"], x["context"], x["text"]) for x in leftovers()}
        assert reported(before) == planted

    def test_each_file_with_a_leftover_in_code_fails_under_its_own_name(
        self, before: Verified
    ) -> None:
        in_code = {f"before/{x['path']}" for x in leftovers() if x["context"] == "code"}
        failed = {n for n, c in before.checks("residue").items() if c["status"] == "fail"}
        assert failed == in_code

    def test_sc001_fails_naming_the_rds_cluster_still_defined(self, before: Verified) -> None:
        target = before.checks("residue_target")["dsql"]
        assert target["status"] == "fail"
        assert target["evidence"]["rds"] == [
            "before/cdk.out/LexiconStack.template.json:253:LexiconAuroraCluster9B1C4E2D",
            "before/cdk.out/LexiconStack.template.json:299:LexiconAuroraWriterA1B2C3D4",
        ]


class TestAfterTree:
    def test_the_verdict_is_go(self, after: Verified) -> None:
        assert after.results["verdict"] == "GO", after.results["verdict_reason"]
        assert after.code == 0

    def test_every_file_of_the_tree_is_one_item(self, after: Verified) -> None:
        files = sorted(
            f"after/{p.relative_to(EXAMPLE / 'after').as_posix()}"
            for p in (EXAMPLE / "after").rglob("*")
            if p.is_file()
        )
        assert sorted(after.checks("residue")) == files

    def test_the_allowlisted_reference_is_shown_as_waived_with_its_reason(
        self, after: Verified
    ) -> None:
        note = after.checks("residue")["after/docs/MIGRATION.md"]
        (finding,) = note["findings"]
        assert finding["source"] == "lexicon-aurora"
        assert finding["waived_by"]["reason"] == (
            "the migration note records which cluster was retired and when"
        )
        assert finding["waived_by"]["reviewer"] == "Priya Natarajan"

    def test_sc001_passes_with_exactly_one_dsql_cluster_and_no_rds(self, after: Verified) -> None:
        target = after.checks("residue_target")["dsql"]
        assert target["status"] == "pass"
        assert target["evidence"]["dsql_clusters"] == [
            "after/cdk.out/LexiconStack.template.json:92:Ledger0A9B8C7D"
        ]
        assert target["evidence"]["rds"] == []

    def test_every_scanned_file_is_an_input_of_the_sign_off(self, after: Verified) -> None:
        inputs = {i["path"] for i in after.results["inputs"]}
        tree = {str(p.resolve()) for p in (EXAMPLE / "after").rglob("*") if p.is_file()}
        assert tree <= inputs

    def test_results_json_matches_its_schema(self, after: Verified) -> None:
        schema = yaml.safe_load((REPO / "schemas" / "results.schema.json").read_text())
        jsonschema.validate(after.results, schema)


def test_an_allowlisted_reference_in_code_makes_the_item_waived(tmp_path: Path) -> None:
    """A reviewed exception in code (error severity) is GO WITH WAIVERS, never a silent pass."""
    tree = tmp_path / "infra"
    tree.mkdir()
    (tree / "app.py").write_text('HOST = "legacy-aurora.internal"\n', encoding="utf-8")
    retired = {
        "paths": [str(tree)],
        "other": ["legacy-aurora"],
        "target": "none",
        "allow": [{"path": "app.py", "pattern": "legacy", "reason": "read-only fallback"}],
    }
    run = verify(plan_for("after", tmp_path, retired=retired), tmp_path)
    item = run.checks("residue")["infra/app.py"]
    assert item["status"] == "waived"
    assert item["findings"][0]["waived_by"]["reason"] == "read-only fallback"
    assert run.results["verdict"] == "GO WITH WAIVERS"


def test_a_retired_path_that_does_not_exist_stops_verify_with_one_line(tmp_path: Path) -> None:
    plan = plan_for("after", tmp_path, retired={"paths": ["infar"], "cluster_ids": ["abc"]})
    done = run_cutover("verify", "--plan", str(plan), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().endswith(
        "retired.paths: " + str(tmp_path / "infar") + ": no such file or folder "
        "(paths are relative to the plan file)"
    )
    assert "Traceback" not in done.stdout + done.stderr


def test_the_plan_in_the_scanned_tree_is_not_scanned(tmp_path: Path) -> None:
    """The plan names every identifier of the retired cluster: it is not residue."""
    (tmp_path / "app.py").write_text('HOST = "db.internal"\n', encoding="utf-8")
    retired = {"paths": ["."], "other": ["legacy-aurora"], "target": "none"}
    sections = {**empty_sqlite_endpoints(tmp_path), "lint": None, "posture": None}
    run = verify(plan_for("after", tmp_path, retired=retired, **sections), tmp_path)
    scanned = set(run.checks("residue"))
    assert f"{tmp_path.name}/app.py" in scanned
    assert not any(name.endswith("plan-after.yaml") for name in scanned)
    assert run.results["verdict"] == "GO"
