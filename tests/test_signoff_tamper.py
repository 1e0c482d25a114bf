"""Tampering with a signed run, as a reviewer's auditor would try it.

The run is real: the linter and the residue scanner read two files (so results.json lists
them under ``inputs``), :func:`harness.report.folder.write_folder` writes the report folder, and
`cutover sign` signs it. Then one byte changes anywhere — in results.json, report.html, the
plan, the linted SQL or the scanned code — and `cutover check-signature` must fail naming
that file; a wrong key, a rejection and expired waivers each get their own answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.lint.checks import check_file
from harness.lint.settings import LintSettings
from harness.report.folder import write_folder
from harness.residue.checks import check_paths
from harness.residue.rules import EXAMPLE_SETTINGS
from harness.results.check import CheckResult
from harness.results.record import build_results, environment
from harness.signoff import write_keypair

REVIEWER = "Ana Reviewer <ana@example.com>"
EXPIRED = {
    "table": "orders",
    "column": "note",
    "kind": "missing_column",
    "reason": "notes moved to the CRM",
    "reviewer": "Bo <bo@example.com>",
    "expires": "2020-01-31",
    "used": False,
    "expired": True,
}


@dataclass(frozen=True)
class SignedRun:
    folder: Path
    files: dict[str, Path]
    """Every signed file by the name check-signature reports it under."""
    public: Path
    other_public: Path
    private: Path


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def make_run(root: Path) -> SignedRun:
    code = root / "code"
    code.mkdir(parents=True)
    sql = code / "V1__init.sql"
    sql.write_text("CREATE TABLE t (id SERIAL PRIMARY KEY, x int);\n", encoding="utf-8")
    app = code / "app.py"
    app.write_text('import os\n\nHOST = os.environ["LEGACY_DB_HOST"]\n', encoding="utf-8")
    plan = root / "plan.yaml"
    plan.write_text("name: tamper\nsource: {kind: sqlite, path: app.db}\n", encoding="utf-8")
    checks: list[CheckResult] = [check_file(sql, LintSettings(paths=(sql,)))]
    checks += check_paths([app], EXAMPLE_SETTINGS)[:1]
    side = {"kind": "sqlite", "display": "app.db", "server_version": "3"}
    results = build_results(
        plan={
            "name": "tamper",
            "path": str(plan),
            "sha256": hashlib.sha256(plan.read_bytes()).hexdigest(),
        },
        checks=[dict(c.to_dict(), nodeid=f"scenarios/test_x.py::test[{c.id}]") for c in checks],
        expected_differences=[EXPIRED],
        env=environment(side, side, 0),
        started=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
        finished=datetime(2026, 11, 21, 9, 1, tzinfo=UTC),
    )
    out = root / "reports"
    write_folder(results, out)
    keys = write_keypair(root / "keys" / "k.key", root / "keys" / "k.pub")
    other = write_keypair(root / "keys" / "other.key", root / "keys" / "other.pub")
    return SignedRun(
        folder=out,
        files={
            "results.json": out / "results.json",
            "report.html": out / "report.html",
            # Inputs by their path from the root (the plan's folder), the folder's by name.
            "plan.yaml": plan,
            "code/V1__init.sql": sql,
            "code/app.py": app,
        },
        public=keys.public,
        other_public=other.public,
        private=keys.private,
    )


def sign(run: SignedRun, decision: str = "approve", *extra: str) -> Path:
    if decision == "approve":  # the run is a NO-GO (SERIAL, a leftover host variable)
        extra = ("--note", "accepted for the dry run", *extra)
    signed = cli(
        "sign", run.folder / "results.json", "--key", run.private,
        "--reviewer", REVIEWER, "--decision", decision, *extra,
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    return run.folder / "signoff.dsse.json"


def check(bundle: Path, key: Path) -> Result:
    return cli("check-signature", bundle, "--public-key", key)


def flip(path: Path, where: float) -> bytes:
    """Flip the lowest bit of one byte at fraction ``where`` of the file; return the original."""
    original = path.read_bytes()
    data = bytearray(original)
    data[min(int(len(data) * where), len(data) - 1)] ^= 0x01
    path.write_bytes(bytes(data))
    return original


@pytest.fixture
def run(tmp_path: Path) -> SignedRun:
    return make_run(tmp_path)


class TestTheSignedRun:
    def test_every_input_the_checks_read_is_a_subject(self, run: SignedRun) -> None:
        bundle = sign(run)
        result = check(bundle, run.public)
        assert result.exit_code == 4, result.output  # an approved NO-GO: an override, never 0
        assert f"{len(run.files)} signed file(s) unchanged" in result.stdout
        results = json.loads((run.folder / "results.json").read_bytes())
        assert {entry["kind"] for entry in results["inputs"]} == {"sql", "iac"}

    @settings(
        max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(which=st.integers(min_value=0, max_value=4), where=st.floats(0, 1))
    def test_one_flipped_byte_anywhere_fails_naming_the_file(
        self, tmp_path_factory: pytest.TempPathFactory, which: int, where: float
    ) -> None:
        run = signed_once(tmp_path_factory)
        name, path = list(run.files.items())[which]
        original = flip(path, where)
        try:
            result = check(run.folder / "signoff.dsse.json", run.public)
        finally:
            path.write_bytes(original)
        assert result.exit_code == 1
        assert result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"cutover: verification failed: {name} changed since it was signed")

    def test_a_wrong_key_fails_whatever_the_files_say(self, run: SignedRun) -> None:
        result = check(sign(run), run.other_public)
        assert result.exit_code == 1
        assert "the signature does not match this key" in result.stderr

    def test_a_rejection_verifies_and_exits_3(self, run: SignedRun) -> None:
        result = check(sign(run, "reject", "--note", "SERIAL ids must go first"), run.public)
        assert result.exit_code == 3, result.output
        assert "decision: REJECTED by Ana Reviewer <ana@example.com>" in result.stdout
        assert "note: SERIAL ids must go first" in result.stdout

    def test_an_expired_waiver_is_flagged_in_the_predicate_the_report_and_the_output(
        self, run: SignedRun
    ) -> None:
        bundle = sign(run)
        result = check(bundle, run.public)
        assert (
            "expired waiver: orders.note (expired 2020-01-31, reviewer Bo <bo@example.com>): "
            "notes moved to the CRM"
        ) in result.stdout
        html = (run.folder / "report.html").read_text(encoding="utf-8")
        assert '<tr class="state-expired">' in html
        assert "Expired, unused" in html
        page = (run.folder / "signoff.html").read_text(encoding="utf-8")
        assert "Signed with 1 expired waiver:" in page
        assert "orders.note: notes moved to the CRM (reviewer Bo &lt;bo@example.com&gt;" in page

    def test_the_signoff_page_turns_red_once_a_file_changes(self, run: SignedRun) -> None:
        sign(run)
        sql = run.files[next(n for n in run.files if n.endswith(".sql"))]
        flip(sql, 0.5)
        result = cli("report", run.folder / "results.json", "--public-key", run.public)
        assert result.exit_code == 0, result.output
        page = (run.folder / "signoff.html").read_text(encoding="utf-8")
        assert 'class="signoff signoff-not-verified"' in page
        assert "V1__init.sql changed since it was signed" in page


_SIGNED: dict[str, Any] = {}


def signed_once(factory: pytest.TempPathFactory) -> SignedRun:
    """One signed run shared by every hypothesis example (each restores what it flips)."""
    if "run" not in _SIGNED:
        run = make_run(factory.mktemp("tamper"))
        sign(run)
        _SIGNED["run"] = run
    signed: SignedRun = _SIGNED["run"]
    return signed
