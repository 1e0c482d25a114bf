"""The residue scan (SC-004) and the target census (SC-001)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harness.errors import PlanError
from harness.iac.cfn import CfnLoader
from harness.plan.load import load_section
from harness.residue import (
    RULES,
    RetiredSettings,
    check_paths,
    check_target,
    discover,
    scan_file,
    scan_text,
)
from harness.residue.command import residue
from harness.residue.rules import EXAMPLE_SETTINGS
from harness.results.check import Status

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "rds-to-dsql"
PLAN = EXAMPLE / "plan.yaml"
DATA = Path(__file__).resolve().parent / "data"
HEADER = "name: x\nsource: {kind: sqlite, path: a.db}\ntarget: {kind: sqlite, path: b.db}\n"
"""A plan needs its endpoints even when only its retired: section is used."""


def example_leftovers() -> list[dict[str, Any]]:
    """The example's manifest of leftovers, reviewed by hand."""
    manifest = EXAMPLE / "leftovers.yaml"
    found: list[dict[str, Any]] = yaml.safe_load(manifest.read_text(encoding="utf-8"))["leftovers"]
    return found


def hits(text: str, name: str, settings: RetiredSettings = EXAMPLE_SETTINGS) -> list[Any]:
    return list(scan_text(text, name, name, settings).hits)


def rules_of(text: str, name: str, settings: RetiredSettings = EXAMPLE_SETTINGS) -> list[str]:
    return [h.rule for h in hits(text, name, settings)]


class TestRuleRegistry:
    def test_ids_are_unique_and_every_rule_is_documented(self) -> None:
        assert len({r.id for r in RULES}) == len(RULES)
        for rule in RULES:
            assert rule.title, rule.id
            assert len(rule.why) > 20, rule.id

    @pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
    def test_docs_residue_md_lists_the_rule_with_its_severity(self, rule: Any) -> None:
        docs = (EXAMPLE.parents[1] / "docs" / "residue.md").read_text(encoding="utf-8")
        assert "As of **2026-12-03**" in docs
        assert f"| {rule.id} | {rule.severity.value} |" in docs

    @pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
    def test_the_bad_example_is_flagged_by_its_rule(self, rule: Any) -> None:
        name, content = rule.bad
        assert rule.id in rules_of(content, name)

    @pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
    def test_the_good_example_is_not_flagged_at_all(self, rule: Any) -> None:
        name, content = rule.good
        assert rules_of(content, name) == []


class TestExample:
    """The example's before tree yields every planted leftover; its after tree, nothing."""

    @pytest.fixture(scope="class")
    @classmethod
    def before(cls) -> dict[tuple[str, int, str, str], str]:
        settings = load_section(PLAN, "retired")
        found = {}
        for source in discover([EXAMPLE / "before"], settings):
            scan = scan_file(source, settings)
            for hit in scan.hits:
                found[(scan.relative, hit.line, hit.rule, hit.text)] = hit.context.value
        return found

    @pytest.mark.parametrize(
        "planted", example_leftovers(), ids=lambda p: f"{p['path']}:{p['line']}:{p['rule']}"
    )
    def test_every_planted_leftover_is_reported_where_it_was_planted(
        self, before: dict[tuple[str, int, str, str], str], planted: dict[str, Any]
    ) -> None:
        key = (planted["path"], planted["line"], planted["rule"], planted["text"])
        assert key in before
        assert before[key] == planted["context"]

    def test_the_before_tree_reports_nothing_beyond_the_manifest(
        self, before: dict[tuple[str, int, str, str], str]
    ) -> None:
        manifest = {(p["path"], p["line"], p["rule"], p["text"]) for p in example_leftovers()}
        assert set(before) == manifest

    def test_the_after_tree_passes_with_only_the_allowed_migration_note(self) -> None:
        results = check_paths([EXAMPLE / "after"], load_section(PLAN, "retired"))

        assert {r.status for r in results} <= {Status.PASS, Status.WAIVED}
        waived = [f for r in results for f in r.findings]
        assert len(waived) == 1
        assert waived[0].waived_by is not None
        assert "migration note" in waived[0].waived_by.reason

    def test_sc001_fails_before_and_passes_after(self) -> None:
        settings = load_section(PLAN, "retired")
        before = check_target([EXAMPLE / "before"], settings)
        after = check_target([EXAMPLE / "after"], settings)

        assert before.status is Status.FAIL
        assert "LexiconAuroraCluster9B1C4E2D" in before.summary
        assert after.status is Status.PASS
        assert after.evidence["dsql_clusters"][0].endswith(":Ledger0A9B8C7D")


