"""The report folder: every run writes results.json, report.html, junit.xml and results.sarif;
`cutover report` re-derives the same bytes; signoff.html shows the signature's state.

The GO and NO-GO folders come from real `cutover demo` runs (embedded PostgreSQL 16); the lint
and residue findings from the real linter and scanner run over files the tests write.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import rfc8785
from click.testing import CliRunner

from harness.cli import main
from harness.lint.checks import check_file
from harness.lint.settings import LintSettings, LintWaiver
from harness.report.folder import write_folder
from harness.report.html import render_html
from harness.residue.checks import check_paths
from harness.residue.rules import EXAMPLE_SETTINGS
from harness.results.check import CheckResult
from harness.results.files import DERIVED_NAMES, results_bytes
from harness.results.record import build_results, environment
from harness.signoff import Reviewer, load_private_key, sign_results, write_keypair

DemoReports = Any  # tests/conftest.py: the GO and NO-GO demo folders (.go, .nogo)
RESULTS_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "results.schema.json"
FOUR = ("results.json", *DERIVED_NAMES)


def cli(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def copy_results(folder: str, to: Path) -> Path:
    to.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(Path(folder) / "results.json", to / "results.json"))


@pytest.fixture(params=["go", "nogo"])
def demo_folder(request: pytest.FixtureRequest, demo_reports: DemoReports) -> Path:
    return Path(getattr(demo_reports, request.param))


class TestEveryRunWritesTheFolder:
    def test_a_demo_run_leaves_all_four_files(self, demo_folder: Path) -> None:
        assert all((demo_folder / name).is_file() for name in FOUR)
        assert not list(demo_folder.glob("*.partial"))

    def test_results_json_is_rfc8785_canonical_and_matches_its_schema(
        self, demo_folder: Path
    ) -> None:
        data = (demo_folder / "results.json").read_bytes()
        parsed = json.loads(data)
        assert data == rfc8785.dumps(parsed)
        schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(parsed)

    def test_cutover_report_rederives_every_file_byte_for_byte(
        self, demo_folder: Path, tmp_path: Path
    ) -> None:
        copied = copy_results(str(demo_folder), tmp_path)
        result = cli("report", copied)
        assert result.exit_code == 0, result.output
        for name in DERIVED_NAMES:
            assert (tmp_path / name).read_bytes() == (demo_folder / name).read_bytes(), name
            assert f"report: {tmp_path / name}" in result.stdout

    def test_junit_has_a_testcase_per_check_and_fails_what_failed(self, demo_folder: Path) -> None:
        results = json.loads((demo_folder / "results.json").read_bytes())
        suites = ET.parse(demo_folder / "junit.xml").getroot()
        assert int(suites.get("tests", "-1")) == len(results["checks"])
        assert int(suites.get("failures", "-1")) == results["summary"]["fail"]

    def test_the_demo_has_no_lint_or_residue_so_its_sarif_runs_are_empty(
        self, demo_folder: Path
    ) -> None:
        log = json.loads((demo_folder / "results.sarif").read_bytes())
        assert log["version"] == "2.1.0"
        assert [run["tool"]["driver"]["name"] for run in log["runs"]] == [
            "cutover-lint",
            "cutover-residue",
        ]
        assert all(run["results"] == [] for run in log["runs"])


class TestCanonicalForm:
    def test_the_same_document_gives_the_same_bytes_whatever_its_key_order(self) -> None:
        a = {"b": 1, "a": [1.5, "x"], "c": {"z": None, "y": True}}
        b = {"c": {"y": True, "z": None}, "a": [1.5, "x"], "b": 1}
        assert (
            results_bytes(a) == results_bytes(b) == b'{"a":[1.5,"x"],"b":1,"c":{"y":true,"z":null}}'
        )

    def test_numbers_json_cannot_carry_exactly_are_kept_as_text(self) -> None:
        data = json.loads(results_bytes({"big": 2**63 - 1, "nan": float("nan"), "ok": 2**53 - 1}))
        assert data == {"big": "9223372036854775807", "nan": "nan", "ok": 2**53 - 1}


class TestTheNoGoDemoReport:
    @pytest.fixture
    def html(self, demo_reports: DemoReports) -> str:
        return (Path(demo_reports.nogo) / "report.html").read_text(encoding="utf-8")

    def test_the_banner_names_the_checks_that_decided_no_go(self, html: str) -> None:
        banner = html[html.index('<div class="verdict') : html.index("</header>")]
        assert "NO-GO" in banner
        for check in ("schema[accounts]", "schema[people]", "row_count[events]", "rows[events]"):
            assert f"<code>{check}</code>" in banner

    def test_schema_differences_are_listed_across_tables(self, html: str) -> None:
        section = html[html.index('id="schema-diff-heading"') : html.index('id="data-heading"')]
        assert "<code>people.nickname</code>" in section
        assert "<code>accounts.balance</code>" in section

    def test_changed_rows_show_source_and_target_values_side_by_side(self, html: str) -> None:
        section = html[html.index('id="data-heading"') : html.index('id="checks-heading"')]
        assert "Sample differences in <code>accounts</code>" in section
        assert (
            '<td class="val val-source val-changed"><code>123456789.50</code></td>\n'
            '<td class="val val-target val-changed"><code>99999999.99</code></td>'
        ) in section
        assert "Missing on target" in section  # events lost two rows

    def test_it_is_unsigned(self, html: str) -> None:
        assert 'class="signoff signoff-unsigned"' in html


def lint_and_residue_results(root: Path, *, waive: bool = False) -> dict[str, Any]:
    """A run whose checks are the real linter's and residue scanner's over two files."""
    code = root / "code"
    code.mkdir(parents=True)
    (code / "init.sql").write_text(
        "CREATE TABLE t (id SERIAL PRIMARY KEY, x int);\nCREATE INDEX t_x ON t (x);\n",
        encoding="utf-8",
    )
    (code / "app.py").write_text(
        'import os\n\nHOST = os.environ["LEGACY_DB_HOST"]\n', encoding="utf-8"
    )
    waivers = (
        (
            LintWaiver(
                rule="DSQL050",
                reason="index built by the migration tool",
                reviewer="Ana <ana@example.com>",
                expires=datetime(2999, 1, 1, tzinfo=UTC).date(),
            ),
        )
        if waive
        else ()
    )
    # As a run records them: the linted file with its path and sha256 under evidence.inputs.
    checks: list[CheckResult] = [check_file(code / "init.sql", LintSettings(waivers=waivers))]
    checks += check_paths([code / "app.py"], EXAMPLE_SETTINGS)[:1]
    side = {"kind": "sqlite", "display": "app.db", "server_version": "3"}
    return build_results(
        plan={"name": "lint", "path": "plan.yaml", "sha256": "0" * 64},
        checks=[c.to_dict() for c in checks],
        expected_differences=[],
        env=environment(side, side, 0),
        started=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
        finished=datetime(2026, 11, 21, 9, 1, tzinfo=UTC),
    )


class TestSarif:
    def test_lint_and_residue_findings_point_at_file_and_line(self, tmp_path: Path) -> None:
        written = write_folder(lint_and_residue_results(tmp_path), tmp_path / "out")
        lint, residue = json.loads(written.sarif.read_bytes())["runs"]
        places = {
            (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in lint["results"]
        }
        assert places == {("DSQL020", 1), ("DSQL050", 2)}
        assert lint["properties"]["rulePacks"][0].startswith("dsql-")
        (hit,) = residue["results"]
        location = hit["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("code/app.py")
        assert location["region"]["startLine"] == 3
        assert location["region"]["snippet"]["text"] == "LEGACY_DB_HOST"

    def test_a_waived_finding_stays_in_the_log_as_suppressed(self, tmp_path: Path) -> None:
        written = write_folder(lint_and_residue_results(tmp_path, waive=True), tmp_path / "out")
        lint = json.loads(written.sarif.read_bytes())["runs"][0]
        by_rule = {r["ruleId"]: r for r in lint["results"]}
        assert "suppressions" not in by_rule["DSQL020"]
        (suppression,) = by_rule["DSQL050"]["suppressions"]
        assert "index built by the migration tool" in suppression["justification"]


class TestLintAndResidueInTheReport:
    @pytest.fixture
    def html(self, tmp_path: Path) -> str:
        return render_html(lint_and_residue_results(tmp_path, waive=True))

    def test_lint_findings_show_the_statement_they_fired_on(self, html: str) -> None:
        section = html[html.index('id="lint-heading"') : html.index('id="residue-heading"')]
        assert '<pre class="excerpt">CREATE TABLE t (id SERIAL PRIMARY KEY, x int)</pre>' in section
        assert "init.sql:2:" in section
        assert "Fix: " in section

    def test_residue_findings_name_file_and_line(self, html: str) -> None:
        section = html[html.index('id="residue-heading"') : html.index('id="checks-heading"')]
        assert "app.py:3</code>" in section
        assert '<pre class="excerpt">LEGACY_DB_HOST</pre>' in section

    def test_the_rule_pack_version_is_in_the_scope(self, html: str) -> None:
        scope = html[html.index('id="scope-heading"') : html.index('id="schema-diff-heading"')]
        assert "DSQL rule pack <code>dsql-" in scope


class TestSignoffPage:
    @pytest.fixture
    def signed(self, demo_reports: DemoReports, tmp_path: Path) -> dict[str, Path]:
        folder = tmp_path / "run"
        shutil.copytree(demo_reports.go, folder)
        keys = write_keypair(tmp_path / "k.key", tmp_path / "k.pub")
        result = cli(
            "sign", folder / "results.json", "--key", keys.private,
            "--reviewer", "Ana Reviewer <ana@example.com>", "--decision", "approve",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert f"signed report: {folder / 'signoff.html'}" in result.stdout
        return {"folder": folder, "public": keys.public, "private": keys.private}

    def test_signing_leaves_report_html_as_it_was_and_writes_a_verified_signoff_page(
        self, signed: dict[str, Path], demo_reports: DemoReports
    ) -> None:
        folder = signed["folder"]
        assert (folder / "report.html").read_bytes() == (
            Path(demo_reports.go) / "report.html"
        ).read_bytes()
        page = (folder / "signoff.html").read_text(encoding="utf-8")
        assert 'class="signoff signoff-verified"' in page
        assert "Ana Reviewer &lt;ana@example.com&gt;" in page
        assert "<strong>Approved</strong>" in page

    def test_without_a_key_the_page_says_the_signature_was_not_checked(
        self, signed: dict[str, Path]
    ) -> None:
        assert cli("report", signed["folder"] / "results.json").exit_code == 0
        page = (signed["folder"] / "signoff.html").read_text(encoding="utf-8")
        assert "Signed — signature not checked" in page
        assert 'class="signoff signoff-verified"' not in page

    def test_a_tampered_run_shows_not_verified_naming_the_file(
        self, signed: dict[str, Path]
    ) -> None:
        folder = signed["folder"]
        (folder / "junit.xml").unlink()  # not signed: harmless
        html = folder / "report.html"
        html.write_bytes(html.read_bytes().replace(b"Scope", b"Scopf", 1))
        args = ("report", "-o", folder / "x.html", folder / "results.json")
        assert cli(*args).exit_code == 0  # -o renders only the page asked for
        assert not (folder / "junit.xml").exists()
        result = cli("report", folder / "results.json", "--public-key", signed["public"])
        assert result.exit_code == 0, result.output
        assert f"report: {html} (signed off: left as it is)" in result.stdout
        page = (folder / "signoff.html").read_text(encoding="utf-8")
        assert "NOT VERIFIED" in page
        assert "report.html changed since it was signed" in page
        assert b"Scopf" in html.read_bytes()  # a signed page is never re-rendered over

    def test_a_public_key_without_a_bundle_is_one_line_exit_2(
        self, demo_reports: DemoReports, tmp_path: Path
    ) -> None:
        copied = copy_results(demo_reports.go, tmp_path)
        keys = write_keypair(tmp_path / "k.key", tmp_path / "k.pub")
        result = CliRunner().invoke(main, ["report", str(copied), "--public-key", str(keys.public)])
        assert result.exit_code == 2
        assert result.stderr.strip().startswith("cutover: error:")
        assert "no sign-off bundle" in result.stderr


def test_sign_results_in_process_also_verifies(demo_reports: DemoReports, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(demo_reports.nogo, folder)
    keys = write_keypair(tmp_path / "k.key", tmp_path / "k.pub")
    bundle = sign_results(
        folder / "results.json",
        key=load_private_key(keys.private),
        reviewer=Reviewer.parse("Bo <bo@example.com>"),
        decision="reject",
        note="accounts.balance narrowed",
    )
    names = [s["name"] for s in bundle.statement["subject"]]
    assert names[:2] == ["results.json", "report.html"]
    assert any(name.endswith("plan.yaml") for name in names)
