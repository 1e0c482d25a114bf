"""Specification of the pytest plugin, run the way users run it: a fresh pytest process that loads
cutover through its entry point, the stock scenario files, a plan, and a team's own tests.

Each kind of run happens once per session, whichever xdist worker asks first (behind a file
lock); the tests below are statements about that run's output and results.json.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from filelock import FileLock

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
RESULTS_SCHEMA = REPO / "schemas" / "results.schema.json"

APP_DB = """
CREATE TABLE Customer (CustomerId INTEGER PRIMARY KEY, FirstName NVARCHAR(40) NOT NULL,
                       Email NVARCHAR(60));
CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY,
                      CustomerId INTEGER NOT NULL REFERENCES Customer (CustomerId),
                      Total NUMERIC(10,2) NOT NULL);
CREATE TABLE InvoiceLine (InvoiceLineId INTEGER PRIMARY KEY,
                          InvoiceId INTEGER NOT NULL REFERENCES Invoice (InvoiceId),
                          UnitPrice NUMERIC(10,2) NOT NULL);
CREATE INDEX IFK_InvoiceLineInvoiceId ON InvoiceLine (InvoiceId);
INSERT INTO Customer VALUES (1, 'Ana', 'ana@example.com'), (2, 'Bo', NULL);
INSERT INTO Invoice VALUES (1, 1, 1.98), (2, 2, 0.99);
INSERT INTO InvoiceLine VALUES (1, 1, 0.99), (2, 1, 0.99), (3, 2, 0.99);
"""

PLAN = """\
name: plugin-spec
source: {kind: sqlite, path: app.db}
target:
  kind: embedded
  load:
    - {sqlite: app.db, naming: snake_case}
renames: {policy: snake_case}
"""

TEAM_TESTS = """\
import pytest


def test_team_rule_holds():
    assert 1 + 1 == 2


def test_team_rule_fails():
    assert 1 + 1 == 3, "team rule broken"


@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")


def test_uses_broken_fixture(broken):
    pass
"""

TABLES = ("customer", "invoice", "invoice_line")
SCENARIO_ITEMS = {
    *(f"test_schema.py::test_table_schema[{t}]" for t in TABLES),
    "test_schema.py::test_views",
    *(f"test_row_counts.py::test_row_count[{t}]" for t in TABLES),
}
TEAM_ITEMS = {
    "test_custom.py::test_team_rule_holds",
    "test_custom.py::test_team_rule_fails",
    "test_custom.py::test_uses_broken_fixture",
}
# Blocking two heavy plugins the inner runs do not use halves their start-up time (hypothesis
# alone imports for 1.4 s); cutover itself still loads through its entry point.
UNUSED_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:benchmark")
RUN_ARGS = ("--plan", "plan.yaml", "--report-dir", "out", "-p", "no:cacheprovider", *UNUSED_PLUGINS)


@dataclass(frozen=True)
class Outcome:
    """What a pytest run left behind: exit code, output and results.json (None if absent)."""

    ret: int
    stdout: str
    stderr: str
    results: dict[str, Any] | None
    plan_sha256: str | None

    def check(self, nodeid: str) -> dict[str, Any]:
        assert self.results is not None, "the run wrote no results.json"
        return next(c for c in self.results["checks"] if c["nodeid"] == nodeid)

    def error_lines(self) -> list[str]:
        return [
            line for line in (self.stdout + self.stderr).splitlines() if line.startswith("ERROR:")
        ]


def read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def write_project(pytester: pytest.Pytester, *, team_tests: bool = True, plan: str = PLAN) -> None:
    """A folder as a user has it: a SQLite app database, a plan, the stock scenarios."""
    conn = sqlite3.connect(pytester.path / "app.db")
    with conn:
        conn.executescript(APP_DB)
    conn.close()
    (pytester.path / "plan.yaml").write_text(plan, encoding="utf-8")
    for name in ("test_schema.py", "test_row_counts.py"):
        (pytester.path / name).write_text((REPO / "scenarios" / name).read_text(encoding="utf-8"))
    if team_tests:
        (pytester.path / "test_custom.py").write_text(TEAM_TESTS, encoding="utf-8")


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder shared by every xdist worker of this session (and only this session)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture
def inner_pytest(
    pytester: pytest.Pytester, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Outcome]:
    """Run pytest in a subprocess, once per session per ``key``; later calls get the record."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)

    def run(key: str, *args: str, setup: Callable[[pytest.Pytester], None]) -> Outcome:
        record = run_dir / f"cutover-plugin-{key}.json"
        with FileLock(f"{record}.lock"):
            if not record.exists():
                setup(pytester)
                result = pytester.runpytest_subprocess(*args)
                outcome = Outcome(
                    int(result.ret),
                    result.stdout.str(),
                    result.stderr.str(),
                    read_json(pytester.path / "out" / "results.json"),
                    sha256(pytester.path / "plan.yaml"),
                )
                record.write_text(json.dumps(dataclasses.asdict(outcome)))
        return Outcome(**json.loads(record.read_text()))

    return run