class TestCommentsAndCode:
    def test_a_python_comment_and_docstring_are_comments_but_a_string_is_code(self) -> None:
        source = '"""Talks to legacy-aurora."""\n# legacy-aurora is old\nHOST = "legacy-aurora"\n'
        found = [(h.line, h.context.value) for h in hits(source, "app.py")]
        assert found == [(3, "code"), (1, "comment"), (2, "comment")]

    def test_a_hash_inside_a_yaml_value_is_not_a_comment(self) -> None:
        found = hits("url: http://x/#legacy-aurora\n# legacy-aurora\n", "c.yaml")
        assert [(h.line, h.context.value) for h in found] == [(1, "code"), (2, "comment")]

    def test_commented_out_cdk_code_is_not_a_construct(self) -> None:
        source = (
            "import * as rds from 'aws-cdk-lib/aws-rds';\n"
            "// new rds.DatabaseCluster(this, 'Db', {});\n"
            "/* rds.DatabaseClusterEngine.auroraPostgres */\n"
        )
        assert rules_of(source, "stack.ts") == ["RES203"]

    def test_comments_are_warnings_by_default_and_errors_when_the_plan_says_so(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "notes.md").write_text("We retired legacy-aurora.\n")
        lenient = check_paths([tmp_path], EXAMPLE_SETTINGS.model_copy(update={"target": "none"}))
        strict = check_paths(
            [tmp_path],
            EXAMPLE_SETTINGS.model_copy(update={"target": "none", "comments": "error"}),
        )
        assert lenient[0].status is Status.PASS
        assert strict[0].status is Status.FAIL


class TestIdentifiers:
    def test_names_match_whole_not_inside_longer_names(self) -> None:
        assert rules_of("x = legacy-aurora-dsql\ny = OLD_LEGACY_DB_HOST\n", "a.py") == []

    def test_a_secret_name_matches_inside_its_arn(self) -> None:
        arn = f"arn:aws:secretsmanager:eu-west-1:1:secret:{EXAMPLE_SETTINGS.secrets[0]}-AbC123"
        (hit,) = hits(f"SECRET={arn}\n", ".env")
        assert hit.rule == "RES001"
        assert hit.text == EXAMPLE_SETTINGS.secrets[0]

    def test_the_matched_text_never_includes_the_rest_of_the_line(self) -> None:
        (hit,) = hits("LEGACY_DB_HOST=x PASSWORD=hunter2\n", ".env")
        assert "hunter2" not in json.dumps(hit.to_dict())


