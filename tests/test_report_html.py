"""The HTML report: rendered only from results.json, deterministic, self-contained, escaped."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from harness.report.html import render_html, write_html

SHA = "ab12cd34ef56" + "0" * 52
VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)


def results(**overrides: Any) -> dict[str, Any]:
    """A complete v1 results document; keyword arguments replace top-level keys."""
    doc: dict[str, Any] = {
        "format": "cutover.results/1",
        "plan": {"name": "demo", "path": "plan.yaml", "sha256": SHA},
        "verdict": "NO-GO",
        "verdict_reason": "2 checks failed: schema[accounts], row_count[events]",
        "started_at": "2026-11-21T10:00:00Z",
        "finished_at": "2026-11-21T10:00:04Z",
        "duration_s": 3.2,
        "summary": {"pass": 2, "fail": 2, "error": 0, "waived": 1, "skip": 0},
        "environment": {
            "harness_version": "0.1.0",
            "python": "3.11.7",
            "platform": "Linux-x86_64",
            "pytest_workers": 2,
            "source": {
                "kind": "sqlite",
                "display": "sqlite:/path/app.db (read-only)",
                "server_version": "SQLite 3.40.1",
            },
            "target": {
                "kind": "embedded",
                "display": "postgresql://postgres@/postgres?host=/tmp/x",
                "server_version": "PostgreSQL 16.2",
            },
        },
        "checks": [
            {
                "id": "schema[accounts]",
                "area": "schema",
                "name": "accounts",
                "status": "fail",
                "summary": "1 type narrowing",
                "duration_s": 0.01,
                "nodeid": "scenarios/test_schema.py::test_table_schema[accounts]",
                "findings": [
                    {
                        "kind": "type_narrowing",
                        "severity": "error",
                        "object": "accounts.balance",
                        "message": "numeric(12,2) narrows to numeric(10,2)",
                        "source": "numeric(12,2)",
                        "target": "numeric(10,2)",
                        "waived_by": None,
                    }
                ],
                "evidence": {
                    "columns": 7,
                    "compared": ["id", "balance"],
                    "types": [
                        {"column": "balance", "source": "numeric(12,2)", "target": "numeric(10,2)"}
                    ],
                    "deep": {"a": {"b": {"c": {"d": "bottom"}}}},
                },
            },
            {
                "id": "schema[customers]",
                "area": "schema",
                "name": "customers",
                "status": "waived",
                "summary": "1 difference waived",
                "duration_s": 0.02,
                "findings": [
                    {
                        "kind": "type_widening",
                        "severity": "info",
                        "object": "customers.note",
                        "message": "varchar(80) widens to text",
                        "source": "varchar(80)",
                        "target": "text",
                        "waived_by": {
                            "reason": "notes get longer",
                            "reviewer": "Ana <ana@example.com>",
                            "expires": "2027-01-01",
                        },
                    }
                ],
                "evidence": {},
            },
            {
                "id": "row_count[events]",
                "area": "row_count",
                "name": "events",
                "status": "fail",
                "summary": "target has 2 fewer rows",
                "duration_s": 1.4,
                "findings": [
                    {
                        "kind": "row_count_mismatch",
                        "severity": "error",
                        "object": "events",
                        "message": "source 1204331, target 1204329",
                        "source": "1204331",
                        "target": "1204329",
                        "waived_by": None,
                    }
                ],
                "evidence": {"source": 1204331, "target": 1204329},
            },
            {
                "id": "row_count[accounts]",
                "area": "row_count",
                "name": "accounts",
                "status": "pass",
                "summary": "3210 rows on both sides",
                "duration_s": 0.1,
                "findings": [],
                "evidence": {"source": 3210, "target": 3210},
            },
            {
                "id": "checksum[orders]",
                "area": "checksum",
                "name": "orders",
                "status": "pass",
                "summary": "checksums match",
                "duration_s": 0.5,
                "findings": [],
                "evidence": None,
            },
        ],
        "expected_differences": [
            {
                "table": "customers",
                "column": "note",
                "kind": "type_widening",
                "reason": "notes get longer",
                "reviewer": "Ana <ana@example.com>",
                "expires": "2027-01-01",
                "used": True,
                "expired": False,
            },
            {
                "table": "legacy",
                "column": None,
                "kind": "missing_table",
                "reason": "retired",
                "reviewer": "Bo",
                "expires": "2026-01-01",
                "used": False,
                "expired": True,
            },
            {
                "table": "accounts",
                "column": "flags",
                "kind": "type_change",
                "reason": "bitmask",
                "reviewer": "Cy",
                "expires": None,
                "used": False,
                "expired": False,
            },
        ],
    }
    doc.update(overrides)
    return doc


class Page(HTMLParser):
    """A strict reader of the rendered page: tags must nest properly and close."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[int] = []
        self.feed(html)
        self.close()
        self.problems.extend(f"<{tag}> never closed" for tag in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def by_id(self, element_id: str) -> tuple[str, dict[str, str | None]]:
        (found,) = [(name, attrs) for name, attrs in self.tags if attrs.get("id") == element_id]
        return found


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(results())


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


class TestVerdictBanner:
    @pytest.mark.parametrize(
        ("verdict", "css"),
        [("GO", "go"), ("GO WITH WAIVERS", "waivers"), ("NO-GO", "nogo")],
    )
    def test_each_verdict_is_shown_in_words_and_colour(self, verdict: str, css: str) -> None:
        passing = [c for c in results()["checks"] if c["status"] == "pass"]
        out = render_html(results(verdict=verdict, verdict_reason="because", checks=passing))
        banner = re.search(r'<div class="verdict verdict-(\w+)"[^>]*>(.*?)</div>', out, re.S)
        assert banner is not None
        assert banner.group(1) == css
        assert re.search(rf"Verdict:</span> {re.escape(verdict)}<", banner.group(2))
        assert "because" in banner.group(2)

    def test_a_no_go_banner_names_the_checks_that_decided_it(self, html: str) -> None:
        banner = html[html.index('<div class="verdict') : html.index("</header>")]
        assert "Decided by 2 checks that failed or could not run" in banner
        assert '<a href="#check-schema-accounts"><code>schema[accounts]</code></a>' in banner
        assert '<a href="#check-row_count-events"><code>row_count[events]</code></a>' in banner
        assert "schema[customers]" not in banner  # a waived check does not decide a NO-GO

    def test_a_go_with_waivers_banner_names_the_waived_checks(self) -> None:
        checks = [c for c in results()["checks"] if c["status"] != "fail"]
        out = render_html(results(verdict="GO WITH WAIVERS", checks=checks))
        banner = out[out.index('<div class="verdict') : out.index("</header>")]
        assert "Passes only because of 1 reviewed waiver:" in banner
        assert "<code>schema[customers]</code>" in banner
        assert "— waived by Ana &lt;ana@example.com&gt; until 2027-01-01" in banner

    def test_a_missing_verdict_says_so_rather_than_guessing(self) -> None:
        doc = results()
        del doc["verdict"]
        assert "NO VERDICT" in render_html(doc)


class TestChecks:
    def test_failing_checks_show_their_findings(self, html: str) -> None:
        assert "numeric(12,2) narrows to numeric(10,2)" in html
        assert "source 1204331, target 1204329" in html

    def test_failed_drill_downs_start_open_and_passing_ones_closed(self, page: Page) -> None:
        details = {attrs["id"]: "open" in attrs for attrs in page.all("details")}
        assert details == {
            "check-schema-accounts": True,
            "check-schema-customers": False,
            "check-row_count-events": True,
            "check-row_count-accounts": False,
            "check-checksum-orders": False,
        }

    def test_areas_run_schema_then_row_count_then_the_rest_alphabetically(self, page: Page) -> None:
        areas = [attrs["id"] for attrs in page.all("section") if attrs.get("class") == "area"]
        assert areas == ["area-schema", "area-row_count", "area-checksum"]

    def test_waivers_on_findings_name_the_reviewer_reason_and_expiry(self, html: str) -> None:
        assert "Waived by Ana &lt;ana@example.com&gt;" in html
        assert "notes get longer" in html
        assert "expires 2027-01-01" in html

    def test_evidence_is_laid_out_not_dumped(self, html: str) -> None:
        assert "<dt>columns</dt>" in html
        assert '<th scope="col">column</th>' in html  # list of records becomes a table
        assert '<li><span class="ev-str">balance</span></li>' in html
        # Past three levels of nesting it falls back to indented JSON.
        assert '<dt>b</dt>\n<dd><pre class="ev-json">{\n  &#34;c&#34;: {\n' in html

    def test_failed_and_errored_checks_are_listed_up_front(self, page: Page) -> None:
        links = [attrs["href"] for attrs in page.all("a")]
        assert "#check-schema-accounts" in links
        assert "#check-row_count-events" in links


class TestScope:
    def test_the_plan_hash_is_shortened_with_the_full_value_in_a_title(self, html: str) -> None:
        assert f'<code title="{SHA}">ab12cd34ef56</code>' in html

    def test_both_endpoints_and_versions_are_named(self, html: str) -> None:
        assert "sqlite:/path/app.db (read-only)" in html
        assert "PostgreSQL 16.2" in html


class TestExpectedDifferences:
    def test_expired_and_unused_ones_are_flagged(self, html: str) -> None:
        assert "3 declared, 1 expired, 2 unused" in html
        assert "Expired, unused</span>" in html
        assert "⚠</span> Unused</span>" in html


class TestEscaping:
    def test_a_hostile_table_name_is_escaped_everywhere(self) -> None:
        evil = "<script>alert(1)</script>"
        doc = results(
            checks=[
                {
                    "id": f"schema[{evil}]",
                    "area": "schema",
                    "name": evil,
                    "status": "fail",
                    "summary": f"table {evil} differs",
                    "nodeid": f"t.py::t[{evil}]",
                    "findings": [
                        {
                            "kind": "missing_table",
                            "severity": "error",
                            "object": evil,
                            "message": evil,
                            "source": evil,
                            "target": None,
                            "waived_by": None,
                        }
                    ],
                    "evidence": {evil: [evil], "rows": [{evil: evil}]},
                }
            ],
            expected_differences=[{"table": evil, "column": evil, "reason": evil}],
            plan={"name": evil, "path": evil, "sha256": evil},
        )
        out = render_html(doc)
        assert "<script" not in out
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
        assert not Page(out).problems


class TestSelfContained:
    def test_nothing_is_loaded_from_elsewhere(self, html: str, page: Page) -> None:
        references = [
            value or ""
            for _, attrs in page.tags
            for name, value in attrs.items()
            if name in {"src", "href", "action", "srcset", "data"}
        ]
        assert references
        assert all(ref.startswith("#") for ref in references), references
        assert not any(ref.startswith(("http:", "https:", "//")) for ref in references)
        assert not page.all("script")
        assert not page.all("link")
        assert "@import" not in html
        assert "url(" not in html

    def test_it_prints(self, html: str) -> None:
        assert "@media print" in html


class TestStructure:
    def test_it_parses_cleanly(self, page: Page) -> None:
        assert page.problems == []

    def test_it_has_one_h1_and_headings_never_skip_a_level(self, page: Page) -> None:
        assert page.headings.count(1) == 1
        assert page.headings[0] == 1
        assert all(b - a <= 1 for a, b in zip(page.headings, page.headings[1:], strict=False))

    def test_it_declares_its_language(self, page: Page) -> None:
        assert page.all("html") == [{"lang": "en"}]

    def test_every_table_has_a_caption_and_scoped_headers(self, html: str, page: Page) -> None:
        assert html.count("<table") == html.count("<caption")
        assert all(attrs.get("scope") in {"col", "row"} for attrs in page.all("th"))


class TestDeterminism:
    def test_rendering_twice_gives_identical_output(self) -> None:
        assert render_html(results()) == render_html(results())

    def test_check_order_in_the_input_does_not_change_the_page(self) -> None:
        shuffled = results()
        shuffled["checks"] = list(reversed(shuffled["checks"]))
        assert render_html(shuffled) == render_html(results())

    def test_write_html_writes_the_rendered_bytes(self, tmp_path: Path) -> None:
        target = tmp_path / "out" / "report.html"
        assert write_html(results(), target) == target
        assert target.read_bytes() == render_html(results()).encode("utf-8")
        assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]


