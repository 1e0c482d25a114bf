"""Specification of the JUnit XML written from results.json (harness.report.formats.junit)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from harness.report.formats import junit_xml
from harness.results.check import CheckResult, Finding, FindingKind, Severity, Status, Waiver
from harness.results.record import build_results, environment

SIDE = {"kind": "sqlite", "display": "shop.db", "server_version": "3.45"}
JUNIT_XSD = xmlschema.XMLSchema10(
    Path(__file__).parent / "data" / "schemas" / "junit-10.xsd"  # see its README
)


def _finding(message: str, *, waived: bool = False) -> Finding:
    return Finding(
        FindingKind.MISSING_COLUMN,
        Severity.ERROR,
        "orders",
        message,
        column="note",
        waived_by=Waiver("dropped on purpose", "Grace <g@example.com>", "2031-01-01", 0)
        if waived
        else None,
    )


def results_with(*checks: CheckResult) -> dict[str, Any]:
    return build_results(
        plan={"name": "shop", "path": "/p/plan.yaml", "sha256": "a" * 64},
        checks=[dict(c.to_dict(), nodeid=f"scenarios/t.py::test[{c.id}]") for c in checks],
        expected_differences=[],
        env=environment(SIDE, SIDE, 2),
        started=datetime(2031, 5, 1, 9, 0, tzinfo=UTC),
        finished=datetime(2031, 5, 1, 9, 0, 30, tzinfo=UTC),
    )


MIXED = results_with(
    CheckResult("schema", "customers", Status.PASS, "schema matches", duration_s=0.25),
    CheckResult("schema", "orders", Status.FAIL, "orders.note missing", (_finding("gone"),)),
    CheckResult("schema", "refunds", Status.WAIVED, "1 expected", (_finding("gone", waived=True),)),
    CheckResult("row_count", "orders", Status.ERROR, "could not count: timeout"),
    CheckResult("row_count", "archive", Status.SKIP, "absent on both sides"),
    CheckResult("row_count", "customers", Status.PASS, "12 rows on both sides"),
)


def parse(results: dict[str, Any]) -> ET.Element:
    return ET.fromstring(junit_xml(results).encode("utf-8"))


class TestJunit:
    def test_the_totals_count_failures_errors_and_tests(self) -> None:
        root = parse(MIXED)
        assert root.tag == "testsuites"
        assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "1", "1")
        assert root.get("time") == "30.000"

    def test_one_testsuite_per_area_with_its_own_counts_and_properties(self) -> None:
        suites = {s.get("name"): s for s in parse(MIXED).iter("testsuite")}
        assert list(suites) == ["cutover.schema", "cutover.row_count"]
        schema, rows = suites["cutover.schema"], suites["cutover.row_count"]
        assert [schema.get(k) for k in ("tests", "failures", "errors", "skipped")] == list("3100")
        assert [rows.get(k) for k in ("tests", "failures", "errors", "skipped")] == list("3011")
        properties = {p.get("name"): p.get("value") for p in schema.iter("property")}
        assert properties == {
            "area": "schema",
            "plan": "shop",
            "plan_sha256": "a" * 64,
            "verdict": "NO-GO",
            "harness_version": MIXED["environment"]["harness_version"],
        }
        assert schema.get("timestamp") == "2031-05-01T09:00:00Z"

    def test_each_check_is_a_testcase_named_for_its_subject_in_its_area_class(self) -> None:
        cases = [(c.get("classname"), c.get("name")) for c in parse(MIXED).iter("testcase")]
        assert cases == [
            ("cutover.schema", "customers"),
            ("cutover.schema", "orders"),
            ("cutover.schema", "refunds"),
            ("cutover.row_count", "archive"),
            ("cutover.row_count", "customers"),
            ("cutover.row_count", "orders"),
        ]

    @pytest.mark.parametrize(
        ("area", "name", "child", "status"),
        [
            ("schema", "customers", None, "pass"),
            ("schema", "orders", "failure", "fail"),
            ("schema", "refunds", None, "waived"),
            ("row_count", "orders", "error", "error"),
            ("row_count", "archive", "skipped", "skip"),
        ],
    )
    def test_statuses_map_to_junit_outcomes(
        self, area: str, name: str, child: str | None, status: str
    ) -> None:
        [case] = [
            c
            for c in parse(MIXED).iter("testcase")
            if c.get("classname") == f"cutover.{area}" and c.get("name") == name
        ]
        outcomes = [e.tag for e in case if e.tag in ("failure", "error", "skipped")]
        assert outcomes == ([child] if child else [])
        assert f"status: {status}\n" in (case.findtext("system-out") or "")

    def test_a_failure_message_carries_the_first_findings_and_its_text_all(self) -> None:
        [failure] = parse(MIXED).iter("failure")
        assert failure.get("message") == (
            "orders.note missing: [error] missing_column orders.note: gone"
        )
        assert failure.get("type") == "missing_column"
        assert failure.text == "[error] missing_column orders.note: gone"

    def test_a_long_failure_names_three_findings_and_counts_the_rest(self) -> None:
        many = tuple(_finding(f"gone {i}") for i in range(5))
        failing = results_with(CheckResult("schema", "t", Status.FAIL, "5 columns", many))
        [failure] = parse(failing).iter("failure")
        message = failure.get("message") or ""
        assert "gone 0" in message
        assert "gone 2" in message
        assert "gone 3" not in message
        assert message.endswith("(and 2 more)")
        assert (failure.text or "").count("\n") == 4

    def test_a_waived_check_passes_and_names_its_waiver(self) -> None:
        [case] = [c for c in parse(MIXED).iter("testcase") if c.get("name") == "refunds"]
        out = case.findtext("system-out") or ""
        assert "waived by Grace <g@example.com>, expires 2031-01-01: dropped on purpose" in out

    def test_children_follow_the_schema_order(self) -> None:
        order = ["skipped", "error", "failure", "system-out", "system-err"]
        for case in parse(MIXED).iter("testcase"):
            tags = [e.tag for e in case]
            assert tags == sorted(tags, key=order.index)
        for suite in parse(MIXED).iter("testsuite"):
            assert suite[0].tag == "properties"
            assert {e.tag for e in suite[1:]} == {"testcase"}

    def test_a_run_with_no_checks_is_not_green(self) -> None:
        root = parse(results_with())
        assert root.get("errors") == "1"
        [case] = root.iter("testcase")
        assert case.find("error") is not None

    def test_characters_xml_cannot_hold_are_escaped_not_dropped(self) -> None:
        nasty = 'bell\x07 nul\x00 esc\x1b <&> "quote" é'
        text = junit_xml(results_with(CheckResult("schema", "t", Status.ERROR, nasty)))
        [error] = ET.fromstring(text.encode("utf-8")).iter("error")
        assert error.get("message") == 'bell\\x07 nul\\x00 esc\\x1b <&> "quote" é'

    def test_the_same_results_give_the_same_bytes(self) -> None:
        assert junit_xml(MIXED) == junit_xml(dict(MIXED))
        assert junit_xml(MIXED).startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')


def lint_check(name: str, path: str, status: Status) -> CheckResult:
    """A dsql_compat check of one file, named by its lint root's name and its path inside."""
    inputs = [{"path": path, "sha256": "b" * 64, "kind": "sql"}]
    return CheckResult("dsql_compat", name, status, str(status.value), evidence={"inputs": inputs})


