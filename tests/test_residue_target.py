"""SC-001 judges the whole tree: CloudFormation, cdk.out, CDK source, Terraform and plans."""

from __future__ import annotations

from pathlib import Path

from harness.residue import RetiredSettings, check_target
from harness.results.check import Status

PLAN = RetiredSettings(cluster_ids=("orders-aurora",))
DATA = Path(__file__).resolve().parent / "data"

DSQL_TEMPLATE = "Resources:\n  Ledger:\n    Type: AWS::DSQL::Cluster\n"
DSQL_TF = 'resource "aws_dsql_cluster" "ledger" {\n  deletion_protection_enabled = true\n}\n'
RDS_TF = 'resource "aws_rds_cluster" "db" {\n  engine = "aurora-postgresql"\n}\n'


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


class TestWholeTree:
    def test_a_terraform_only_migrated_tree_passes(self, tmp_path: Path) -> None:
        result = check_target([tree(tmp_path, {"db.tf": DSQL_TF})], PLAN)
        assert result.status is Status.PASS, result.summary
        assert result.evidence["dsql_clusters"] == [f"{tmp_path}/db.tf:1:aws_dsql_cluster.ledger"]

    def test_a_terraform_rds_cluster_beside_a_dsql_template_fails(self, tmp_path: Path) -> None:
        root = tree(tmp_path, {"cfn/db.yaml": DSQL_TEMPLATE, "tf/legacy.tf": RDS_TF})
        result = check_target([root], PLAN)
        assert result.status is Status.FAIL
        assert result.evidence["rds"] == [f"{tmp_path}/tf/legacy.tf:1:aws_rds_cluster.db"]
        assert "(terraform)" in result.summary

    def test_a_standalone_rds_instance_counts_when_the_plan_retires_it(
        self, tmp_path: Path
    ) -> None:
        root = tree(
            tmp_path,
            {
                "db.tf": DSQL_TF
                + 'resource "aws_db_instance" "billing" {\n  identifier = "billing-db"\n'
                '  engine = "postgres"\n}\n'
            },
        )
        assert check_target([root], PLAN).status is Status.PASS
        named = PLAN.model_copy(update={"instance_ids": ("billing-db",)})
        assert check_target([root], named).status is Status.FAIL
        last = PLAN.model_copy(update={"last_rds_database": True})
        assert check_target([root], last).evidence["rds"] == [
            f"{tmp_path}/db.tf:4:aws_db_instance.billing"
        ]

    def test_cdk_source_counts_when_there_is_no_cdk_out(self, tmp_path: Path) -> None:
        source = (
            "import * as rds from 'aws-cdk-lib/aws-rds';\n"
            "import * as dsql from 'aws-cdk-lib/aws-dsql';\n"
            "new dsql.CfnCluster(this, 'Ledger', {});\n"
            "new rds.ServerlessCluster(this, 'Legacy', {});\n"
        )
        result = check_target([tree(tmp_path, {"lib/stack.ts": source})], PLAN)
        assert result.status is Status.FAIL
        assert result.evidence["dsql_clusters"] == [f"{tmp_path}/lib/stack.ts:3:Ledger"]
        assert result.evidence["rds"] == [f"{tmp_path}/lib/stack.ts:4:Legacy"]

    def test_cdk_out_is_the_word_over_its_source(self, tmp_path: Path) -> None:
        """A stale synth is what would deploy: its RDS cluster fails SC-001 though the source
        was migrated (synthesize again)."""
        root = tree(
            tmp_path,
            {
                "cdk.json": '{"app": "npx ts-node bin/app.ts"}\n',
                "lib/stack.ts": "import * as dsql from 'aws-cdk-lib/aws-dsql';\n"
                "new dsql.CfnCluster(this, 'Ledger', {});\n",
                "cdk.out/App.template.json": (
                    '{"Resources": {"Db": {"Type": "AWS::RDS::DBCluster"}}}'
                ),
            },
        )
        result = check_target([root], PLAN)
        assert result.status is Status.FAIL
        assert result.evidence["dsql_clusters"] == []
        assert list(result.evidence["counted"]) == ["cloudformation"]

    def test_cdk_out_of_another_app_does_not_hide_this_apps_source(self, tmp_path: Path) -> None:
        root = tree(
            tmp_path,
            {
                "billing/cdk.json": "{}\n",
                "billing/cdk.out/Billing.template.json": DSQL_TEMPLATE,
                "orders/cdk.json": '{"output": "build/synth"}\n',
                "orders/lib/stack.py": "from aws_cdk import aws_rds as rds\n"
                "rds.DatabaseCluster(self, 'Orders')\n",
            },
        )
        result = check_target([root], PLAN)
        assert result.evidence["rds"] == [f"{tmp_path}/orders/lib/stack.py:2:Orders"]

    def test_two_dsql_clusters_are_not_exactly_one(self, tmp_path: Path) -> None:
        root = tree(tmp_path, {"a.yaml": DSQL_TEMPLATE, "b.tf": DSQL_TF})
        result = check_target([root], PLAN)
        assert result.status is Status.FAIL
        assert "expected exactly one DSQL cluster, found 2" in result.summary

    def test_a_tree_without_infrastructure_code_is_an_error(self, tmp_path: Path) -> None:
        root = tree(tmp_path, {"app.py": "print('hello')\n", "README.md": "# x\n"})
        result = check_target([root], PLAN)
        assert result.status is Status.ERROR
        assert "no infrastructure code found" in result.summary

    def test_python_that_is_not_a_cdk_app_is_not_infrastructure(self, tmp_path: Path) -> None:
        root = tree(tmp_path, {"db.tf": DSQL_TF, "handler.py": "import boto3\n"})
        assert list(check_target([root], PLAN).evidence["counted"]) == ["terraform"]

    def test_no_target_skips(self, tmp_path: Path) -> None:
        none = PLAN.model_copy(update={"target": "none"})
        assert check_target([tree(tmp_path, {"a.tf": RDS_TF})], none).status is Status.SKIP

    def test_the_example_trees_evidence_names_file_line_and_logical_id(self) -> None:
        example = DATA.parent.parent / "examples" / "rds-to-dsql"
        result = check_target([example / "after"], PLAN, short=True)
        assert result.evidence["dsql_clusters"] == [
            "after/cdk.out/LexiconStack.template.json:92:Ledger0A9B8C7D"
        ]
