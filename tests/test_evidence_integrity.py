"""Specification of "a GO must be earned": every reader of results.json checks it.

`cutover report`, `cutover sign`, `cutover check-signature` and `cutover verify` read a
results.json only through `harness.results.files.load_results`, which validates it against
schemas/results.schema.json and recomputes the verdict and the summary from its checks. A
results.json whose verdict was edited (NO-GO → GO), whose checks were deleted or whose values
have the wrong types is refused in one line, exit 2. `check-signature` refuses a signed
results.json whose verdict does not follow from its checks, and exits 0 only for an approved
GO or GO WITH WAIVERS: an approved NO-GO (an override, its note the reason) exits 4.

Run folders are built with `build_results` and `write_folder`, as a run writes them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.errors import HarnessError
from harness.report.folder import write_folder
from harness.results import files
from harness.results.check import CheckResult, Finding, FindingKind, Severity, Status, Waiver
from harness.results.files import load_results
from harness.results.record import build_results, environment, verdict
from harness.signoff import dsse, load_private_key
from harness.signoff.canonical import canonical_bytes
from harness.signoff.command import check_signature, sign
from harness.signoff.keys import write_keypair
from harness.signoff.statement import Reviewer, build_statement, collect_subjects

REPO = Path(__file__).resolve().parents[1]
REVIEWER = "Ada Lovelace <ada@example.com>"
PLAN_TEXT = "name: shop\nsource: {kind: sqlite, path: shop.db}\ntarget: {kind: embedded}\n"
SIGNED_AT = datetime(2031, 5, 4, 12, 30, tzinfo=UTC)


def _check(area: str, name: str, status: Status) -> dict[str, Any]:
    findings: tuple[Finding, ...] = ()
    if status is Status.WAIVED:
        waiver = Waiver("amounts never exceed 10 digits", "Grace <grace@example.com>", None, 0)
        findings = (
            Finding(
                FindingKind.TYPE_NARROWING,
                Severity.ERROR,
                name,
                f"{name}.total: numeric(12,2) → numeric(10,2)",
                column="total",
                waived_by=waiver,
            ),
        )
    elif status in (Status.FAIL, Status.ERROR):
        findings = (
            Finding(FindingKind.MISSING_COLUMN, Severity.ERROR, name, f"{name}.note is missing"),
        )
    result = CheckResult(area, name, status, f"{name}: {status.value}", findings)
    return dict(result.to_dict(), nodeid=f"scenarios/test_x.py::test[{result.id}]")


GO = [("schema", "customers", Status.PASS), ("row_count", "customers", Status.PASS)]
WAIVED = [*GO, ("schema", "orders", Status.WAIVED)]
NO_GO = [
    *GO,
    ("schema", "orders", Status.FAIL),
    ("row_count", "orders", Status.ERROR),
    ("row_count", "archive", Status.SKIP),
]


@dataclass(frozen=True)
class Run:
    """A run folder as the harness writes it, its plan, and a key pair."""

    results: Path
    plan: Path
    private: Path
    public: Path

    @property
    def folder(self) -> Path:
        return self.results.parent

    @property
    def bundle(self) -> Path:
        return self.folder / "signoff.dsse.json"

    def document(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.results.read_text(encoding="utf-8"))
        return data

    def rewrite(self, change: Callable[[dict[str, Any]], None]) -> None:
        data = self.document()
        change(data)
        self.results.write_text(json.dumps(data, indent=2), encoding="utf-8")


def results_of(plan: Path, checks: list[tuple[str, str, Status]]) -> dict[str, Any]:
    side = {"kind": "sqlite", "display": "shop.db", "server_version": "3.45"}
    waived = any(status is Status.WAIVED for _, _, status in checks)
    differences = [
        {
            "table": "orders",
            "column": "total",
            "kind": "type_narrowing",
            "reason": "amounts never exceed 10 digits",
            "reviewer": "Grace <grace@example.com>",
            "expires": None,
            "used": True,
            "expired": False,
        }
    ]
    return build_results(
        plan={
            "name": "shop",
            "path": str(plan),
            "sha256": hashlib.sha256(plan.read_bytes()).hexdigest(),
        },
        checks=[_check(*c) for c in checks],
        expected_differences=differences if waived else [],
        env=environment(side, dict(side, kind="embedded"), 0),
        started=datetime(2031, 5, 1, 9, 0, tzinfo=UTC),
        finished=datetime(2031, 5, 1, 9, 1, tzinfo=UTC),
    )


def write_run(root: Path, checks: list[tuple[str, str, Status]]) -> Run:
    plan = root / "project" / "plan.yaml"
    plan.parent.mkdir(parents=True, exist_ok=True)
    plan.write_text(PLAN_TEXT, encoding="utf-8")
    written = write_folder(results_of(plan, checks), root / "project" / "reports" / "out")
    keys = write_keypair(root / "keys" / "k.key", root / "keys" / "k.pub")
    return Run(written.results, plan, keys.private, keys.public)


@pytest.fixture
def nogo(tmp_path: Path) -> Run:
    return write_run(tmp_path, NO_GO)


def invoke(command: click.Command, *args: str | Path) -> Result:
    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def refused(result: Result) -> str:
    """The one line a refused command printed; it exited 2 without a traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line = one_line(result.stderr)
    assert line.startswith("cutover: error: ")
    return line