class TestMissingKeys:
    def test_no_expected_differences_and_no_evidence_still_render(self) -> None:
        doc = results()
        del doc["expected_differences"]
        for check in doc["checks"]:
            check.pop("evidence", None)
        out = render_html(doc)
        assert "No expected differences were recorded" in out
        assert "No evidence recorded." in out
        assert not Page(out).problems

    @pytest.mark.parametrize(
        "doc",
        [
            {},
            {"verdict": "GO", "checks": [{"id": "schema[a]", "status": "pass"}]},
            {"verdict": "GO", "plan": {}, "environment": {}, "summary": {}, "checks": []},
        ],
        ids=["empty", "bare-check", "empty-sections"],
    )
    def test_a_sparse_document_renders_a_valid_page(self, doc: dict[str, Any]) -> None:
        page = Page(render_html(doc))
        assert page.problems == []
        assert page.headings.count(1) == 1

    def test_the_summary_is_tallied_from_checks_when_absent(self) -> None:
        doc = results()
        del doc["summary"]
        assert '<td class="num">2</td>' in render_html(doc)

    def test_rendering_does_not_modify_its_input(self) -> None:
        doc = results()
        before = copy.deepcopy(doc)
        render_html(doc)
        assert doc == before


def test_templates_sit_flat_where_package_data_finds_them() -> None:
    """pyproject ships ``reports/templates/*``, a glob that does not reach into subfolders."""
    templates = resources.files("reports") / "templates"
    names = [entry.name for entry in templates.iterdir()]
    assert "report.html.j2" in names
    assert not [entry.name for entry in templates.iterdir() if entry.is_dir()]


