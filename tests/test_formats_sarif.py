"""Specification of the SARIF 2.1.0 writer (harness.report.formats.sarif) and of the two logs
it writes: a run's results.sarif and ``cutover lint --format sarif``.

Every log is validated against the SARIF 2.1.0 JSON Schema itself (vendored in
tests/data/schemas, with its source) and against the limits GitHub documents for a code
scanning upload.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from harness.errors import HarnessError
from harness.report.formats import SarifFinding, SarifRule, sarif_json, sarif_log, sarif_run
from harness.report.formats.sarif import MAX_RESULTS_PER_RUN

SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "schemas" / "sarif-2.1.0-rtm.5.json").read_text("utf-8")
)
VALIDATOR = jsonschema.Draft4Validator(
    SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
)
GITHUB_LIMITS = {"runs": 20, "results_per_run": 25_000, "rules_per_run": 25_000, "tags": 20}
"""What GitHub code scanning accepts in one SARIF upload (its SARIF support page)."""
GITHUB_MAX_GZIP_BYTES = 10 * 1024 * 1024


def validate(log: dict[str, Any]) -> None:
    """Valid SARIF 2.1.0, and an upload GitHub code scanning accepts."""
    VALIDATOR.validate(log)
    assert len(log["runs"]) <= GITHUB_LIMITS["runs"]
    for run in log["runs"]:
        assert len(run["results"]) <= GITHUB_LIMITS["results_per_run"]
        rules = run["tool"]["driver"]["rules"]
        assert len(rules) <= GITHUB_LIMITS["rules_per_run"]
        assert all(len(r.get("properties", {}).get("tags", [])) <= 20 for r in rules)
        prints = [r["partialFingerprints"]["cutoverFinding/v2"] for r in run["results"]]
        assert len(prints) == len(set(prints)), "fingerprints must be unique within a run"
        for result in run["results"]:
            assert result["locations"], "code scanning needs a location per result"
    assert len(gzip.compress(sarif_json(log).encode("utf-8"))) <= GITHUB_MAX_GZIP_BYTES


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


def one_run(**kwargs: Any) -> dict[str, Any]:
    items = kwargs.pop("items", findings())
    log = sarif_log(sarif_run(items, tool_name="cutover", tool_version="0.1.0", **kwargs))
    validate(log)
    run: dict[str, Any] = log["runs"][0]
    return run


class TestSarif:
    def test_a_log_is_valid_sarif_2_1_0(self) -> None:
        log = sarif_log(
            sarif_run(
                findings(), tool_name="c", tool_version="0.1.0", source_root="file:///work/app/"
            ),
            sarif_run([], tool_name="cutover-residue", tool_version="0.1.0", rules=[RESIDUE]),
        )
        validate(log)
        assert log["version"] == "2.1.0"
        assert len(log["runs"]) == 2
        assert log["runs"][0]["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///work/app/"}}

    def test_the_official_schema_rejects_what_sarif_rejects(self) -> None:
        run = one_run()
        run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(sarif_log(run))
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(sarif_log({"tool": {"driver": {"name": "x"}}, "bogus": 1}))

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

    def test_fingerprints_are_rule_file_region_and_normalised_snippet(self) -> None:
        def mark(item: SarifFinding) -> str:
            (result,) = one_run(items=[item])["results"]
            return str(result["partialFingerprints"]["cutoverFinding/v2"])

        base = SarifFinding(SERIAL, "m", "a.sql", line=3, column=5, snippet="CREATE  TABLE t")
        assert mark(base) == mark(SarifFinding(SERIAL, "other words", "a.sql", line=3, column=5,
                                               snippet="CREATE TABLE\n t"))  # fmt: skip
        assert mark(base) != mark(SarifFinding(SERIAL, "m", "a.sql", line=4, column=5,
                                               snippet="CREATE TABLE t"))  # fmt: skip
        assert mark(base) != mark(SarifFinding(SERIAL, "m", "b.sql", line=3, column=5,
                                               snippet="CREATE TABLE t"))  # fmt: skip
        assert mark(base) != mark(SarifFinding(TRIGGER, "m", "a.sql", line=3, column=5,
                                               snippet="CREATE TABLE t"))  # fmt: skip

    def test_findings_alike_in_every_part_still_get_distinct_stable_fingerprints(self) -> None:
        twice = [SarifFinding(SERIAL, "m", ".env", line=2, snippet="x") for _ in range(2)]
        first = [r["partialFingerprints"] for r in one_run(items=twice)["results"]]
        again = [r["partialFingerprints"] for r in one_run(items=twice)["results"]]
        assert first == again
        assert first[0] != first[1]

    def test_past_githubs_limit_the_first_results_are_kept_and_the_rest_counted(self) -> None:
        many = [SarifFinding(TRIGGER, "m", "a.sql", line=n) for n in range(1, 25_003)]
        run = one_run(items=many)
        assert len(run["results"]) == MAX_RESULTS_PER_RUN
        assert run["results"][-1]["locations"][0]["physicalLocation"]["region"] == {
            "startLine": MAX_RESULTS_PER_RUN
        }
        (note,) = run["invocations"][0]["toolExecutionNotifications"]
        assert note["message"]["text"].startswith("2 more results left out")

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
            sarif_run([item], tool_name="c", tool_version="0")

    def test_one_rule_id_described_two_ways_is_an_error(self) -> None:
        other = SarifRule("DSQL001", "something else")
        with pytest.raises(HarnessError, match="DSQL001 is described two different ways"):
            sarif_run(findings(), tool_name="c", tool_version="0", rules=[other])

    def test_the_same_findings_give_the_same_text(self) -> None:
        def text(items: list[SarifFinding]) -> str:
            return sarif_json(sarif_log(sarif_run(items, tool_name="c", tool_version="0.1.0")))

        assert text(findings()) == text(list(reversed(findings())))
        assert json.loads(text(findings()))["version"] == "2.1.0"
        assert text(findings()).endswith("}\n")


class TestFromResults:
    """results.json → results.sarif (harness.report.formats.findings), from the real linter's and
    residue scanner's check results, the files under a repository with two lint roots that
    hold the same relative path."""

    @pytest.fixture
    def repo(self, tmp_path: Path) -> Path:
        for side in ("before", "after"):
            folder = tmp_path / side / "db" / "migrations"
            folder.mkdir(parents=True)
            (folder / "001_ledger.sql").write_text(
                "CREATE TABLE t (id SERIAL PRIMARY KEY);\nCREATE INDEX i ON t (id);\n"
            )
        (tmp_path / "infra").mkdir()
        (tmp_path / "infra" / ".env").write_text(
            "DB_ENGINE=aurora-postgresql\nX=1\nDB_ENGINE=aurora-postgresql\n"
        )
        return tmp_path

    @pytest.fixture
    def results(self, repo: Path) -> dict[str, Any]:
        from harness.lint.checks import check_file
        from harness.lint.settings import LintSettings, LintWaiver
        from harness.residue.checks import check_paths
        from harness.residue.rules import EXAMPLE_SETTINGS
        from harness.results.record import build_results, environment

        waiver = LintWaiver(rule="DSQL050", reason="async later", reviewer="Ana", expires=None)
        settings = LintSettings(waivers=(waiver,))
        label = "db/migrations/001_ledger.sql"  # what both roots' files are called in a run
        checks = [
            check_file(repo / side / label, settings, label=label) for side in ("before", "after")
        ]
        checks += check_paths([repo / "infra"], EXAMPLE_SETTINGS)
        side = {"kind": "sqlite", "display": "a.db", "server_version": "3"}
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        return build_results(
            plan={"name": "p", "path": "p.yaml", "sha256": "0" * 64},
            checks=[c.to_dict() for c in checks],
            expected_differences=[],
            env=environment(side, side, 0, source_root=str(repo)),
            started=moment,
            finished=moment,
        )

    def log(self, results: dict[str, Any]) -> dict[str, Any]:
        from harness.report.formats.findings import sarif_from_results

        log = sarif_from_results(results)
        validate(log)
        return log

    def test_the_log_is_valid_sarif_with_a_run_per_tool(self, results: dict[str, Any]) -> None:
        lint, residue = self.log(results)["runs"]
        assert lint["tool"]["driver"]["name"] == "cutover-lint"
        assert residue["tool"]["driver"]["name"] == "cutover-residue"
        assert {r["ruleId"] for r in lint["results"]} == {"DSQL020", "DSQL050"}

    def test_uris_are_relative_to_the_repository_root_and_name_the_lint_root(
        self, results: dict[str, Any], repo: Path
    ) -> None:
        lint, residue = self.log(results)["runs"]
        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in lint["results"]
        }
        assert uris == {
            "before/db/migrations/001_ledger.sql",
            "after/db/migrations/001_ledger.sql",
        }
        for run in (lint, residue):
            assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.as_uri() + "/"}}
            for result in run["results"]:
                location = result["locations"][0]["physicalLocation"]["artifactLocation"]
                assert location["uriBaseId"] == "%SRCROOT%"
                assert (repo / location["uri"]).is_file()

    def test_two_hits_of_one_rule_with_one_message_get_distinct_fingerprints(
        self, results: dict[str, Any]
    ) -> None:
        residue = self.log(results)["runs"][1]
        engines = [r for r in residue["results"] if r["ruleId"] == "RES002"]
        assert len(engines) == 2
        assert engines[0]["message"] == engines[1]["message"]
        prints = {r["partialFingerprints"]["cutoverFinding/v2"] for r in engines}
        assert len(prints) == 2

    def test_every_rule_carries_full_help_with_a_link_into_the_docs(
        self, results: dict[str, Any]
    ) -> None:
        for run in self.log(results)["runs"]:
            for rule in run["tool"]["driver"]["rules"]:
                assert rule["fullDescription"]["text"], rule["id"]
                assert "**Fix:**" in rule["help"]["markdown"], rule["id"]
                assert rule["helpUri"].startswith("https://cutover.dev/docs/"), rule["id"]
        lint_rules = self.log(results)["runs"][0]["tool"]["driver"]["rules"]
        dsql050 = next(r for r in lint_rules if r["id"] == "DSQL050")
        assert dsql050["helpUri"] == "https://cutover.dev/docs/lint.md#dsql050"
        assert "-- bad" in dsql050["help"]["markdown"]
        assert "-- good" in dsql050["help"]["markdown"]

    def test_the_waived_lint_finding_is_suppressed_not_dropped(
        self, results: dict[str, Any]
    ) -> None:
        lint = self.log(results)["runs"][0]
        waived = [r for r in lint["results"] if "suppressions" in r]
        assert {r["ruleId"] for r in waived} == {"DSQL050"}
        assert waived[0]["suppressions"][0]["justification"] == "async later (Ana)"

    def test_without_a_recorded_root_paths_are_absolute_file_uris(
        self, results: dict[str, Any], repo: Path
    ) -> None:
        del results["environment"]["source_root"]
        lint = self.log(results)["runs"][0]
        assert "originalUriBaseIds" not in lint
        uri = lint["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("file://" + repo.as_posix())


class TestOneWriterForLintAndRuns:
    """``cutover lint --format sarif`` and results.sarif are one writer's output."""

    @pytest.fixture
    def repo(self, tmp_path: Path) -> Path:
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        migrations = tmp_path / "services" / "ledger" / "db"
        migrations.mkdir(parents=True)
        (migrations / "V1__init.sql").write_text("CREATE TABLE t (id SERIAL PRIMARY KEY);\n")
        return tmp_path

    def lint_log(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> Any:
        from harness.cli import main

        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(cwd)
            patch.delenv("CUTOVER_SOURCE_ROOT", raising=False)
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            result = CliRunner().invoke(main, ["lint", "--format", "sarif", *args])
        assert result.exit_code == 1, result.output
        log = json.loads(result.stdout)
        validate(log)
        return log

    def test_lint_uris_are_relative_to_the_git_top_level_wherever_it_runs(self, repo: Path) -> None:
        log = self.lint_log(repo / "services" / "ledger", "db")
        (run,) = log["runs"]
        (result,) = run["results"]
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "services/ledger/db/V1__init.sql", "uriBaseId": "%SRCROOT%"}
        assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.resolve().as_uri() + "/"}}

    def test_the_root_can_be_named(self, repo: Path) -> None:
        ledger = repo / "services" / "ledger"
        log = self.lint_log(ledger, "db", env={"CUTOVER_SOURCE_ROOT": str(ledger)})
        (result,) = log["runs"][0]["results"]
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uri"] == "db/V1__init.sql"

    def test_a_root_that_is_not_a_folder_is_one_line(self, repo: Path) -> None:
        from harness.cli import main

        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(repo)
            patch.setenv("CUTOVER_SOURCE_ROOT", str(repo / "nowhere"))
            result = CliRunner().invoke(main, ["lint", "--format", "sarif", "services"])
        assert result.exit_code == 2
        assert result.stderr.count("\n") == 1
        assert "CUTOVER_SOURCE_ROOT" in result.stderr

    def test_both_logs_describe_the_same_rules_the_same_way(self, repo: Path) -> None:
        from harness.lint.checks import check_file
        from harness.lint.settings import LintSettings
        from harness.report.formats.findings import sarif_from_results
        from harness.results.record import build_results, environment

        lint_run = self.lint_log(repo, "services")["runs"][0]
        sql = repo / "services" / "ledger" / "db" / "V1__init.sql"
        check = check_file(sql, LintSettings(), label="db/V1__init.sql")
        side = {"kind": "sqlite", "display": "a.db", "server_version": "3"}
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        results = build_results(
            plan={"name": "p", "path": "p.yaml", "sha256": "0" * 64},
            checks=[check.to_dict()],
            expected_differences=[],
            env=environment(side, side, 0, source_root=str(repo.resolve())),
            started=moment,
            finished=moment,
        )
        run_log = sarif_from_results(results)["runs"][0]
        assert lint_run["tool"]["driver"] == run_log["tool"]["driver"]
        assert lint_run["results"] == run_log["results"]
