"""A plan without a source (a greenfield target): what needs only the target runs, what
compares is reported not applicable, and a GO says what it covered — never a GO that reads as
a compared migration. End to end: `cutover verify` in a subprocess on real SQLite files.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from harness.plan.model import NEEDS_SOURCE
from tests.test_scope_nothing_compared import usage_line, verify


def greenfield(folder: Path, **sections: Any) -> dict[str, Any]:
    path = folder / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)")
    conn.close()
    return {"name": "greenfield", "target": {"kind": "sqlite", "path": "app.db"}, **sections}


def results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "out" / "results.json").read_text())
    return data


class TestWhatRuns:
    def test_target_checks_run_and_the_go_names_what_it_covered(self, tmp_path: Path) -> None:
        latency = {
            "connect": {"runs": 20, "min_success_rate": 0.95},
            "health": {"runs": 10, "min_successes": 10},
        }
        done = verify(tmp_path, greenfield(tmp_path, latency=latency))
        found = results(tmp_path)
        statuses = {c["id"]: c["status"] for c in found["checks"]}
        assert done.returncode == 0, done.stdout + done.stderr
        assert statuses == {
            "connectivity[target]": "pass",
            "latency[connect]": "pass",
            "latency[health]": "pass",
            "schema[no-source]": "skip",
            "schema[views]": "skip",
            "row_count[no-source]": "skip",
            "rows[no-source]": "skip",
        }
        assert found["verdict"] == "GO"
        assert found["verdict_reason"].endswith(
            "target only (the plan has no source): covered connectivity, latency; nothing "
            "compared, so row_count, rows, schema not applicable"
        )
        assert found["environment"]["source"]["kind"] == "none"

    def test_a_target_that_fails_its_budget_is_no_go(self, tmp_path: Path) -> None:
        # no SQLite session opens in under a microsecond: the p50 budget cannot be met
        latency = {"connect": {"runs": 3, "p50_ms": 0.000001}, "health": None}
        done = verify(tmp_path, greenfield(tmp_path, latency=latency))
        found = results(tmp_path)
        assert done.returncode == 1
        assert found["verdict"] == "NO-GO"
        assert "latency[connect]" in found["verdict_reason"]


class TestWhatIsRefused:
    @pytest.mark.parametrize("section", NEEDS_SOURCE)
    def test_a_section_that_compares_is_one_line_naming_it(
        self, tmp_path: Path, section: str
    ) -> None:
        value: Any = {
            "expected_differences": [],
            "app_tests": {"command": "true", "junit": "j.xml"},
        }.get(section, {})
        line = usage_line(verify(tmp_path, greenfield(tmp_path, **{section: value})))
        assert f"'{section}' compares the source with the target" in line
        assert "add a source, or remove it" in line
