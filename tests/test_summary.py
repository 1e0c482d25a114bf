"""summary.md (harness.report.summary): the verdict, the checks that decided it, counts by area
and links into report.html, in every report folder and short enough for a PR comment."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.report.folder import write_folder
from harness.report.summary import DECIDING_SHOWN, summary_markdown
from harness.results.check import CheckResult, Finding, FindingKind, Severity, Status, Waiver
from harness.results.files import DERIVED_NAMES, SUMMARY_NAME
from harness.results.record import build_results, environment

SIDE = {"kind": "postgres", "display": "postgres: db", "server_version": "16.4"}
GITHUB_COMMENT_LIMIT = 65_536
"""Characters GitHub accepts in one pull-request comment."""


def results_with(*checks: CheckResult) -> dict[str, Any]:
    return build_results(
        plan={"name": "shop", "path": "/p/plan.yaml", "sha256": "a" * 64},
        checks=[dict(c.to_dict(), nodeid=f"scenarios/t.py::test[{c.id}]") for c in checks],
        expected_differences=[],
        env=environment(SIDE, SIDE, 0),
        started=datetime(2031, 5, 1, 9, 0, tzinfo=UTC),
        finished=datetime(2031, 5, 1, 9, 0, 30, tzinfo=UTC),
    )


def waived_finding() -> Finding:
    waiver = Waiver("dropped on purpose", "Grace <g@example.com>", None, 0)
    return Finding(FindingKind.MISSING_COLUMN, Severity.ERROR, "t", "gone", waived_by=waiver)


NO_GO = results_with(
    CheckResult("schema", "customers", Status.PASS, "schema matches"),
    CheckResult("schema", "orders", Status.FAIL, "orders.note missing | pipes <b>bold</b>"),
    CheckResult("row_count", "orders", Status.ERROR, "could not count: timeout"),
)


class TestContent:
    def test_the_verdict_comes_first_with_its_reason(self) -> None:
        text = summary_markdown(NO_GO)
        assert text.startswith("## cutover: NO-GO\n\n2 check(s) failed or could not run")

    def test_the_deciding_checks_of_a_no_go_are_listed_with_links_to_the_report(self) -> None:
        text = summary_markdown(NO_GO)
        line = r"^- \*\*(\w+)\*\* \[`([^`]+)`\]\(report\.html#([\w-]+)\)"
        deciding = re.findall(line, text, re.M)
        assert [(status, check) for status, check, _ in deciding] == [
            ("fail", "schema[orders]"),
            ("error", "row_count[orders]"),
        ]

    def test_a_go_with_waivers_lists_the_waived_checks(self) -> None:
        results = results_with(CheckResult("schema", "t", Status.WAIVED, "1 expected"))
        text = summary_markdown(results)
        assert "### Checks that pass only by a reviewed waiver" in text
        assert "- **waived** [`schema[t]`]" in text

    def test_a_go_lists_no_deciding_check(self) -> None:
        text = summary_markdown(results_with(CheckResult("schema", "t", Status.PASS, "ok")))
        assert text.startswith("## cutover: GO\n")
        assert "decided it" not in text

    def test_counts_by_area_are_a_table_ending_with_the_total(self) -> None:
        rows = [line for line in summary_markdown(NO_GO).splitlines() if line.startswith("| ")]
        assert rows[0] == "| area | pass | fail | error | waived | skip |"
        assert rows[-1] == "| **All checks** | 1 | 1 | 1 | 0 | 0 |"
        assert len(rows) == 2 + 2 + 1  # header and its rule, two areas, total

    def test_text_from_the_run_cannot_break_the_markdown(self) -> None:
        text = summary_markdown(NO_GO)
        assert "<b>" not in text
        assert "orders.note missing \\| pipes \\<b\\>bold\\</b\\>" in text

    def test_many_failures_are_capped_and_counted(self) -> None:
        checks = [CheckResult("rows", f"t{i:03}", Status.FAIL, "x" * 5000) for i in range(500)]
        text = summary_markdown(results_with(*checks))
        assert text.count("\n- **fail**") == DECIDING_SHOWN
        assert f"… and {500 - DECIDING_SHOWN} more" in text
        assert len(text) < GITHUB_COMMENT_LIMIT

    def test_links_name_the_folders_other_files(self) -> None:
        text = summary_markdown(NO_GO)
        for name in ("report.html", "results.json", "junit.xml", "results.sarif"):
            assert f"[`{name}`]({name})" in text


class TestInEveryFolder:
    @pytest.mark.parametrize(
        "results",
        [NO_GO, results_with(CheckResult("schema", "t", Status.PASS, "ok")), results_with()],
        ids=["no-go", "go", "no-checks"],
    )
    def test_write_folder_writes_summary_md(self, results: dict[str, Any], tmp_path: Path) -> None:
        written = write_folder(results, tmp_path)
        assert SUMMARY_NAME in DERIVED_NAMES  # so `cutover report` re-derives it too
        assert written.summary == tmp_path / SUMMARY_NAME
        assert written.summary.read_text(encoding="utf-8") == summary_markdown(results)