@pytest.fixture
def collected(inner_pytest: Callable[..., Outcome]) -> Outcome:
    return inner_pytest("collect", *RUN_ARGS, "--collect-only", "-q", setup=write_project)


@pytest.fixture
def distributed(inner_pytest: Callable[..., Outcome]) -> Outcome:
    """A full run on two xdist workers, with a team's own failing tests beside the scenarios."""
    return inner_pytest("xdist", *RUN_ARGS, "-n", "2", "-v", setup=write_project)


@pytest.fixture(params=["single-process", "xdist"])
def verified(request: pytest.FixtureRequest, inner_pytest: Callable[..., Outcome]) -> Outcome:
    """The same full run, with and without xdist: both must record the same things."""
    if request.param == "xdist":
        return request.getfixturevalue("distributed")
    return inner_pytest("single", *RUN_ARGS, setup=write_project)


@pytest.fixture
def unplanned(inner_pytest: Callable[..., Outcome]) -> Outcome:
    return inner_pytest(
        "no-plan",
        "-p",
        "no:cacheprovider",
        *UNUSED_PLUGINS,
        "-rs",
        "test_schema.py",
        "test_row_counts.py",
        setup=lambda p: write_project(p, team_tests=False),
    )


class TestCollection:
    def test_items_are_named_after_the_target_tables(self, collected: Outcome) -> None:
        listed = {line for line in collected.stdout.splitlines() if "::" in line}
        assert listed == SCENARIO_ITEMS | TEAM_ITEMS
        assert "test_row_counts.py::test_row_count[invoice_line]" in listed

    def test_collecting_writes_no_verdict(self, collected: Outcome) -> None:
        assert collected.results is None


class TestVerificationRun:
    def test_every_item_ends_up_in_one_results_json(self, verified: Outcome) -> None:
        assert verified.results is not None
        nodeids = [c["nodeid"] for c in verified.results["checks"]]
        assert sorted(nodeids) == sorted(SCENARIO_ITEMS | TEAM_ITEMS)

    def test_with_xdist_both_workers_ran_items_into_that_one_file(
        self, distributed: Outcome
    ) -> None:
        assert "[gw0]" in distributed.stdout
        assert "[gw1]" in distributed.stdout
        assert distributed.results is not None
        assert distributed.results["environment"]["pytest_workers"] == 2
        assert len(distributed.results["checks"]) == len(SCENARIO_ITEMS | TEAM_ITEMS)

    def test_the_scenarios_report_under_their_areas_and_pass(self, verified: Outcome) -> None:
        for table in TABLES:
            schema = verified.check(f"test_schema.py::test_table_schema[{table}]")
            assert (schema["id"], schema["area"], schema["status"]) == (
                f"schema[{table}]",
                "schema",
                "pass",
            )
            counts = verified.check(f"test_row_counts.py::test_row_count[{table}]")
            assert (counts["id"], counts["area"], counts["status"]) == (
                f"row_count[{table}]",
                "row_count",
                "pass",
            )
        assert verified.check("test_schema.py::test_views")["id"] == "schema[views]"

    def test_a_failing_team_test_is_a_failed_check_in_area_tests(self, verified: Outcome) -> None:
        check = verified.check("test_custom.py::test_team_rule_fails")
        assert (check["id"], check["area"], check["status"]) == (
            "test[test_team_rule_fails]",
            "tests",
            "fail",
        )
        assert check["findings"] == []

    def test_a_passing_team_test_is_a_passed_check_in_area_tests(self, verified: Outcome) -> None:
        check = verified.check("test_custom.py::test_team_rule_holds")
        assert (check["id"], check["area"], check["status"]) == (
            "test[test_team_rule_holds]",
            "tests",
            "pass",
        )

    def test_a_failed_team_tests_summary_says_why(self, distributed: Outcome) -> None:
        assert (
            "team rule broken"
            in distributed.check("test_custom.py::test_team_rule_fails")["summary"]
        )

    def test_a_test_whose_fixture_crashes_is_an_error(self, verified: Outcome) -> None:
        check = verified.check("test_custom.py::test_uses_broken_fixture")
        assert (check["area"], check["status"]) == ("tests", "error")

    def test_the_failed_team_test_makes_the_verdict_no_go(self, verified: Outcome) -> None:
        assert verified.results is not None
        assert verified.results["verdict"] == "NO-GO"
        assert verified.results["verdict_reason"] == (
            "2 check(s) failed or could not run: "
            "test[test_team_rule_fails], test[test_uses_broken_fixture]"
        )
        assert verified.results["summary"] == {
            "pass": 8,
            "fail": 1,
            "error": 1,
            "waived": 0,
            "skip": 0,
        }
        assert "cutover verdict: NO-GO" in verified.stdout
        assert verified.ret == pytest.ExitCode.TESTS_FAILED

    def test_the_plan_is_recorded_by_name_path_and_hash(self, verified: Outcome) -> None:
        assert verified.results is not None
        plan = verified.results["plan"]
        assert plan["name"] == "plugin-spec"
        assert Path(plan["path"]).name == "plan.yaml"
        assert Path(plan["path"]).is_absolute()
        assert plan["sha256"] == verified.plan_sha256

    def test_results_json_follows_its_schema(self, verified: Outcome) -> None:
        if not RESULTS_SCHEMA.exists():
            pytest.skip(f"{RESULTS_SCHEMA.relative_to(REPO)} does not exist yet")
        schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        validator.validate(verified.results)