def rows_check(table: str, status: str, evidence: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"rows[{table}]",
        "area": "rows",
        "name": table,
        "status": status,
        "summary": "",
        "findings": [],
        "evidence": evidence,
    }


class TestDataStates:
    EVIDENCE: dict[str, Any] = {  # the shape harness.checks.rows writes
        "state": "mismatched",
        "key": ["id"],
        "source_rows": 12000,
        "target_rows": 11999,
        "missing": 1,
        "extra": 0,
        "changed": 2,
        "changed_columns": {"balance": 2},
        "samples": [
            {"kind": "missing", "key": {"id": "7"}},
            {"kind": "changed", "key": {"id": "1500"}, "columns": {
                "balance": {"source": "123.50", "target": "99.99"}}},
            {"kind": "changed", "key": {"id": "500"}, "columns": {
                "balance": {"source": "100.00", "target": None}}},
        ],
    }  # fmt: skip

    def test_each_table_gets_a_row_with_exact_counts(self) -> None:
        out = render_html(results(checks=[rows_check("accounts", "fail", self.EVIDENCE)]))
        section = out[out.index('id="data-heading"') : out.index('id="checks-heading"')]
        assert '<td class="num">12,000</td>\n<td class="num">11,999</td>' in section
        assert "<code>balance</code> (2)" in section

    def test_samples_sit_source_beside_target_in_reading_order(self) -> None:
        out = render_html(results(checks=[rows_check("accounts", "fail", self.EVIDENCE)]))
        keys = re.findall(r'<th scope="rowgroup"[^>]*><code>(id = \d+)</code>', out)
        assert keys == ["id = 500", "id = 1500", "id = 7"]  # changed first, numbers as numbers
        assert (
            '<td class="val val-source val-changed"><code>100.00</code></td>\n'
            '<td class="val val-target val-changed"><code>NULL</code></td>'
        ) in out
        assert "Missing on target" in out

    def test_a_table_with_no_row_checks_says_so(self) -> None:
        passing = [c for c in results()["checks"] if c["area"] == "schema"]
        assert "No row counts or row comparisons ran" in render_html(results(checks=passing))