class TestStructure:
    def test_the_yaml_loader_accepts_intrinsic_tags(self) -> None:
        doc = yaml.load(
            "A: !Ref Db\nB: !GetAtt Db.Endpoint.Address\nC: !Sub '${Db}'\n", Loader=CfnLoader
        )
        assert doc == {
            "A": {"Ref": "Db"},
            "B": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
            "C": {"Fn::Sub": "${Db}"},
        }

    def test_a_sub_and_a_depends_on_are_references(self) -> None:
        template = (
            "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n"
            "  Fn:\n    Type: AWS::Lambda::Function\n    DependsOn: Db\n    Properties:\n"
            "      Environment: !Sub 'postgres://${Db.Endpoint.Address}/app'\n"
        )
        found = [(h.rule, h.line) for h in hits(template, "t.yaml")]
        assert ("RES103", 6) in found
        assert ("RES103", 8) in found

    def test_an_aurora_instance_counts_but_a_mysql_instance_does_not(self) -> None:
        instance = "Resources:\n  I:\n    Type: AWS::RDS::DBInstance\n    Properties:\n"
        aurora = instance + "      Engine: aurora-postgresql\n"
        mysql = instance + "      Engine: mysql\n"
        assert "RES101" in rules_of(aurora, "t.yaml")
        assert rules_of(mysql, "t.yaml") == []

    def test_a_serverless_framework_resources_block_is_a_template(self) -> None:
        source = (
            "service: api\nprovider: {name: aws}\n"
            "resources:\n  Resources:\n    Db:\n      Type: AWS::RDS::DBCluster\n"
        )
        assert rules_of(source, "serverless.yml") == ["RES101"]

    def test_a_database_cluster_from_another_library_is_not_rds(self) -> None:
        source = "import { DatabaseCluster } from './my-lib';\nnew DatabaseCluster(this, 'x');\n"
        assert rules_of(source, "stack.ts") == []

    def test_a_renamed_named_import_is_followed(self) -> None:
        source = (
            "import { DatabaseCluster as Db } from 'aws-cdk-lib/aws-rds';\nnew Db(this, 'x');\n"
        )
        assert rules_of(source, "stack.ts") == ["RES203", "RES201"]

    def test_a_python_member_import_and_a_use_of_the_cluster_are_found(self) -> None:
        source = (
            "from aws_cdk.aws_rds import ServerlessCluster\n"
            "db = ServerlessCluster(self, 'Db')\nprint(db.cluster_endpoint)\n"
        )
        assert [(h.rule, h.line) for h in hits(source, "app.py")] == [
            ("RES203", 1),
            ("RES201", 2),
            ("RES201", 3),
        ]

    def test_the_terraform_rds_aurora_module_and_its_outputs_are_found(self) -> None:
        source = (
            'module "db" {\n  source = "terraform-aws-modules/rds-aurora/aws"\n}\n'
            '# output "old" { value = module.db.cluster_endpoint }\n'
            'output "host" {\n  value = "${module.db.cluster_endpoint}"\n}\n'
        )
        assert [(h.rule, h.line) for h in hits(source, "main.tf")] == [
            ("RES301", 1),
            ("RES303", 6),
        ]

    def test_a_subnet_group_serving_a_cluster_through_a_proxy_chain_is_found(self) -> None:
        source = (
            'resource "aws_rds_cluster" "db" {}\n'
            'resource "aws_db_proxy_target" "t" {\n'
            "  db_cluster_identifier = aws_rds_cluster.db.id\n"
            "  db_proxy_name = aws_db_proxy.p.name\n}\n"
            'resource "aws_db_proxy" "p" {\n  name = "p"\n}\n'
        )
        assert sorted(h.rule for h in hits(source, "main.tf")) == ["RES301", "RES302", "RES302"]

    def test_a_broken_template_is_an_error_not_a_pass(self, tmp_path: Path) -> None:
        (tmp_path / "t.json").write_text('{"Resources": {"Db": {"Type": "AWS::RDS::DBCluster"')
        settings = EXAMPLE_SETTINGS.model_copy(update={"target": "none"})
        (result, _target) = check_paths([tmp_path], settings)
        assert result.status is Status.ERROR


class TestAllowlist:
    def test_an_allow_entry_needs_a_reason(self) -> None:
        with pytest.raises(ValueError, match="reason"):
            RetiredSettings.model_validate({"allow": [{"path": "*", "pattern": "x"}]})

    def test_an_entry_waives_only_matches_in_its_paths(self, tmp_path: Path) -> None:
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "note.py").write_text("X = 'legacy-aurora'\n")
        (tmp_path / "app.py").write_text("X = 'legacy-aurora'\n")
        settings = RetiredSettings.model_validate(
            {
                "cluster_ids": ["legacy-aurora"],
                "target": "none",
                "allow": [{"path": "docs/*", "pattern": "legacy", "reason": "history"}],
            }
        )
        results = {r.name: r.status for r in check_paths([tmp_path], settings)}
        assert results[f"{tmp_path.as_posix()}/docs/note.py"] is Status.WAIVED
        assert results[f"{tmp_path.as_posix()}/app.py"] is Status.FAIL


