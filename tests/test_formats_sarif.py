"""Specification of the SARIF 2.1.0 writer (harness.report.formats.sarif).

The log is validated against a strict subset of the OASIS SARIF 2.1.0 schema written out
below: only the objects and properties cutover emits, each closed with
``additionalProperties: false`` as the official schema closes them, with the official
required fields, enums and minimums. A log valid here is therefore valid there.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from harness.errors import HarnessError
from harness.report.formats import SarifFinding, SarifRule, sarif_json, sarif_log, sarif_run

_TEXT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}},
}
_POSITIVE = {"type": "integer", "minimum": 1}
SARIF_SUBSET: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"enum": ["2.1.0"]},
        "runs": {"type": "array", "items": {"$ref": "#/definitions/run"}},
    },
    "definitions": {
        "run": {
            "type": "object",
            "additionalProperties": False,
            "required": ["tool"],
            "properties": {
                "tool": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["driver"],
                    "properties": {"driver": {"$ref": "#/definitions/toolComponent"}},
                },
                "originalUriBaseIds": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/definitions/artifactLocation"},
                },
                "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                "results": {"type": "array", "items": {"$ref": "#/definitions/result"}},
                "properties": {"$ref": "#/definitions/propertyBag"},
            },
        },
        "toolComponent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "informationUri": {"type": "string", "format": "uri"},
                "rules": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {"$ref": "#/definitions/reportingDescriptor"},
                },
            },
        },
        "reportingDescriptor": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "shortDescription": _TEXT,
                "fullDescription": _TEXT,
                "help": _TEXT,
                "helpUri": {"type": "string", "format": "uri"},
                "defaultConfiguration": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
                },
                "properties": {"$ref": "#/definitions/propertyBag"},
            },
        },
        "propertyBag": {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "uniqueItems": True, "items": {"type": "string"}}
            },
        },
        "result": {
            "type": "object",
            "additionalProperties": False,
            "required": ["message"],
            "properties": {
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": -1},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": _TEXT,
                "locations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "physicalLocation": {"$ref": "#/definitions/physicalLocation"}
                        },
                    },
                },
                "partialFingerprints": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
                "suppressions": {
                    "type": "array",
                    "minItems": 0,
                    "uniqueItems": True,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["kind"],
                        "properties": {
                            "kind": {"enum": ["inSource", "external"]},
                            "status": {"enum": ["accepted", "underReview", "rejected"]},
                            "justification": {"type": "string"},
                        },
                    },
                },
            },
        },
        "physicalLocation": {
            "type": "object",
            "additionalProperties": False,
            "required": ["artifactLocation"],
            "properties": {
                "artifactLocation": {"$ref": "#/definitions/artifactLocation"},
                "region": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "startLine": _POSITIVE,
                        "startColumn": _POSITIVE,
                        "endLine": _POSITIVE,
                        "endColumn": _POSITIVE,
                        "snippet": _TEXT,
                    },
                },
            },
        },
        "artifactLocation": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "uri": {"type": "string", "format": "uri-reference"},
                "uriBaseId": {"type": "string"},
            },
        },
    },
}

SERIAL = SarifRule(
    "DSQL001",
    "SERIAL columns are not supported",
    name="no-serial",
    full="Aurora DSQL has no sequences behind SERIAL.",
    help="Use a UUID primary key, or an identity column with CACHE.",
    help_markdown="Use `uuid` or `GENERATED ALWAYS AS IDENTITY (CACHE 1000)`.",
    help_uri="https://cutover.dev/rules/DSQL001",
    severity="error",
    tags=("dsql", "compatibility"),
    properties={"as_of": "2031-05-01"},
)
TRIGGER = SarifRule("DSQL007", "Triggers are not supported", severity="warning")
RESIDUE = SarifRule("RES001", "Reference to the retired cluster", severity="info")


def findings() -> list[SarifFinding]:
    return [
        SarifFinding(TRIGGER, "CREATE TRIGGER audit_orders", "sql/002_triggers.sql", line=4),
        SarifFinding(SERIAL, "orders.id is SERIAL", "sql/001 init.sql", line=3, column=5),
        SarifFinding(SERIAL, "lines.id is SERIAL", "sql/001 init.sql", line=12, column=5),
    ]


def validate(log: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(SARIF_SUBSET)
    jsonschema.Draft7Validator(
        SARIF_SUBSET, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    ).validate(log)


def one_run(**kwargs: Any) -> dict[str, Any]:
    log = sarif_log(sarif_run(kwargs.pop("items", findings()), tool_version="0.1.0", **kwargs))
    validate(log)
    run: dict[str, Any] = log["runs"][0]
    return run


class TestSarif:
    def test_a_log_is_valid_sarif_2_1_0(self) -> None:
        log = sarif_log(
            sarif_run(findings(), tool_version="0.1.0", source_root="file:///work/app/"),
            sarif_run([], tool_name="cutover-residue", tool_version="0.1.0", rules=[RESIDUE]),
        )
        validate(log)
        assert log["version"] == "2.1.0"
        assert len(log["runs"]) == 2

    def test_the_subset_schema_rejects_what_sarif_rejects(self) -> None:
        run = one_run()
        run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
        with pytest.raises(jsonschema.ValidationError):
            validate(sarif_log(run))
        with pytest.raises(jsonschema.ValidationError):
            validate(sarif_log({"tool": {"driver": {"name": "x"}}, "bogus": 1}))

    def test_rules_are_described_once_each_sorted_by_id(self) -> None:
        rules = one_run(rules=[RESIDUE])["tool"]["driver"]["rules"]
        assert [r["id"] for r in rules] == ["DSQL001", "DSQL007", "RES001"]
        assert rules[0] == {
            "id": "DSQL001",
            "name": "no-serial",
            "shortDescription": {"text": "SERIAL columns are not supported"},
            "fullDescription": {"text": "Aurora DSQL has no sequences behind SERIAL."},
            "help": {
                "text": "Use a UUID primary key, or an identity column with CACHE.",
                "markdown": "Use `uuid` or `GENERATED ALWAYS AS IDENTITY (CACHE 1000)`.",
            },
            "helpUri": "https://cutover.dev/rules/DSQL001",
            "defaultConfiguration": {"level": "error"},
            "properties": {"as_of": "2031-05-01", "tags": ["compatibility", "dsql"]},
        }

    def test_results_point_at_their_rule_and_place(self) -> None:
        run = one_run()
        first = run["results"][0]
        assert first["ruleId"] == "DSQL001"
        assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "DSQL001"
        assert first["level"] == "error"
        assert first["message"] == {"text": "orders.id is SERIAL"}
        assert first["locations"] == [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "sql/001%20init.sql", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 3, "startColumn": 5},
                }
            }
        ]

    def test_results_are_sorted_by_file_and_line_whatever_the_input_order(self) -> None:
        where = [
            (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in one_run(items=list(reversed(findings())))["results"]
        ]  # fmt: skip
        assert where == [
            ("sql/001%20init.sql", 3),
            ("sql/001%20init.sql", 12),
            ("sql/002_triggers.sql", 4),
        ]

    def test_fingerprints_ignore_the_line_and_keep_a_given_one(self) -> None:
        moved = SarifFinding(SERIAL, "orders.id is SERIAL", "sql/001 init.sql", line=30)
        pinned = SarifFinding(TRIGGER, "x", "a.sql", fingerprint="abc123")
        results = one_run(items=[*findings(), moved, pinned])["results"]
        prints = {
            (
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"),
            ): r["partialFingerprints"]["cutoverFinding/v1"]
            for r in results
        }
        assert prints["sql/001%20init.sql", 3] == prints["sql/001%20init.sql", 30]
        assert prints["sql/001%20init.sql", 3] != prints["sql/001%20init.sql", 12]
        assert prints["a.sql", None] == "abc123"

    @pytest.mark.parametrize(
        ("severity", "level"), [("error", "error"), ("warning", "warning"), ("info", "note")]
    )
    def test_cutover_severities_become_sarif_levels(self, severity: str, level: str) -> None:
        item = SarifFinding(TRIGGER, "m", "a.sql", severity=severity)
        assert one_run(items=[item])["results"][0]["level"] == level

    def test_plain_dicts_are_accepted_as_findings(self) -> None:
        item = {
            "rule_id": "RES001",
            "rule": {"id": "RES001", "short": "Reference to the retired cluster", "tags": ["iac"]},
            "message": "aws_rds_cluster.legacy still referenced",
            "path": "/srv/infra/main.tf",
            "line": 7,
        }
        run = one_run(items=[item])
        location = run["results"][0]["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "file:///srv/infra/main.tf"}
        assert run["tool"]["driver"]["rules"][0]["properties"] == {"tags": ["iac"]}

    @pytest.mark.parametrize(
        ("item", "message"),
        [
            ({"rule": {"id": "R", "short": "s"}, "message": "m", "pth": "a"}, "unknown field"),
            ({"rule": {"id": "R", "short": "s"}, "message": "m"}, "path"),
            (
                {"rule_id": "X", "rule": {"id": "R", "short": "s"}, "message": "m", "path": "a"},
                "names rule X but carries rule R",
            ),
            ({"rule": {"id": "R", "short": "s"}, "message": "m", "path": "a", "line": 0}, "not 1"),
            (
                {"rule": {"id": "R", "short": "s"}, "message": "m", "path": "a", "severity": "bad"},
                "is not one of",
            ),
        ],
    )
    def test_bad_findings_are_harness_errors_naming_the_problem(
        self, item: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(HarnessError, match=message):
            sarif_run([item], tool_version="0")

    def test_one_rule_id_described_two_ways_is_an_error(self) -> None:
        other = SarifRule("DSQL001", "something else")
        with pytest.raises(HarnessError, match="DSQL001 is described two different ways"):
            sarif_run(findings(), tool_version="0", rules=[other])

    def test_the_same_findings_give_the_same_text(self) -> None:
        def text(items: list[SarifFinding]) -> str:
            return sarif_json(sarif_log(sarif_run(items, tool_version="0.1.0")))

        assert text(findings()) == text(list(reversed(findings())))
        assert json.loads(text(findings()))["version"] == "2.1.0"
        assert text(findings()).endswith("}\n")


class TestFromResults:
    """results.json → results.sarif (harness.report.formats.findings), from the real linter's and
    residue scanner's check results."""

    @pytest.fixture
    def results(self, tmp_path: Any) -> dict[str, Any]:
        from datetime import UTC, datetime

        from harness.lint.api import lint_paths, to_check_result
        from harness.lint.settings import LintSettings, LintWaiver
        from harness.residue.checks import check_paths
        from harness.residue.rules import EXAMPLE_SETTINGS
        from harness.results.record import build_results, environment

        sql = tmp_path / "V1.sql"
        sql.write_text("CREATE TABLE t (id SERIAL PRIMARY KEY);\nCREATE INDEX i ON t (id);\n")
        app = tmp_path / "app.py"
        app.write_text('HOST = "x"  # LEGACY_DB_HOST\nDB = os.environ["LEGACY_DB_HOST"]\n')
        waiver = LintWaiver(rule="DSQL050", reason="async later", reviewer="Ana", expires=None)
        lint = lint_paths([sql], LintSettings(waivers=(waiver,)))
        checks = [to_check_result(lint.files[0]), *check_paths([app], EXAMPLE_SETTINGS)[:1]]
        side = {"kind": "sqlite", "display": "a.db", "server_version": "3"}
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        return build_results(
            plan={"name": "p", "path": "p.yaml", "sha256": "0" * 64},
            checks=[c.to_dict() for c in checks],
            expected_differences=[],
            env=environment(side, side, 0),
            started=moment,
            finished=moment,
        )

    def test_the_log_is_valid_sarif_with_a_run_per_tool(self, results: dict[str, Any]) -> None:
        from harness.report.formats.findings import sarif_from_results

        log = sarif_from_results(results)
        validate(log)
        lint, residue = log["runs"]
        assert lint["tool"]["driver"]["name"] == "cutover-lint"
        assert {r["ruleId"] for r in lint["results"]} == {"DSQL020", "DSQL050"}
        lines = {
            r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in residue["results"]
        }
        assert lines == {1, 2}  # the comment hit and the code hit

    def test_a_comment_hit_keeps_its_lower_severity(self, results: dict[str, Any]) -> None:
        from harness.report.formats.findings import sarif_from_results

        residue = sarif_from_results(results)["runs"][1]
        by_line = {
            r["locations"][0]["physicalLocation"]["region"]["startLine"]: r["level"]
            for r in residue["results"]
        }
        assert by_line == {1: "warning", 2: "error"}

    def test_the_waived_lint_finding_is_suppressed_not_dropped(
        self, results: dict[str, Any]
    ) -> None:
        from harness.report.formats.findings import sarif_from_results

        lint = sarif_from_results(results)["runs"][0]
        (waived,) = [r for r in lint["results"] if "suppressions" in r]
        assert waived["ruleId"] == "DSQL050"
        assert waived["suppressions"][0]["justification"] == "async later (Ana)"