def cli_sign(run: Run, *extra: str, decision: str = "approve") -> Result:
    return invoke(
        sign, run.results, "--key", run.private, "--reviewer", REVIEWER, "--decision", decision,
        *extra,
    )  # fmt: skip


def forge_go(data: dict[str, Any]) -> None:
    data["verdict"] = "GO"
    data["verdict_reason"] = "all checks pass"


def sign_anyway(run: Run, *, decision: str = "approve", verdict_claimed: str | None = None) -> Path:
    """A bundle signed over the folder as it is, bypassing `cutover sign`'s checks (as a
    hand-made or older signer could): the statement's verdict is ``verdict_claimed`` or
    results.json's own."""
    results = run.document()
    claimed = dict(results, verdict=verdict_claimed or results["verdict"])
    statement = build_statement(
        results=claimed,
        subjects=collect_subjects(run.results, results, run.folder),
        reviewer=Reviewer.parse(REVIEWER),
        decision=decision,
        note="signed by hand",
        signed_at=SIGNED_AT,
    )
    envelope = dsse.sign(
        dsse.INTOTO_PAYLOAD_TYPE, canonical_bytes(statement), load_private_key(run.private)
    )
    run.bundle.write_text(json.dumps(envelope.to_json()), encoding="utf-8")
    return run.bundle


# --- the one reader ------------------------------------------------------------------------