SKIPPING_TESTS = """\
import pytest


def test_not_ready_yet():
    pytest.skip("waiting for the staging cluster")
"""


def _only_skipping_tests(pytester: pytest.Pytester) -> None:
    write_project(pytester, team_tests=False)
    for name in ("test_schema.py", "test_row_counts.py"):
        (pytester.path / name).unlink()
    (pytester.path / "test_later.py").write_text(SKIPPING_TESTS, encoding="utf-8")


class TestAllSkipped:
    def test_a_run_whose_every_check_skipped_is_no_go(
        self, inner_pytest: Callable[..., Outcome]
    ) -> None:
        outcome = inner_pytest("all-skipped", *RUN_ARGS, setup=_only_skipping_tests)
        assert outcome.results is not None
        assert outcome.results["summary"]["skip"] == 1
        assert (outcome.results["verdict"], outcome.results["verdict_reason"]) == (
            "NO-GO",
            "1 of 1 checks skipped, so nothing was proven",
        )


class TestWithoutPlan:
    def test_the_scenarios_skip_saying_a_plan_is_needed(self, unplanned: Outcome) -> None:
        assert unplanned.ret == pytest.ExitCode.OK
        assert "cutover scenarios need a plan: pass --plan FILE" in unplanned.stdout
        assert "failed" not in unplanned.stdout
        assert "passed" not in unplanned.stdout
        assert unplanned.results is None

    def test_every_skipped_scenario_says_a_plan_is_needed(self, unplanned: Outcome) -> None:
        skips = [line for line in unplanned.stdout.splitlines() if line.startswith("SKIPPED")]
        assert skips
        assert all("need a plan" in line for line in skips), skips


class TestUsageErrors:
    def test_a_bad_plan_is_one_error_line_and_a_usage_error(
        self, pytester: pytest.Pytester
    ) -> None:
        write_project(
            pytester,
            team_tests=False,
            plan=PLAN.replace("renames: {policy: snake_case}", "renames: {polcy: snake_case}"),
        )
        result = pytester.runpytest_subprocess(*RUN_ARGS)
        outcome = Outcome(result.ret, result.stdout.str(), result.stderr.str(), None, None)

        assert outcome.ret == pytest.ExitCode.USAGE_ERROR == 4
        assert outcome.error_lines() == [
            "ERROR: plan.yaml:7: renames.polcy: unknown key 'polcy'. Did you mean \"policy\"? "
            "Allowed keys: columns, policy, tables."
        ]
        assert "Traceback" not in outcome.stdout + outcome.stderr
        assert not (pytester.path / "out" / "results.json").exists()

    def test_a_plan_naming_a_missing_table_is_one_error_line_under_xdist(
        self, pytester: pytest.Pytester
    ) -> None:
        plan = (
            "name: typo\n"
            "source: {kind: sqlite, path: app.db}\n"
            "target: {kind: sqlite, path: app.db}\n"
            "tables: {keys: {Invoce: [InvoiceId]}}\n"
        )
        write_project(pytester, team_tests=False, plan=plan)
        result = pytester.runpytest_subprocess(*RUN_ARGS, "-n", "2")
        outcome = Outcome(result.ret, result.stdout.str(), result.stderr.str(), None, None)

        assert outcome.ret == pytest.ExitCode.USAGE_ERROR
        (line,) = outcome.error_lines()
        assert line.endswith(
            "plan.yaml: tables.keys.Invoce: table 'Invoce' is in neither the source nor the "
            "target. "
            'Did you mean "Invoice"?'
        )
        assert "Traceback" not in outcome.stdout + outcome.stderr
        # The stopped run still leaves its folder, NO-GO with the reason (test_report_on_abort).
        results = json.loads((pytester.path / "out" / "results.json").read_bytes())
        assert results["verdict"] == "NO-GO"
        assert [c["id"] for c in results["checks"]] == ["run[start]"]


