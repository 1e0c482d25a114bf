"""results.json is valid for every endpoint kind the plan accepts.

The kinds are read from the plan's endpoint union (``harness.endpoints.settings.Endpoint``,
which ``harness.plan.model`` uses for ``source`` and ``target``), never listed here, so a new
kind of endpoint (``dsql-local``…) fails this test until results.schema.json accepts it: a run
against it would otherwise write a results.json that every reader refuses.
"""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.plan.model import Plan
from harness.results.files import RESULTS_SCHEMA, load_results, results_bytes
from harness.results.record import NO_SOURCE, UNREAD, build_results, environment


def plan_endpoint_kinds() -> list[str]:
    """Every ``kind`` a plan's ``source``/``target`` may have, from the model itself."""
    annotation = typing.get_type_hints(Plan, include_extras=True)["target"]
    union = typing.get_args(annotation)[0]  # Annotated[Union[...], Field(discriminator=...)]
    kinds = []
    for model in typing.get_args(union):
        kinds.extend(typing.get_args(model.model_fields["kind"].annotation))
    return kinds


KINDS = plan_endpoint_kinds()


def run_with(kind: str) -> dict[str, Any]:
    side = {"kind": kind, "display": f"{kind}: somewhere", "server_version": "16.4"}
    check = {
        "id": "row_count[orders]",
        "area": "row_count",
        "name": "orders",
        "status": "pass",
        "summary": "3 rows on both sides",
        "duration_s": 0.01,
        "findings": [],
        "evidence": {},
        "nodeid": "scenarios/test_row_counts.py::test_row_count[orders]",
    }
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    return build_results(
        plan={"name": "kinds", "path": "/plans/kinds.yaml", "sha256": "0" * 64},
        checks=[check],
        expected_differences=[],
        env=environment(side, side, 0),
        started=moment,
        finished=moment,
    )


def test_the_plan_accepts_the_kinds_the_issue_names() -> None:
    assert {"aurora", "dsql"} <= set(KINDS)


def test_the_shipped_schema_lists_exactly_the_plans_endpoint_kinds() -> None:
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    listed = schema["$defs"]["side"]["properties"]["kind"]["enum"]
    assert sorted(listed) == sorted([*KINDS, NO_SOURCE["kind"], UNREAD["kind"]]), (
        "schemas/results.schema.json $defs.side.properties.kind.enum must list every endpoint "
        f"kind of harness/endpoints/settings.py: {sorted(KINDS)}"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_against_each_kind_reads_back(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(results_bytes(run_with(kind)))
    results = load_results(path)
    assert results["environment"]["target"]["kind"] == kind
    assert results["verdict"] == "GO"


def test_a_target_only_run_reads_back(tmp_path: Path) -> None:
    """A plan without a source records ``none`` as its source (harness.plugin.NO_SOURCE)."""
    results = run_with("aurora")
    results["environment"]["source"] = dict(NO_SOURCE)
    path = tmp_path / "results.json"
    path.write_bytes(results_bytes(results))
    assert load_results(path)["environment"]["source"]["kind"] == "none"


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(results_bytes(run_with("oracle")))
    with pytest.raises(HarnessError, match=r'environment\.\w+\.kind: "oracle" is not one of'):
        load_results(path)