class TestUniqueTestcases:
    def test_two_lint_roots_with_the_same_relative_path_get_distinct_names(self) -> None:
        name = "db/migrations/001_ledger.sql"
        results = results_with(
            lint_check(name, f"/repo/before/{name}", Status.FAIL),
            lint_check(name, f"/repo/after/{name}", Status.PASS),
        )
        cases = {c.get("name"): c for c in parse(results).iter("testcase")}
        assert set(cases) == {f"before/{name}", f"after/{name}"}
        assert cases[f"before/{name}"].find("failure") is not None
        assert cases[f"after/{name}"].find("failure") is None

    def test_alike_checks_without_inputs_are_numbered_in_order(self) -> None:
        results = results_with(
            CheckResult("tests", "test_x", Status.PASS, "passed"),
            CheckResult("tests", "test_x", Status.FAIL, "failed"),
        )
        names = [c.get("name") for c in parse(results).iter("testcase")]
        assert sorted(names) == ["test_x", "test_x (2)"]

    def test_no_two_testcases_share_classname_and_name(self) -> None:
        results = results_with(
            *(lint_check("a.sql", f"/r/{root}/a.sql", Status.PASS) for root in "xyz"),
            CheckResult("schema", "a.sql", Status.PASS, "other area, same name"),
        )
        cases = [(c.get("classname"), c.get("name")) for c in parse(results).iter("testcase")]
        assert len(cases) == len(set(cases)) == 4


class TestTheJunitSchema:
    @pytest.mark.parametrize(
        "results",
        [MIXED, results_with(), results_with(CheckResult("schema", "t", Status.ERROR, "\x07"))],
        ids=["mixed", "no-checks", "control-character"],
    )
    def test_the_document_is_valid_against_jenkins_junit_10_xsd(
        self, results: dict[str, Any]
    ) -> None:
        JUNIT_XSD.validate(junit_xml(results))

    def test_the_schema_refuses_an_attribute_of_our_own(self) -> None:
        text = junit_xml(MIXED).replace("<testcase ", '<testcase status="pass" ', 1)
        assert not JUNIT_XSD.is_valid(text)
