"""`cutover verify` with a dynamo: baseline: one item per table, compared with the snapshot
taken before the cutover, in a moto server reached from the harness's own process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import run_cutover
from tests.verify_runs import Verified, empty_sqlite_endpoints, moto_account, plan_for, verify

REGION = "us-east-1"
TABLES = {"profiles": 400, "vocabulary": 250}


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[tuple[str, Any]]:
    """Two tables with a few hundred items each, written through the real API."""
    with moto_account(REGION) as url:
        client = boto3.client("dynamodb", region_name=REGION)
        for table, count in TABLES.items():
            client.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            items = [
                {"PutRequest": {"Item": {"id": {"S": f"{table}-{i:05d}"}, "n": {"N": str(i)}}}}
                for i in range(count)
            ]
            for start in range(0, count, 25):
                client.batch_write_item(RequestItems={table: items[start : start + 25]})
        yield url, client


def snapshot_then_verify(folder: Path, url: str, change: Any = None) -> Verified:
    """Baseline with `cutover dynamo snapshot`, optionally change the tables, then verify."""
    section = {"region": REGION, "endpoint_url": url, "tables": sorted(TABLES), "segments": 3}
    baseline = folder / "dynamo-before.json"
    sections = {**empty_sqlite_endpoints(folder), "lint": None, "retired": None, "posture": None}
    plan = plan_for("after", folder, dynamo=section, **sections)
    done = run_cutover(
        "dynamo", "snapshot", "--plan", str(plan), "--out", str(baseline), "--quiet", cwd=folder
    )
    assert done.returncode == 0, done.stderr
    if change is not None:
        change()
    plan = plan_for("after", folder, dynamo={**section, "baseline": str(baseline)}, **sections)
    return verify(plan, folder)


def test_untouched_tables_pass_one_item_each(dynamodb: tuple[str, Any], tmp_path: Path) -> None:
    url, _ = dynamodb
    run = snapshot_then_verify(tmp_path, url)
    checks = run.checks("dynamo")
    assert {n: c["status"] for n, c in checks.items()} == {"profiles": "pass", "vocabulary": "pass"}
    assert checks["profiles"]["summary"] == "400 items, unchanged"
    assert any(i["kind"] == "snapshot" for i in run.results["inputs"])
    assert run.results["verdict"] == "GO"


def test_one_changed_item_fails_only_its_table(dynamodb: tuple[str, Any], tmp_path: Path) -> None:
    url, client = dynamodb

    def change() -> None:
        client.update_item(
            TableName="vocabulary",
            Key={"id": {"S": "vocabulary-00123"}},
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": "-1"}},
        )

    run = snapshot_then_verify(tmp_path, url, change)
    checks = run.checks("dynamo")
    assert checks["profiles"]["status"] == "pass"
    assert checks["vocabulary"]["status"] == "fail"
    assert "contents changed" in checks["vocabulary"]["summary"]
    assert run.results["verdict"] == "NO-GO"
    assert run.code == 1
