"""Terraform: references resolved across files and modules, the HCL reader, and plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.iac import hcl
from harness.residue import RetiredSettings, check_paths
from harness.residue.terraform import TfFile, analyse, plan_json
from harness.results.check import Status

SETTINGS = RetiredSettings(cluster_ids=("orders-aurora",), target="none")


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def found(root: Path, settings: RetiredSettings = SETTINGS) -> set[tuple[str, int, str, str]]:
    """(file, line, rule, text) of every hit under ``root``."""
    out = set()
    for result in check_paths([root], settings):
        name = Path(result.name).relative_to(root).as_posix() if result.area == "residue" else ""
        for hit in result.evidence.get("code", []):
            out.add((name, hit["line"], hit["rule"], hit["text"]))
    return out


CLUSTER = 'resource "aws_rds_cluster" "db" {\n  engine = "aurora-postgresql"\n}\n'


class TestReferencesAcrossFiles:
    def test_an_output_in_another_file_is_a_reference(self, tmp_path: Path) -> None:
        root = tree(
            tmp_path,
            {
                "main.tf": CLUSTER,
                "outputs.tf": 'output "e" {\n  value = aws_rds_cluster.db.endpoint\n}\n',
            },
        )
        assert ("outputs.tf", 2, "RES303", "aws_rds_cluster.db") in found(root)

    def test_a_local_carries_the_reference_to_every_use(self, tmp_path: Path) -> None:
        root = tree(
            tmp_path,
            {
                "main.tf": CLUSTER,
                "locals.tf": "locals {\n  host = aws_rds_cluster.db.endpoint\n}\n",
                "app.tf": 'resource "aws_lambda_function" "f" {\n'
                "  environment {\n    variables = { DB = local.host }\n  }\n}\n",
            },
        )
        hits = found(root)
        assert ("locals.tf", 2, "RES303", "aws_rds_cluster.db") in hits
        assert ("app.tf", 3, "RES303", "local.host") in hits

    def test_a_module_input_its_variable_and_every_use_are_found(self, tmp_path: Path) -> None:
        root = tree(
            tmp_path,
            {
                "main.tf": CLUSTER + 'module "app" {\n  source  = "./modules/app"\n'
                '  db_host = aws_rds_cluster.db.endpoint\n  name    = "orders"\n}\n',
                "modules/app/variables.tf": 'variable "db_host" {}\nvariable "name" {}\n',
                "modules/app/main.tf": 'resource "aws_ssm_parameter" "host" {\n'
                '  name  = "/${var.name}/db"\n  value = var.db_host\n}\n',
            },
        )
        hits = found(root)
        assert ("main.tf", 6, "RES303", "aws_rds_cluster.db") in hits
        assert ("modules/app/variables.tf", 1, "RES303", 'variable "db_host"') in hits
        assert ("modules/app/main.tf", 3, "RES303", "var.db_host") in hits
        assert not any("var.name" in h[3] or '"name"' in h[3] for h in hits)

    def test_a_module_output_is_followed_into_the_module(self, tmp_path: Path) -> None:
        root = tree(
            tmp_path,
            {
                "main.tf": 'module "db" {\n  source = "./db"\n}\n'
                'output "host" {\n  value = module.db.endpoint\n}\n'
                'output "dsql" {\n  value = module.db.dsql_endpoint\n}\n',
                "db/main.tf": CLUSTER + 'resource "aws_dsql_cluster" "new" {}\n'
                'output "endpoint" {\n  value = aws_rds_cluster.db.endpoint\n}\n'
                'output "dsql_endpoint" {\n  value = aws_dsql_cluster.new.identifier\n}\n',
            },
        )
        hits = found(root)
        assert ("main.tf", 1, "RES301", 'module "db"') in hits
        assert ("main.tf", 5, "RES303", "module.db.endpoint") in hits
        assert not any(h[1] == 8 and h[0] == "main.tf" for h in hits)

    def test_a_module_used_by_two_roots_is_judged_by_both_callers(self, tmp_path: Path) -> None:
        module = 'variable "db" {}\noutput "x" {\n  value = var.db\n}\n'
        root = tree(
            tmp_path,
            {
                "envs/old/main.tf": CLUSTER
                + 'module "m" {\n  source = "../../m"\n  db = aws_rds_cluster.db.arn\n}\n',
                "envs/new/main.tf": 'module "m" {\n  source = "../../m"\n  db = "dsql"\n}\n',
                "m/main.tf": module,
            },
        )
        hits = found(root)
        assert ("m/main.tf", 1, "RES303", 'variable "db"') in hits
        assert not any(h[0] == "envs/new/main.tf" for h in hits)

    def test_a_cycle_between_locals_does_not_hang(self, tmp_path: Path) -> None:
        root = tree(tmp_path, {"main.tf": "locals {\n  a = local.b\n  b = local.a\n}\n"})
        assert found(root) == set()

    def test_a_description_naming_an_address_is_not_a_reference(self, tmp_path: Path) -> None:
        root = tree(
            tmp_path,
            {
                "main.tf": CLUSTER,
                "other.tf": 'resource "aws_ssm_parameter" "p" {\n'
                '  description = "replaces aws_rds_cluster.db"\n  value = "x"\n}\n',
            },
        )
        assert not any(h[0] == "other.tf" for h in found(root))

    def test_the_scenario_reads_a_file_with_its_tree(self, tmp_path: Path) -> None:
        """``check_file`` (one item per file) sees the references of the whole tree."""
        from harness.residue.checks import check_file
        from harness.residue.scan import Source

        root = tree(
            tmp_path,
            {
                "main.tf": CLUSTER,
                "outputs.tf": 'output "e" {\n  value = aws_rds_cluster.db.id\n}\n',
            },
        )
        result = check_file(Source(root / "outputs.tf", root), SETTINGS)
        assert result.status is Status.FAIL
        assert result.evidence["code"][0]["rule"] == "RES303"


class TestHclReader:
    def test_heredocs_and_nested_interpolations_do_not_end_a_block(self) -> None:
        code = (
            'resource "x_y" "a" {\n  body = <<EOT\n}\n${jsonencode({"k" = "}"})}\nEOT\n'
            '  name = "${var.a == "}" ? "a" : "b"}"\n}\nresource "x_y" "b" {}\n'
        )
        blocks = hcl.parse(code)
        assert [(b.kind, b.labels) for b in blocks] == [
            ("resource", ("x_y", "a")),
            ("resource", ("x_y", "b")),
        ]
        assert [a.name for a in blocks[0].attributes] == ["body", "name"]

    def test_masking_keeps_interpolations_and_offsets(self) -> None:
        code = 'a = "text aws_rds_cluster.x ${aws_rds_cluster.y.id}"\n'
        masked = hcl.mask(code)
        assert len(masked) == len(code)
        assert "aws_rds_cluster.x" not in masked
        assert "${aws_rds_cluster.y.id}" in masked

    def test_jsonencode_objects_are_read_with_positions(self) -> None:
        code = 'p = jsonencode({\n  Statement = [{ Action = ["a:b", "c:d"], Resource = "*" }]\n})\n'
        (attribute,) = hcl.parse("x {\n" + code + "}\n")[0].attributes
        value = hcl.value("x {\n" + code + "}\n", attribute.value_start, attribute.value_end)
        statement = value.get("Statement")
        assert statement is not None
        actions = statement.elements()[0].get("Action")
        assert actions is not None
        assert [a.text for a in actions.elements()] == ["a:b", "c:d"]

    def test_a_broken_file_is_read_as_far_as_it_goes(self) -> None:
        text = 'resource "aws_rds_cluster" "db" {\n  engine = "aurora-postgresql"\n'
        report = analyse([TfFile.read("main.tf", ".", text)], SETTINGS)
        assert [h.rule for h in report.hits["main.tf"]] == ["RES301"]


PLANS = Path(__file__).resolve().parent / "data" / "residue_tfplan"


class TestTerraformShowJson:
    def test_the_reader_keeps_every_position(self) -> None:
        text = '{"a": [1, {"b": "c"}], "d": null}'
        doc = plan_json.read(text)
        assert doc == {"a": [1, {"b": "c"}], "d": None}
        assert text[doc.keys_at["d"] :].startswith('"d"')
        assert text[doc["a"].at[1] :].startswith('{"b"')

    @pytest.mark.parametrize("text", ["{", '{"a" 1}', "[1,]", '{"a": 1} x'])
    def test_broken_json_is_a_value_error(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"offset|end of JSON"):
            plan_json.read(text)

    def test_a_one_line_plan_names_the_column(self, tmp_path: Path) -> None:
        plan = json.loads((PLANS / "pending" / "tfplan.json").read_text(encoding="utf-8"))
        (tmp_path / "tfplan.json").write_text(json.dumps(plan, separators=(",", ":")))
        hits = check_paths([tmp_path / "tfplan.json"], SETTINGS)[0].evidence["code"]
        assert {h["line"] for h in hits} == {1}
        assert len({h["column"] for h in hits}) == len(hits)

    def test_a_resource_the_plan_makes_no_instance_of_is_not_residue(self) -> None:
        text = (PLANS / "pending" / "tfplan.json").read_text(encoding="utf-8")
        assert "aws_rds_cluster.reporting" in text  # configured with count = 0
        report = plan_json.analyse(plan_json.read(text), "p", text, SETTINGS)
        assert not any("reporting" in h.message for h in report.hits["p"])

    def test_a_plan_that_deletes_the_cluster_is_the_migration_not_residue(self) -> None:
        text = (PLANS / "migrated" / "tfplan.json").read_text(encoding="utf-8")
        assert '"actions":["delete"]' in text
        assert "orders-aurora" in text
        results = check_paths([PLANS / "migrated"], SETTINGS.model_copy(update={"target": "dsql"}))
        assert [r.status for r in results] == [Status.PASS, Status.PASS]

    def test_the_plan_replaces_the_source_in_the_census(self, tmp_path: Path) -> None:
        """The .tf source declares an RDS cluster behind a count the plan resolves to 0."""
        (tmp_path / "main.tf").write_text(
            'variable "legacy" { default = false }\n'
            'resource "aws_rds_cluster" "db" {\n  count = var.legacy ? 1 : 0\n}\n'
        )
        (tmp_path / "tfplan.json").write_bytes((PLANS / "migrated" / "tfplan.json").read_bytes())
        settings = SETTINGS.model_copy(update={"target": "dsql"})
        target = check_paths([tmp_path], settings)[-1]
        assert target.status is Status.PASS
        assert list(target.evidence["counted"]) == ["terraform-plan"]

    def test_json_that_is_not_a_plan_is_read_as_before(self, tmp_path: Path) -> None:
        (tmp_path / "versions.json").write_text('{"terraform_version": "1.9.8", "other": 1}\n')
        (result, _target) = check_paths([tmp_path], SETTINGS)
        assert result.status is Status.PASS
        assert result.evidence["kind"] == "config"
