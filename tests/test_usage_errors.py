"""Specification of issue 17's "one line, exit 2, before any work": every place a command
writes is checked before a check runs or a report is rendered, and input cutover cannot use is
refused up front. Each case is one ``cutover: error:`` line naming what to fix, exit code 2
(the usage code, never 1, which means NO-GO), never a traceback, never a pass.

Every case runs the real command in a subprocess. Permission cases run it as an unprivileged
user: root may write anywhere, so under root (as in CI containers) the command is started as
``nobody`` through ``setpriv``; as any other user the test's own permissions already are the
unprivileged case.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CLI_TIMEOUT_S, run_cutover, run_once

Run = Callable[..., subprocess.CompletedProcess[str]]

QUERIES_ONLY = {"include": [], "allow_empty": True}
"""The ``tables:`` of a plan that compares no table (the fix the SQLite-target line gives)."""


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """Assert a clean usage error: exit 2, one ``cutover: error:`` line, nothing else; return it."""
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output, output
    assert not done.stdout.strip(), f"a usage error printed to stdout:\n{done.stdout}"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"stderr is not one line:\n{done.stderr}"
    assert lines[0].startswith("cutover: error: "), lines[0]
    return lines[0]


def app_db(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
            "INSERT INTO users (name) VALUES ('ana'), ('bo');"
        )
    conn.close()
    return path


def write_plan(folder: Path, **extra: Any) -> Path:
    """app.db compared with itself (SQLite on both sides), plus ``extra`` top-level keys."""
    if not (folder / "app.db").exists():
        app_db(folder / "app.db")
    plan = {
        "name": "usage errors",
        "source": {"kind": "sqlite", "path": "app.db"},
        "target": {"kind": "sqlite", "path": "app.db"},
        **extra,
    }
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- an unprivileged user ----------------------------------------------------------------


def _reachable_by_others(path: Path) -> bool:
    """Every folder down to ``path`` lets other users through (o+x)."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


@pytest.fixture(scope="module")
def unprivileged() -> list[str]:
    """The command prefix that runs cutover as a user without write access to root's files."""
    if os.geteuid() != 0:
        return []  # already unprivileged: a folder without w is closed to this user
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv (util-linux) is not installed")
    prefix = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import harness.cli"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot run this Python and cutover: {probe.stderr.strip()}")
    return prefix


@pytest.fixture
def shared(unprivileged: list[str]) -> Iterator[Path]:
    """A folder the unprivileged user can enter and read but not write (pytest's tmp_path is
    private to root). Created here and removed here; no folder above it is changed."""
    folder = Path(tempfile.mkdtemp(prefix="cutover-usage-"))
    try:
        folder.chmod(0o755)
        if unprivileged and not _reachable_by_others(folder):
            pytest.skip(f"{folder.parent} is closed to other users, so nobody cannot reach it")
        yield folder
    finally:
        for path in [folder, *(p for p in folder.iterdir() if p.is_dir())]:
            path.chmod(0o755)  # what a test closed, reopened so it can be removed
        shutil.rmtree(folder)


