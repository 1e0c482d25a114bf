"""DynamoDB untouched: snapshots of counts and digests, compared."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from harness.dynamo import (
    DynamoError,
    DynamoSettings,
    compare,
    read_snapshot,
    take_snapshot,
    write_snapshot,
)
from harness.dynamo.command import dynamo
from harness.dynamo.digest import combine, hexdigest, item_hash
from harness.results.check import FindingKind, Status

REGION = "us-east-1"
BIG = 20_000


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def make_table(client: Any, name: str, items: int) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # Straight into moto's backend: 20,000 PutItem requests through botocore would take
    # longer than the scans under test. The scans themselves go through the real API.
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    for i in range(items):
        backend.put_item(name, {"id": {"S": f"u{i:06d}"}, "score": {"N": str(i)}})


def settings(*tables: str) -> DynamoSettings:
    return DynamoSettings(tables=tables, region=REGION, segments=4)


class TestDigest:
    def test_the_digest_does_not_depend_on_item_order(self) -> None:
        items = [{"id": {"S": str(i)}, "tags": {"SS": ["b", "a"]}} for i in range(200)]
        shuffled = items[:]
        random.Random(7).shuffle(shuffled)
        assert combine(*map(item_hash, items)) == combine(*map(item_hash, shuffled))

    def test_sets_and_numbers_are_canonical(self) -> None:
        one = {"n": {"N": "1.50"}, "s": {"SS": ["x", "y"]}, "b": {"B": b"\x00"}}
        same = {"b": {"B": b"\x00"}, "s": {"SS": ["y", "x"]}, "n": {"N": "1.5"}}
        assert item_hash(one) == item_hash(same)

    def test_one_changed_attribute_changes_the_digest(self) -> None:
        assert item_hash({"m": {"M": {"a": {"BOOL": True}}}}) != item_hash(
            {"m": {"M": {"a": {"BOOL": False}}}}
        )

    def test_two_equal_items_do_not_cancel_out(self) -> None:
        h = item_hash({"id": {"S": "x"}})
        assert combine(h, h) != 0
        assert hexdigest(combine(h, h)) != hexdigest(0)


class TestSnapshots:
    def test_a_single_changed_item_among_twenty_thousand_is_detected(self, aws: Any) -> None:
        make_table(aws, "vocabulary", BIG)
        make_table(aws, "profiles", 50)
        before = take_snapshot(settings("vocabulary", "profiles"), client=aws)
        aws.update_item(
            TableName="vocabulary",
            Key={"id": {"S": "u012345"}},
            UpdateExpression="SET score = :s",
            ExpressionAttributeValues={":s": {"N": "-1"}},
        )
        after = take_snapshot(settings("vocabulary", "profiles"), client=aws)

        assert before.tables["vocabulary"].items == BIG
        results = {r.name: r for r in compare(before, after)}
        assert results["profiles"].status is Status.PASS
        assert results["vocabulary"].status is Status.FAIL
        assert "contents changed" in results["vocabulary"].summary

    def test_counts_and_missing_tables_are_named(self, aws: Any, tmp_path: Path) -> None:
        make_table(aws, "sessions", 30)
        make_table(aws, "profiles", 10)
        before = write_snapshot(take_snapshot(settings("sessions", "profiles")), tmp_path / "a")
        aws.delete_item(TableName="sessions", Key={"id": {"S": "u000003"}})
        after = write_snapshot(take_snapshot(settings("sessions")), tmp_path / "b")

        results = {r.name: r for r in compare(read_snapshot(before), read_snapshot(after))}
        assert results["sessions"].findings[0].kind is FindingKind.ROW_COUNT
        assert "30 items before, 29 after" in results["sessions"].summary
        assert results["profiles"].findings[0].kind is FindingKind.MISSING_TABLE

    def test_a_snapshot_file_holds_no_item_values(self, aws: Any, tmp_path: Path) -> None:
        make_table(aws, "profiles", 5)
        path = write_snapshot(take_snapshot(settings("profiles")), tmp_path / "s.json")
        text = path.read_text()
        assert "u000001" not in text
        assert json.loads(text)["version"] == 1

    def test_a_missing_table_is_a_dynamo_error(self, aws: Any) -> None:
        with pytest.raises(DynamoError, match="table ghost: cannot scan: ResourceNotFound"):
            take_snapshot(settings("ghost"), client=aws)


class TestCommand:
    def write(self, path: Path, tables: dict[str, tuple[int, str]]) -> str:
        path.write_text(
            json.dumps(
                {
                    "format": "cutover-dynamo-snapshot",
                    "version": 1,
                    "taken_at": "2025-06-14T00:00:00+00:00",
                    "region": REGION,
                    "tables": {
                        name: {"items": n, "digest": d, "segments": 4, "seconds": 0.1}
                        for name, (n, d) in tables.items()
                    },
                }
            )
        )
        return str(path)

    def test_compare_names_the_changed_table_and_exits_1(self, tmp_path: Path) -> None:
        a = self.write(tmp_path / "a.json", {"profiles": (3, "aa"), "vocabulary": (5, "bb")})
        b = self.write(tmp_path / "b.json", {"profiles": (3, "aa"), "vocabulary": (5, "cc")})
        result = CliRunner().invoke(dynamo, ["compare", a, b])
        assert result.exit_code == 1
        assert "changed: vocabulary" in result.output

    def test_compare_of_equal_snapshots_exits_0(self, tmp_path: Path) -> None:
        a = self.write(tmp_path / "a.json", {"profiles": (3, "aa")})
        result = CliRunner().invoke(dynamo, ["compare", a, a])
        assert result.exit_code == 0

    def test_a_snapshot_of_another_version_is_a_usage_error(self, tmp_path: Path) -> None:
        a = self.write(tmp_path / "a.json", {"profiles": (3, "aa")})
        data = json.loads(Path(a).read_text())
        data["version"] = 2
        Path(a).write_text(json.dumps(data))
        result = CliRunner().invoke(dynamo, ["compare", a, a])
        assert result.exit_code == 2
        assert result.stderr.startswith(f"cutover: error: {a}: snapshot version 2")

    def test_snapshot_writes_a_file_from_the_plan(self, aws: Any, tmp_path: Path) -> None:
        make_table(aws, "profiles", 12)
        plan = tmp_path / "plan.yaml"
        plan.write_text(
            "name: x\nsource: {kind: sqlite, path: a.db}\ntarget: {kind: sqlite, path: b.db}\n"
            f"dynamo:\n  region: {REGION}\n  tables: [profiles]\n"
        )
        out = tmp_path / "snap.json"
        result = CliRunner().invoke(
            dynamo, ["snapshot", "--plan", str(plan), "--out", str(out), "--quiet"]
        )
        assert result.exit_code == 0, result.output
        assert read_snapshot(out).tables["profiles"].items == 12