class TestGenericEvidence:
    def test_records_with_different_keys_share_one_table(self) -> None:
        evidence = {"columns": [{"name": "a", "type": "int"}, {"name": "b", "fits": {"max": 3}}]}
        check = {"id": "x[t]", "area": "x", "status": "fail", "evidence": evidence}
        out = render_html(results(checks=[check]))
        header = '<th scope="col">name</th><th scope="col">type</th><th scope="col">fits</th>'
        assert header in out
        assert '<span class="ev-absent"></span>' in out  # a key a record lacks is not "null"


class TestWaiversRelied:
    def test_a_waiver_past_its_date_at_run_time_is_flagged_expired(self) -> None:
        doc = results()
        doc["checks"][1]["findings"][0]["waived_by"]["expires"] = "2026-11-20"  # run: 11-21
        out = render_html(doc)
        section = out[out.index("Waivers findings relied on") : out.index('id="environment')]
        assert '<tr class="state-expired">' in section
        assert "Expired 2026-11-20" in section

    def test_a_waiver_expiring_on_the_run_day_still_holds(self) -> None:
        doc = results()
        doc["checks"][1]["findings"][0]["waived_by"]["expires"] = "2026-11-21"
        out = render_html(doc)
        section = out[out.index("Waivers findings relied on") : out.index('id="environment')]
        assert "state-expired" not in section


