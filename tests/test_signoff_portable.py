"""Signed evidence travels: a report folder copied anywhere still verifies.

CI uploads the report folder as an artifact and a reviewer checks it on another machine,
without the repository beside it. Files in the report folder are named from the folder, the
run's inputs (plan, linted SQL, scanned code) from a root, so:

- the folder alone verifies as far as it can, and the inputs it cannot see are *absent*:
  exit 5, each named, never 0 and never the tampering code 1;
- ``--root DIR`` points at the inputs, wherever that checkout is; a changed byte there is
  still exit 1, naming the file;
- a file gone from the report folder itself is removed evidence: exit 1.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.signoff.command import EXIT_INPUTS_ABSENT
from harness.signoff.keys import PRIVATE_NAME, PUBLIC_NAME
from tests.conftest import run_cutover
from tests.test_signoff import statement_of
from tests.test_signoff_tamper import REVIEWER, SignedRun, check, cli, flip, make_run, sign

INPUTS = ("plan.yaml", "code/V1__init.sql", "code/app.py")
"""The tamper run's inputs, by their path from its root (the plan's folder)."""


@pytest.fixture
def run(tmp_path: Path) -> SignedRun:
    made = make_run(tmp_path / "checkout")
    sign(made)
    return made


def artifact(run: SignedRun, where: Path) -> Path:
    """The report folder alone, copied as a CI artifact is; its bundle."""
    copy = shutil.copytree(run.folder, where / "downloaded" / "cutover-report")
    return copy / "signoff.dsse.json"


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


class TestTheReportFolderAlone:
    def test_verifies_as_far_as_it_can_and_names_each_absent_input_with_exit_5(
        self, run: SignedRun, tmp_path: Path
    ) -> None:
        result = check(artifact(run, tmp_path), run.public)
        assert result.exit_code == EXIT_INPUTS_ABSENT == 5, result.output
        assert result.stdout == ""
        *absent, last = lines(result.stderr)
        assert [line.split(" is not present here")[0] for line in absent] == [
            f"cutover: not verified: {name}" for name in INPUTS
        ]
        assert "2 signed file(s) verify, nothing changed" in last
        assert "pass --root DIR" in last
        assert "verification failed" not in result.stderr

    def test_with_root_naming_the_checkout_it_verifies(
        self, run: SignedRun, tmp_path: Path
    ) -> None:
        bundle = artifact(run, tmp_path)
        result = cli(
            "check-signature", bundle, "--public-key", run.public, "--root", run.folder.parent
        )
        assert result.exit_code == 4, result.output  # the run is an approved NO-GO
        assert "5 signed file(s) unchanged" in result.stdout

    @pytest.mark.parametrize("name", INPUTS)
    def test_a_changed_byte_under_root_is_still_tampering(
        self, run: SignedRun, tmp_path: Path, name: str
    ) -> None:
        bundle = artifact(run, tmp_path)
        clone = Path(shutil.copytree(run.folder.parent, tmp_path / "clone"))
        flip(clone / name, 0.5)
        result = cli("check-signature", bundle, "--public-key", run.public, "--root", clone)
        assert result.exit_code == 1, result.output
        (line,) = lines(result.stderr)
        assert line.startswith(f"cutover: verification failed: {name} changed since it was signed")

    def test_a_change_outranks_an_absent_input(self, run: SignedRun, tmp_path: Path) -> None:
        bundle = artifact(run, tmp_path)
        clone = Path(shutil.copytree(run.folder.parent, tmp_path / "clone"))
        (clone / "code" / "app.py").unlink()
        flip(clone / "plan.yaml", 0.0)
        result = cli("check-signature", bundle, "--public-key", run.public, "--root", clone)
        assert result.exit_code == 1, result.output
        assert "plan.yaml changed since it was signed" in result.stderr
        assert "code/app.py is not present here" in result.stderr

    @pytest.mark.parametrize("name", ["results.json", "report.html"])
    def test_a_file_gone_from_the_folder_is_tampering_not_absence(
        self, run: SignedRun, tmp_path: Path, name: str
    ) -> None:
        bundle = artifact(run, tmp_path)
        (bundle.parent / name).unlink()
        result = check(bundle, run.public)
        assert result.exit_code == 1, result.output
        assert f"cutover: verification failed: {name} is missing" in result.stderr

    def test_root_naming_no_folder_is_a_usage_error(self, run: SignedRun, tmp_path: Path) -> None:
        bundle = artifact(run, tmp_path)
        result = cli(
            "check-signature", bundle, "--public-key", run.public, "--root", tmp_path / "x"
        )
        assert result.exit_code == 2
        (line,) = lines(result.stderr)
        assert "--root names no folder" in line


class TestTheWholeTree:
    def test_moved_whole_it_verifies_without_root(self, run: SignedRun, tmp_path: Path) -> None:
        moved = Path(shutil.move(run.folder.parent, tmp_path / "elsewhere"))
        result = check(moved / "reports" / "signoff.dsse.json", moved / "keys" / "k.pub")
        assert result.exit_code == 4, result.output

    def test_sign_root_names_the_inputs_from_a_higher_folder(
        self, run: SignedRun, tmp_path: Path
    ) -> None:
        signed = cli(
            "sign", run.folder / "results.json", "--key", run.private, "--reviewer", REVIEWER,
            "--decision", "reject", "--root", tmp_path,
        )  # fmt: skip
        assert signed.exit_code == 0, signed.output
        statement = statement_of(run.folder / "signoff.dsse.json")
        roots = [s["name"] for s in statement["subject"] if s["annotations"]["base"] == "root"]
        assert roots == [f"checkout/{name}" for name in INPUTS]
        assert statement["predicate"]["root"] == "../.."

    def test_sign_refuses_a_root_that_does_not_hold_every_input(
        self, run: SignedRun, tmp_path: Path
    ) -> None:
        elsewhere = tmp_path / "unrelated"
        elsewhere.mkdir()
        signed = cli(
            "sign", run.folder / "results.json", "--key", run.private, "--reviewer", REVIEWER,
            "--decision", "reject", "--root", elsewhere,
        )  # fmt: skip
        assert signed.exit_code == 2
        (line,) = lines(signed.stderr)
        assert "plan.yaml is neither in the report folder" in line
        assert "pass --root naming a folder that holds every input" in line


def test_check_signature_help_names_exit_5_and_root() -> None:
    result = cli("check-signature", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "--root" in text
    assert "5 the signature and the report folder verify but inputs outside it are not" in text


@pytest.mark.slow
def test_a_real_run_in_a_git_checkout_verifies_as_a_downloaded_artifact(tmp_path: Path) -> None:
    """verify → sign → the report folder alone elsewhere → check-signature, as in CI."""
    repo = tmp_path / "app-repo"
    (repo / "db").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    with sqlite3.connect(repo / "db" / "app.db") as conn:
        conn.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
    conn.close()
    plan = {
        "name": "portable",
        "source": {"kind": "sqlite", "path": "app.db"},
        "target": {"kind": "sqlite", "path": "app.db"},
        "tables": {"include": [], "allow_empty": True},
        "queries": {"corpus": {"users": {"sql": "SELECT count(*) FROM users"}}},
    }
    (repo / "db" / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    ran = run_cutover("verify", "--plan", "db/plan.yaml", "--report-dir", "out", cwd=repo)
    assert ran.returncode == 0, ran.stderr
    made = run_cutover("keygen", "--out", str(tmp_path / "keys"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    signed = run_cutover(
        "sign", "out/results.json", "--key", str(tmp_path / "keys" / PRIVATE_NAME),
        "--reviewer", REVIEWER, "--decision", "approve", cwd=repo,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    statement = statement_of(repo / "out" / "signoff.dsse.json")
    plan_subject = next(s for s in statement["subject"] if s["annotations"]["role"] == "plan")
    assert (plan_subject["name"], plan_subject["annotations"]["base"]) == ("db/plan.yaml", "root")
    shutil.copytree(repo / "out", tmp_path / "artifact")
    public = str(tmp_path / "keys" / PUBLIC_NAME)
    alone = run_cutover("check-signature", "signoff.dsse.json", "--public-key", public,
                        cwd=tmp_path / "artifact")  # fmt: skip
    assert alone.returncode == 5, alone.stderr
    assert "db/plan.yaml is not present here" in alone.stderr
    rooted = run_cutover("check-signature", "signoff.dsse.json", "--public-key", public,
                         "--root", str(repo), cwd=tmp_path / "artifact")  # fmt: skip
    assert rooted.returncode == 0, rooted.stderr
    assert json.loads((repo / "out" / "results.json").read_text())["verdict"] == "GO"