class TestLoadResults:
    @pytest.mark.parametrize(
        ("checks", "expected"),
        [
            (GO, "GO"),
            (WAIVED, "GO WITH WAIVERS"),
            (NO_GO, "NO-GO"),
            ([("schema", "a", Status.SKIP)], "NO-GO"),
            ([], "NO-GO"),
        ],
        ids=["go", "waived", "no-go", "all-skipped", "no-checks"],
    )
    def test_every_verdict_the_harness_writes_loads_back(
        self, tmp_path: Path, checks: list[tuple[str, str, Status]], expected: str
    ) -> None:
        run = write_run(tmp_path, checks)
        loaded = load_results(run.results)
        assert loaded == run.document()
        assert loaded["verdict"] == expected

    def test_a_no_go_relabelled_go_is_refused_saying_what_the_checks_say(self, nogo: Run) -> None:
        nogo.rewrite(forge_go)
        with pytest.raises(HarnessError) as caught:
            load_results(nogo.results)
        assert str(caught.value) == (
            f"{nogo.results}: verdict says GO but its checks say NO-GO (2 check(s) failed or "
            "could not run: schema[orders], row_count[orders])"
        )

    @pytest.mark.parametrize("claimed", ["GO WITH WAIVERS", "NO-GO"])
    def test_a_go_relabelled_is_refused_too(self, tmp_path: Path, claimed: str) -> None:
        run = write_run(tmp_path, GO)
        run.rewrite(lambda d: d.update(verdict=claimed))
        with pytest.raises(HarnessError, match=f"verdict says {claimed} but its checks say GO "):
            load_results(run.results)

    def test_failed_checks_rewritten_as_passes_disagree_with_the_summary(self, nogo: Run) -> None:
        def launder(data: dict[str, Any]) -> None:
            forge_go(data)
            for check in data["checks"]:
                check["status"] = "pass"

        nogo.rewrite(launder)
        with pytest.raises(HarnessError) as caught:
            load_results(nogo.results)
        message = str(caught.value)
        assert message.startswith(f"{nogo.results}: summary says ")
        assert "but its checks count" in message
        assert "\n" not in message

    def test_summary_counts_must_match_the_checks(self, nogo: Run) -> None:
        nogo.rewrite(lambda d: d["summary"].update(fail=0, error=0))
        with pytest.raises(HarnessError, match=r"summary says fail 0, error 0 but its checks count "
                           r"fail 1, error 1"):  # fmt: skip
            load_results(nogo.results)

    @pytest.mark.parametrize(
        ("change", "where"),
        [
            (lambda d: d.pop("checks"), "'checks' is a required property"),
            (lambda d: d.update(checks="all fine"), "checks: is a string, should be array"),
            (lambda d: d.update(checks=None), "checks: is null, should be array"),
            (lambda d: d["checks"].__setitem__(0, 5), "checks[0]: is an integer, should be object"),
            (lambda d: d["checks"][2].update(status="ok"), 'checks[2].status: "ok" is not one'),
            (lambda d: d["checks"][1].pop("status"), "checks[1]: 'status' is a required property"),
            (lambda d: d["summary"].update(fail="1"), "summary.fail: is a string, should be int"),
            (lambda d: d.update(summary=[]), "summary: is an array, should be object"),
            (lambda d: d.update(verdict="MAYBE"), 'verdict: "MAYBE" is not one of'),
            (lambda d: d.update(verdict=None), "verdict: null is not one of"),
            (lambda d: d.update(extra=1), "('extra' was unexpected)"),
        ],
        ids=[
            "checks-deleted",
            "checks-string",
            "checks-null",
            "check-not-object",
            "unknown-status",
            "status-deleted",
            "count-string",
            "summary-list",
            "unknown-verdict",
            "verdict-null",
            "unknown-key",
        ],
    )
    def test_a_document_the_schema_refuses_is_one_line_naming_the_place(
        self, nogo: Run, change: Callable[[dict[str, Any]], None], where: str
    ) -> None:
        nogo.rewrite(change)
        with pytest.raises(HarnessError) as caught:
            load_results(nogo.results)
        message = str(caught.value)
        assert message.startswith(f"{nogo.results}: not a valid results.json: ")
        assert where in message
        assert "\n" not in message
        assert len(message) < 400

    def test_a_newer_format_is_named(self, nogo: Run) -> None:
        nogo.rewrite(lambda d: d.update(format="cutover.results/2"))
        with pytest.raises(HarnessError, match=r"cutover\.results/2; this cutover reads "):
            load_results(nogo.results)

    def test_without_the_schema_file_nothing_is_vouched_for(
        self, nogo: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Fail closed: an install that lost its schema refuses every results.json.
        monkeypatch.setattr(files, "RESULTS_SCHEMA", nogo.folder / "no-such.schema.json")
        with pytest.raises(HarnessError, match="results schema is missing; reinstall cutover"):
            load_results(nogo.results)

    def test_the_schema_ships_inside_the_package(self) -> None:
        import importlib.resources

        shipped = importlib.resources.files("schemas") / "results.schema.json"
        assert shipped.is_file()
        assert str(shipped) == str(files.RESULTS_SCHEMA)

    def test_the_verdict_is_one_function_shared_by_writer_and_reader(self) -> None:
        assert verdict is files.verdict

    def test_every_reader_of_results_json_goes_through_load_results(self) -> None:
        readers = []
        for path in sorted((REPO / "harness").rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if re.search(r"RESULTS_NAME|results_path|results\.json", text) and re.search(
                r"json\.loads?\(", text
            ):
                readers.append(path.relative_to(REPO).as_posix())
        # These parse JSON for other reasons (bundles, payloads, the folder's own bytes).
        assert set(readers) <= {
            "harness/results/files.py",
            "harness/report/folder.py",
            "harness/report/signoff.py",
            "harness/signoff/check.py",
            "harness/signoff/sign.py",
            "harness/plugin.py",
            "harness/plan/unloaded.py",  # the schema's list of kinds, not a results.json
        }, readers


# --- the commands ----------------------------------------------------------------------------


class TestReport:
    def test_a_forged_go_renders_nothing_and_exits_2(self, nogo: Run) -> None:
        page = nogo.folder / "report.html"
        before = page.read_bytes()
        nogo.rewrite(forge_go)
        line = refused(CliRunner().invoke(main, ["report", str(nogo.results)]))
        assert "verdict says GO but its checks say NO-GO (2 check(s) failed" in line
        assert page.read_bytes() == before

    def test_a_forged_go_is_not_rendered_to_another_file_either(
        self, nogo: Run, tmp_path: Path
    ) -> None:
        nogo.rewrite(forge_go)
        other = tmp_path / "other.html"
        refused(CliRunner().invoke(main, ["report", str(nogo.results), "-o", str(other)]))
        assert not other.exists()

    @pytest.mark.parametrize(
        "change",
        [
            lambda d: d.pop("checks"),
            lambda d: d.update(checks={"a": 1}),
            lambda d: d["checks"][0].update(id=3),
            lambda d: d.update(summary="fine"),
        ],
        ids=["checks-deleted", "checks-object", "id-int", "summary-string"],
    )
    def test_a_malformed_results_json_is_one_line_and_exit_2(
        self, nogo: Run, change: Callable[[dict[str, Any]], None]
    ) -> None:
        nogo.rewrite(change)
        line = refused(CliRunner().invoke(main, ["report", str(nogo.results)]))
        assert "not a valid results.json" in line

    def test_a_genuine_run_still_renders(self, nogo: Run) -> None:
        result = CliRunner().invoke(main, ["report", str(nogo.results)])
        assert result.exit_code == 0, result.output


class TestSign:
    def test_a_forged_go_cannot_be_signed(self, nogo: Run) -> None:
        nogo.rewrite(forge_go)
        line = refused(cli_sign(nogo))
        assert "verdict says GO but its checks say NO-GO" in line
        assert not nogo.bundle.exists()

    def test_deleted_checks_cannot_be_signed(self, nogo: Run) -> None:
        nogo.rewrite(lambda d: d.pop("checks"))
        assert "'checks' is a required property" in refused(cli_sign(nogo))
        assert not nogo.bundle.exists()


class TestCheckSignature:
    def test_a_signed_forged_go_does_not_verify(self, nogo: Run) -> None:
        nogo.rewrite(forge_go)
        bundle = sign_anyway(nogo)
        result = invoke(check_signature, bundle, "--public-key", nogo.public)
        assert result.exit_code == 1, result.output
        line = one_line(result.stderr)
        assert line.startswith("cutover: verification failed: ")
        assert "verdict says GO but its checks say NO-GO" in line
        assert result.stdout == ""

    def test_a_statement_claiming_another_verdict_than_results_json_does_not_verify(
        self, nogo: Run
    ) -> None:
        bundle = sign_anyway(nogo, verdict_claimed="GO")
        result = invoke(check_signature, bundle, "--public-key", nogo.public)
        assert result.exit_code == 1, result.output
        assert "the sign-off says verdict GO but results.json says NO-GO" in one_line(result.stderr)

    def test_an_approved_no_go_is_an_override_and_exits_4(self, nogo: Run) -> None:
        signed = cli_sign(nogo, "--note", "accept")
        assert signed.exit_code == 0, signed.output
        assert "override" in signed.stdout
        result = invoke(check_signature, nogo.bundle, "--public-key", nogo.public)
        assert result.exit_code == 4, result.output
        assert "verdict: NO-GO" in result.stdout
        assert "override: approved over a NO-GO verdict; reason: accept" in result.stdout

    def test_a_rejected_no_go_still_exits_3(self, nogo: Run) -> None:
        assert cli_sign(nogo, "--note", "no", decision="reject").exit_code == 0
        assert invoke(check_signature, nogo.bundle, "--public-key", nogo.public).exit_code == 3

    @pytest.mark.parametrize("checks", [GO, WAIVED], ids=["go", "waived"])
    def test_only_an_approved_go_or_go_with_waivers_exits_0(
        self, tmp_path: Path, checks: list[tuple[str, str, Status]]
    ) -> None:
        run = write_run(tmp_path, checks)
        assert cli_sign(run).exit_code == 0
        result = invoke(check_signature, run.bundle, "--public-key", run.public)
        assert result.exit_code == 0, result.output
        assert "override" not in result.stdout

    def test_the_exit_codes_are_documented(self) -> None:
        help_text = invoke(check_signature, "--help").stdout
        assert re.search(r"4\s+verified and approved over a\s+NO-GO", help_text), help_text
        readme = (REPO / "README.md").read_text(encoding="utf-8")
        section = readme[readme.index("## The report folder and the sign-off") :]
        assert "exits 4" in section.split("\n## ")[0]