TEAM_CONFTEST = """\
from harness.capabilities import Capability, Items


def _contracts(run):
    return [f"{t}-contract" for t in sorted(p.id for p in run.scope().pairs)]


def pytest_cutover_capabilities():
    return [Capability("contracts", items=(Items("contract", _contracts, ids=str),))]
"""

TEAM_CAPABILITY_TESTS = """\
from harness.results.check import CheckResult, Status


def test_contract(contract, cutover, record):
    status = Status.FAIL if contract.startswith("invoice_line") else Status.PASS
    record(
        cutover.run_check(
            "contracts",
            contract,
            lambda: CheckResult("contracts", contract, status, f"{contract}: {status.value}"),
        )
    )
"""


def write_team_capability(pytester: pytest.Pytester) -> None:
    """The user's folder plus a team's own capability, added through the hook from a conftest."""
    write_project(pytester, team_tests=False)
    (pytester.path / "conftest.py").write_text(TEAM_CONFTEST, encoding="utf-8")
    (pytester.path / "test_contracts.py").write_text(TEAM_CAPABILITY_TESTS, encoding="utf-8")


class TestTeamCapability:
    """A team adds a capability without forking: the ``pytest_cutover_capabilities`` hook."""

    @pytest.fixture
    def extended(self, inner_pytest: Callable[..., Outcome]) -> Outcome:
        return inner_pytest("team-capability", *RUN_ARGS, setup=write_team_capability)

    def test_its_argument_is_parametrized_from_the_plan_like_the_built_ins(
        self, extended: Outcome
    ) -> None:
        assert extended.results is not None
        contracts = [c for c in extended.results["checks"] if c["area"] == "contracts"]
        assert sorted(c["name"] for c in contracts) == [f"{t}-contract" for t in TABLES]

    def test_its_checks_decide_the_verdict(self, extended: Outcome) -> None:
        assert extended.ret == 1
        failed = extended.check("test_contracts.py::test_contract[invoice_line-contract]")
        assert failed["status"] == "fail"
        assert extended.results is not None
        assert extended.results["verdict"] == "NO-GO"

    def test_its_area_follows_the_built_ins_in_the_report(self, extended: Outcome) -> None:
        assert extended.results is not None
        areas = list(dict.fromkeys(c["area"] for c in extended.results["checks"]))
        assert areas == ["schema", "row_count", "contracts"]

    def test_without_a_plan_its_items_skip_saying_so(
        self, inner_pytest: Callable[..., Outcome]
    ) -> None:
        outcome = inner_pytest(
            "team-capability-no-plan",
            "-p",
            "no:cacheprovider",
            *UNUSED_PLUGINS,
            "-rs",
            "test_contracts.py",
            setup=write_team_capability,
        )
        assert outcome.ret == 0
        assert "need a plan" in outcome.stdout


class TestLoadedByModuleName:
    """``pytest -p harness.plugin`` names the module the installed entry point also loads."""

    @pytest.fixture
    def by_name(self, inner_pytest: Callable[..., Outcome]) -> Outcome:
        return inner_pytest(
            "by-module-name",
            *RUN_ARGS,
            "-p",
            "harness.plugin",
            "-n",
            "2",
            setup=lambda p: write_project(p, team_tests=False),
        )

    def test_the_run_works_with_the_plugin_registered_once(self, by_name: Outcome) -> None:
        output = by_name.stdout + by_name.stderr
        assert "already registered" not in output
        assert "Traceback" not in output
        assert by_name.ret == 0, output
        assert by_name.results is not None
        assert by_name.results["verdict"] == "GO"
        nodeids = [c["nodeid"].rsplit("/", 1)[-1] for c in by_name.results["checks"]]
        assert sorted(nodeids) == sorted(set(nodeids))  # each item reported once
        assert set(nodeids) == SCENARIO_ITEMS

    def test_without_a_plan_the_scenarios_skip_saying_so(
        self, inner_pytest: Callable[..., Outcome]
    ) -> None:
        outcome = inner_pytest(
            "by-module-name-no-plan",
            "-p",
            "harness.plugin",
            *UNUSED_PLUGINS,
            "-rs",
            "test_schema.py",
            setup=lambda p: write_project(p, team_tests=False),
        )
        assert "already registered" not in outcome.stdout + outcome.stderr
        assert outcome.ret == 0, outcome.stdout + outcome.stderr
        assert "need a plan" in outcome.stdout