class TestSignoffBlock:
    def test_report_html_is_always_unsigned_and_says_how_to_sign(self, html: str) -> None:
        block = html[html.index('id="signoff-heading"') :]
        assert "<strong>Unsigned</strong>" in block
        assert "cutover sign results.json --key KEY" in block

    def test_an_unreadable_bundle_says_nothing_is_signed(self, tmp_path: Path) -> None:
        from harness.report.signoff import signoff_for

        bundle = tmp_path / "signoff.dsse.json"
        bundle.write_text("{}", encoding="utf-8")
        block = signoff_for(bundle, None)
        assert block.state == "unreadable"
        out = render_html(results(), block)
        assert 'class="signoff signoff-unreadable"' in out
        assert "Sign-off unreadable" in out


class TestAreaPartials:
    def test_an_area_tries_its_own_partial_first_then_the_generic_one(self) -> None:
        from harness.report.view import build_report

        report = build_report(results())
        assert report.areas[0].templates == ("_area_schema.html.j2", "_area.html.j2")

    def test_an_area_name_unfit_for_a_file_name_gets_only_the_generic_partial(self) -> None:
        from harness.report.view import build_report

        check = {"id": "x", "area": "../evil", "status": "pass"}
        (area,) = build_report(results(checks=[check])).areas
        assert area.templates == ("_area.html.j2",)


def test_skipped_checks_are_called_out_in_the_banner() -> None:
    doc = results(summary={"pass": 2, "fail": 2, "error": 0, "waived": 1, "skip": 3})
    banner = render_html(doc).split("</header>")[0]
    assert "3 checks were skipped as not applicable to this plan" in banner
    assert "skipped as not applicable" not in render_html(results()).split("</header>")[0]