class TestPlanSection:
    def test_a_misspelt_key_names_the_line_and_the_closest_key(self, tmp_path: Path) -> None:
        plan = tmp_path / "plan.yaml"
        plan.write_text(HEADER + "retired:\n  cluster_ids: [abc]\n  hostname: [h.example]\n")
        with pytest.raises(PlanError, match=r"plan.yaml:6: retired.hostname: .*hostnames"):
            load_section(plan, "retired")

    def test_a_plan_without_the_section_says_so(self, tmp_path: Path) -> None:
        plan = tmp_path / "plan.yaml"
        plan.write_text(HEADER)
        with pytest.raises(PlanError, match="no 'retired:' section"):
            load_section(plan, "retired")

    def test_a_plan_without_endpoints_names_the_missing_key(self, tmp_path: Path) -> None:
        # One plan file for every command: the same file later runs `cutover verify`.
        plan = tmp_path / "plan.yaml"
        plan.write_text("name: x\nretired:\n  cluster_ids: [abc]\n")
        with pytest.raises(PlanError, match=r"plan.yaml:1: target: required key is missing"):
            load_section(plan, "retired")

    def test_paths_are_relative_to_the_plan_file(self, tmp_path: Path) -> None:
        (tmp_path / "infra").mkdir()
        plan = tmp_path / "plan.yaml"
        plan.write_text(HEADER + "retired:\n  paths: [infra]\n  cluster_ids: [abc]\n")
        assert load_section(plan, "retired").paths == ((tmp_path / "infra").resolve(),)

    def test_a_path_that_does_not_exist_is_named_with_its_key(self, tmp_path: Path) -> None:
        plan = tmp_path / "plan.yaml"
        plan.write_text(HEADER + "retired:\n  cluster_ids: [abc]\n  paths: [infar]\n")
        with pytest.raises(
            PlanError, match=r"plan.yaml:6: retired.paths: .*infar: no such file or folder"
        ):
            load_section(plan, "retired")


class TestCommand:
    def test_before_exits_1_with_findings_and_after_exits_0(self) -> None:
        runner = CliRunner()
        before = runner.invoke(residue, [str(EXAMPLE / "before"), "--plan", str(PLAN)])
        after = runner.invoke(residue, [str(EXAMPLE / "after"), "--plan", str(PLAN)])

        assert before.exit_code == 1
        assert "Residue in comments and prose:" in before.output
        assert after.exit_code == 0, after.output
        assert "residue_target[dsql]: pass" in after.output

    def test_the_plan_inside_the_scanned_tree_is_not_its_own_finding(self, tmp_path: Path) -> None:
        (tmp_path / "app.py").write_text('HOST = "db.internal"\n', encoding="utf-8")
        plan = tmp_path / "plan.yaml"
        plan.write_text(HEADER + "retired:\n  cluster_ids: [legacy-aurora]\n  target: none\n")
        result = CliRunner().invoke(residue, [str(tmp_path), "--plan", str(plan)])
        assert result.exit_code == 0, result.output
        assert "1 file(s) scanned" in result.output
        (tmp_path / "app.py").write_text('HOST = "legacy-aurora"\n', encoding="utf-8")
        assert CliRunner().invoke(residue, [str(tmp_path), "--plan", str(plan)]).exit_code == 1

    def test_json_output_is_versioned_and_counts_code_and_comments(self) -> None:
        result = CliRunner().invoke(
            residue, [str(EXAMPLE / "before"), "--plan", str(PLAN), "--format", "json"]
        )
        data = json.loads(result.output)
        assert data["format"] == "cutover-residue"
        assert data["version"] == 1
        assert data["summary"]["comments"] == 2

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["nowhere", "--plan", str(PLAN)], "nowhere: no such file or folder"),
            (
                [str(EXAMPLE), "--plan", "missing.yaml"],
                "missing.yaml: plan file not found (create one with `cutover init`)",
            ),
        ],
    )
    def test_usage_errors_are_one_line_and_exit_2(self, args: list[str], message: str) -> None:
        result = CliRunner().invoke(residue, args)
        assert result.exit_code == 2
        assert result.stderr == f"cutover: error: {message}\n"