@pytest.fixture
def as_user(unprivileged: list[str], shared: Path) -> Run:
    """Run ``cutover ARGS`` in ``shared`` as the unprivileged user, in a clean environment
    (as ``run_cutover`` does: no CUTOVER_*, PG* or pytest variables)."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST_", "PG", "CUTOVER_", "COV_"))
        }
        return subprocess.run(
            [*unprivileged, sys.executable, "-m", "harness.cli", *args],
            cwd=shared,
            env=env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )

    return run


def closed(folder: Path, mode: int = 0o555) -> Path:
    """``folder`` (a child of ``shared``) made if needed and closed to the unprivileged user:
    readable but not writable (0o555), or not even enterable (0o000)."""
    folder.mkdir(exist_ok=True)
    folder.chmod(mode)
    return folder


@dataclass(frozen=True)
class ResultsFile:
    """Where a real run left its results.json."""

    path: str


@pytest.fixture(scope="session")
def results_json(request: pytest.FixtureRequest) -> bytes:
    """The results.json of a real, quick run (SQLite on both sides, no table to compare),
    made once for all workers."""

    def produce(work: Path) -> ResultsFile:
        write_plan(work, tables=QUERIES_ONLY)
        done = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=work)
        assert done.returncode == 0, done.stdout + done.stderr
        return ResultsFile(str(work / "out" / "results.json"))

    return Path(run_once(request, "usage-errors-results", produce, ResultsFile).path).read_bytes()


# --- where a command writes, as a user who cannot write there ----------------------------


class TestAFolderTheUserCannotWrite:
    def test_verify_stops_before_any_check_naming_the_report_dir(
        self, as_user: Run, shared: Path
    ) -> None:
        write_plan(shared, tables=QUERIES_ONLY)
        out = closed(shared / "out")
        line = one_line(as_user("verify", "--plan", "plan.yaml", "--report-dir", "out"))
        assert line == (
            "cutover: error: --report-dir out: cannot write in it (Permission denied); make it "
            "writable for this user or choose another folder"
        )
        assert listing(out) == []  # no check ran, nothing was written

    def test_report_names_the_folder_beside_results_json_and_writes_nothing(
        self, as_user: Run, shared: Path, results_json: bytes
    ) -> None:
        out = shared / "out"
        out.mkdir()
        (out / "results.json").write_bytes(results_json)
        closed(out)
        line = one_line(as_user("report", "out/results.json"))
        assert line.startswith("cutover: error: out: cannot write in it (Permission denied);")
        assert "copy results.json to a folder you can write in" in line
        assert listing(out) == ["results.json"]

    def test_report_html_to_a_folder_it_cannot_write_is_one_line(
        self, as_user: Run, shared: Path, results_json: bytes
    ) -> None:
        (shared / "results.json").write_bytes(results_json)
        closed(shared / "pages")
        line = one_line(as_user("report", "results.json", "-o", "pages/report.html"))
        assert "-o pages/report.html: cannot write in folder pages (Permission denied)" in line

    def test_lint_output_to_a_folder_it_cannot_write_is_one_line_before_linting(
        self, as_user: Run, shared: Path
    ) -> None:
        (shared / "x.sql").write_text("SELECT 1;\n", encoding="utf-8")
        closed(shared / "reports")
        line = one_line(as_user("lint", "x.sql", "-o", "reports/lint.txt"))
        assert "-o reports/lint.txt: cannot write in folder reports (Permission denied)" in line

    def test_lint_fix_beside_files_it_cannot_write_is_one_line_before_linting(
        self, as_user: Run, shared: Path
    ) -> None:
        migrations = shared / "migrations"
        migrations.mkdir()
        (migrations / "001.sql").write_text("CREATE TABLE t (id SERIAL PRIMARY KEY);\n")
        closed(migrations)
        line = one_line(as_user("lint", "migrations", "--fix"))
        assert "--fix migrations: cannot write in it (Permission denied)" in line
        assert listing(migrations) == ["001.sql"]

    def test_init_in_a_folder_it_cannot_write_is_one_line(self, as_user: Run, shared: Path) -> None:
        closed(shared / "project")
        line = one_line(as_user("init", "project/cutover.yaml"))
        assert "project/cutover.yaml: cannot write in folder project (Permission denied)" in line

    # --- output paths that cannot be what the command writes -----------------------------------

    def test_a_path_behind_a_folder_it_cannot_enter_is_one_line(
        self, as_user: Run, shared: Path
    ) -> None:
        closed(shared / "private", mode=0o000)
        line = one_line(as_user("init", "private/cutover.yaml"))
        assert line == (
            "cutover: error: private/cutover.yaml: cannot reach it (Permission denied): a folder "
            "on the way is closed to this user; choose another path"
        )


class TestAnOutputPathThatCannotBeWritten:
    def test_lint_output_that_is_a_folder_is_refused_before_linting(self, tmp_path: Path) -> None:
        (tmp_path / "x.sql").write_text("SELECT 1;\n", encoding="utf-8")
        (tmp_path / "reports").mkdir()
        line = one_line(run_cutover("lint", "x.sql", "-o", "reports", cwd=tmp_path))
        assert line == (
            "cutover: error: -o reports: is a folder; give a file name (such as reports/lint.txt)"
        )

    def test_lint_output_in_a_new_folder_creates_it(self, tmp_path: Path) -> None:
        (tmp_path / "x.sql").write_text("SELECT 1;\n", encoding="utf-8")
        done = run_cutover("lint", "x.sql", "-o", "reports/lint.txt", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (tmp_path / "reports" / "lint.txt").read_text(encoding="utf-8").startswith("ok:")

    def test_init_in_a_folder_that_does_not_exist_says_to_create_it(self, tmp_path: Path) -> None:
        line = one_line(run_cutover("init", "nodir/x.yaml", cwd=tmp_path))
        assert line == (
            "cutover: error: nodir/x.yaml: folder nodir does not exist; create it first or "
            "choose another path"
        )
        assert listing(tmp_path) == []

    @pytest.mark.parametrize("force", [(), ("--force",)], ids=["plain", "force"])
    def test_init_on_a_folder_asks_for_a_file_name(
        self, tmp_path: Path, force: tuple[str, ...]
    ) -> None:
        (tmp_path / "conf").mkdir()
        line = one_line(run_cutover("init", "conf", *force, cwd=tmp_path))
        assert line == (
            "cutover: error: conf: is a folder; give a file name (such as conf/cutover.yaml)"
        )
        assert listing(tmp_path / "conf") == []

    def test_init_below_a_file_names_the_file(self, tmp_path: Path) -> None:
        (tmp_path / "notes").write_text("a file\n", encoding="utf-8")
        line = one_line(run_cutover("init", "notes/cutover.yaml", cwd=tmp_path))
        assert line == (
            "cutover: error: notes/cutover.yaml: notes is a file, not a folder; choose another path"
        )

    def test_report_html_to_a_folder_asks_for_a_file_name(
        self, tmp_path: Path, results_json: bytes
    ) -> None:
        (tmp_path / "results.json").write_bytes(results_json)
        (tmp_path / "pages").mkdir()
        line = one_line(run_cutover("report", "results.json", "-o", "pages", cwd=tmp_path))
        assert line == (
            "cutover: error: -o pages: is a folder; give a file name (such as pages/report.html)"
        )

    def test_verify_into_a_report_dir_that_is_a_file_is_refused(self, tmp_path: Path) -> None:
        write_plan(tmp_path, tables=QUERIES_ONLY)
        (tmp_path / "out").write_text("a file\n", encoding="utf-8")
        line = one_line(
            run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=tmp_path)
        )
        assert line == (
            "cutover: error: --report-dir out: is a file, not a folder; choose another folder"
        )

    def test_schema_write_to_a_file_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "schemas").write_text("a file\n", encoding="utf-8")
        line = one_line(run_cutover("schema", "--write", "schemas", cwd=tmp_path))
        assert line == (
            "cutover: error: --write schemas: is a file, not a folder; choose another folder"
        )


# --- input cutover cannot use --------------------------------------------------------------


ELF_HEAD = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
GZIP_HEAD = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"compressed"


class TestLintRefusesWhatIsNotText:
    def test_a_real_executable_is_one_line_not_a_text_file(self, tmp_path: Path) -> None:
        line = one_line(run_cutover("lint", sys.executable, cwd=tmp_path))
        assert line.startswith(f"cutover: error: {sys.executable}: not a text file (a NUL byte")
        assert "give SQL files, migration folders or application code" in line

    @pytest.mark.parametrize(
        ("name", "content"),
        [("tool", ELF_HEAD), ("dump.sql", GZIP_HEAD)],
        ids=["executable", "compressed-dump-named-sql"],
    )
    def test_binary_content_is_refused_whatever_the_name(
        self, tmp_path: Path, name: str, content: bytes
    ) -> None:
        (tmp_path / name).write_bytes(content)
        line = one_line(run_cutover("lint", name, cwd=tmp_path))
        assert line.startswith(f"cutover: error: {name}: not a text file (a NUL byte at offset")

    def test_a_binary_sql_file_inside_a_migration_folder_is_named(self, tmp_path: Path) -> None:
        folder = tmp_path / "migrations"
        folder.mkdir()
        (folder / "V1__ok.sql").write_text("SELECT 1;\n", encoding="utf-8")
        (folder / "V2__dump.sql").write_bytes(GZIP_HEAD)
        line = one_line(run_cutover("lint", "migrations", cwd=tmp_path))
        assert "migrations/V2__dump.sql: not a text file" in line

    def test_utf16_sql_is_named_with_how_to_convert_it(self, tmp_path: Path) -> None:
        (tmp_path / "export.sql").write_bytes("SELECT 1;\n".encode("utf-16"))
        line = one_line(run_cutover("lint", "export.sql", cwd=tmp_path))
        assert "export.sql: UTF-16 text, which the linter does not read; convert it to UTF-8" in (
            line
        )

    def test_sql_in_another_8_bit_encoding_is_still_linted(self, tmp_path: Path) -> None:
        (tmp_path / "latin1.sql").write_bytes("SELECT 'café';\n".encode("latin-1"))
        done = run_cutover("lint", "latin1.sql", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr


class TestASqliteTarget:
    """Since the way back (PostgreSQL → SQLite) is supported, a SQLite target is compared like
    any other (tests/test_rows_sqlite_target.py); a plan may still check only queries."""

    def test_a_plan_may_check_only_queries_against_sqlite(self, tmp_path: Path) -> None:
        write_plan(tmp_path, tables=QUERIES_ONLY, queries={"corpus": {"n": {"sql": "SELECT 1"}}})
        done = run_cutover("verify", "--plan", "plan.yaml", "--report-dir", "out", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
        by_id = {c["id"]: c["status"] for c in results["checks"]}
        assert by_id["queries[n]"] == "pass"
        assert not any(c.startswith("rows[") for c in by_id)


class TestABareCutover:
    def test_prints_its_help_on_stderr_and_exits_2(self, tmp_path: Path) -> None:
        """Exit 2, not 0: 0 means GO to every script that runs cutover, and a command line
        that lost its command must never pass (click's own convention for a bare group)."""
        bare = run_cutover(cwd=tmp_path)
        helped = run_cutover("--help", cwd=tmp_path)
        assert bare.returncode == 2, bare.stdout + bare.stderr
        assert bare.stdout == ""
        assert bare.stderr == helped.stdout
        assert "error" not in bare.stderr.split("\n", 1)[0]
