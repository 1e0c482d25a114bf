"""Inline SVG charts (:mod:`harness.report.charts`) and the query and latency report sections.

The pictures are built from evidence as results.json holds it, so these tests feed evidence
as plain data and read the SVG back as XML.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from harness.report.charts import chart_for, health_strip, latency_bars
from harness.report.html import render_html

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


STATS = {"n": 15, "p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 3.5}


class TestLatencyBars:
    def test_three_statistics_per_side_and_a_budget_line(self) -> None:
        root = parse(latency_bars(STATS, {**STATS, "p95": 4.0}, 5.0, label="latency[q-p95]"))
        titles = [r.find(f"{SVG}title").text for r in bars(root)]  # type: ignore[union-attr]
        assert titles == [
            "source p50: 1.0 ms",
            "target p50: 1.0 ms",
            "source p95: 2.0 ms",
            "target p95: 4.0 ms",
            "source p99: 3.0 ms",
            "target p99: 3.0 ms",
        ]
        (budget,) = [line for line in root.iter(f"{SVG}line") if line.get("class") == "budget"]
        assert budget.get("stroke-dasharray")

    def test_the_target_turns_red_when_its_p95_is_over_the_budget(self) -> None:
        def target_colours(budget: float) -> set[str | None]:
            root = parse(latency_bars(STATS, {**STATS, "p95": 40.0}, budget))
            return {
                r.get("fill")
                for r in bars(root)
                if r.find(f"{SVG}title").text.startswith("target")  # type: ignore[union-attr]
            }

        assert target_colours(10.0) == {"#c0392b"}
        assert "#c0392b" not in target_colours(50.0)

    def test_labels_are_escaped(self) -> None:
        svg = latency_bars(STATS, STATS, None, label='<script>"x"</script>')
        assert "<script>" not in svg
        parse(svg)

    def test_missing_statistics_draw_no_bar(self) -> None:
        root = parse(latency_bars({"p50": None}, STATS, None))
        assert len(bars(root)) == 3


class TestHealthStrip:
    def test_one_cell_per_probe_in_order(self) -> None:
        root = parse(health_strip("1" * 98 + "01"))
        cells = [r for r in root.iter(f"{SVG}rect")]
        assert len(cells) == 100
        assert [c.get("class") for c in cells[-3:]] == ["ok", "failed", "ok"]
        assert root.get("aria-label") == "99 of 100 probes succeeded"


def latency_check(evidence: dict[str, Any], status: str = "pass") -> dict[str, Any]:
    return {
        "id": "latency[q-p95]",
        "area": "latency",
        "name": "q-p95",
        "status": status,
        "summary": "s",
        "duration_s": 0.1,
        "findings": [],
        "evidence": evidence,
    }


class TestChartFor:
    def test_budget_items_and_the_health_check_have_pictures_others_do_not(self) -> None:
        budget = latency_check({"source_ms": STATS, "target_ms": STATS, "p95_ms_budget": 9})
        assert chart_for("latency", budget).startswith("<svg")
        assert "health-strip" in chart_for("latency", latency_check({"strip": "110"}))
        assert chart_for("queries", budget) == ""
        assert chart_for("latency", latency_check({"budget_ms": 5000})) == ""


class TestReportSections:
    def results(self) -> dict[str, Any]:
        query = {
            "id": "queries[orders]",
            "area": "queries",
            "name": "orders",
            "status": "fail",
            "summary": "answers differ",
            "duration_s": 0.2,
            "findings": [],
            "evidence": {
                "source_sql": "SELECT ifnull(a, 0) FROM t",
                "source_sql_origin": "as written",
                "target_sql": "SELECT COALESCE(a, 0) FROM t",
                "target_sql_origin": "transpiled by sqlglot 30 from sqlite",
                "columns": ["id", "a"],
                "first_differences": [
                    {"param_set": 0, "row": 1, "source": ["2", "b"], "target": None}
                ],
            },
        }
        latency = latency_check({"source_ms": STATS, "target_ms": STATS, "p95_ms_budget": 9})
        return {
            "format": "cutover.results/1",
            "verdict": "NO-GO",
            "verdict_reason": "1 check failed",
            "checks": [query, latency],
        }

    def test_the_page_shows_transpiled_sql_differing_rows_and_inline_svg(self) -> None:
        page = render_html(self.results())
        assert "SELECT COALESCE(a, 0) FROM t" in page
        assert "transpiled by sqlglot 30 from sqlite" in page
        assert "First differing rows" in page
        assert "<em>no such row</em>" in page
        assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart latency-chart"' in page

    def test_the_pictures_are_inline_with_no_scripts_or_links(self) -> None:
        page = render_html(self.results())
        pictures = re.findall(r"<svg.*?</svg>", page, flags=re.S)
        assert pictures
        for picture in pictures:
            parse(picture)
            assert "<script" not in picture
            assert "href" not in picture
