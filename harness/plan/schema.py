"""JSON Schemas generated from the models (checked in under ``schemas/``; tests keep them fresh)."""

from __future__ import annotations

import json

from harness.plan.model import Plan

PLAN_SCHEMA_ID = "https://cutover.dev/schemas/plan.schema.json"


def plan_schema() -> dict[str, object]:
    schema = Plan.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": PLAN_SCHEMA_ID,
        **schema,
    }


def plan_schema_text() -> str:
    return json.dumps(plan_schema(), indent=2, sort_keys=True) + "\n"
