"""Specification of how cutover reads a SQLite file: nothing is written beside it, in WAL mode
too, in a folder it cannot write, next to a live writer; and a file that cannot be read is one
line naming the file and the fix (exit 2), checked before any work.

The suite runs as root, which no folder permission stops: the no-write promise is checked by
listing the folder before and after, and the read-only folder case runs as ``nobody``.
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
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.embedded.migrate import copy_sqlite
from harness.endpoints import sqlite_file
from harness.endpoints.resolve import resolve
from harness.endpoints.settings import SqliteEndpoint
from harness.endpoints.sqlite_file import check_file, open_read_only, read_only_uri
from harness.errors import EndpointError
from tests.conftest import run_cutover, run_sql

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534
ROWS = 50  # the PostgreSQL copy in TestVerifyRuns inserts 0..49


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file in ``folder``: name → (size, mtime in ns)."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def make_db(path: Path, *, wal: bool, rows: int = ROWS) -> Path:
    """An ``events`` table of ``rows`` rows, closed cleanly (so a WAL file has no -wal left)."""
    conn = sqlite3.connect(path)
    if wal:
        assert conn.execute("PRAGMA journal_mode=wal").fetchone() == ("wal",)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL)")
    conn.executemany("INSERT INTO events VALUES (?, ?)", [(i, f"k{i % 3}") for i in range(rows)])
    conn.commit()
    conn.close()
    return path


def count(path: Path) -> int:
    conn = open_read_only(path, "source")
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint=0")  # its rows stay in the -wal
rows = [(i,) for i in range(1000, 1000 + int(sys.argv[2]))]
conn.executemany("INSERT INTO events VALUES (?, 'live')", rows)
if sys.argv[3] == "truncate":
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log is empty; the writer stays
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def live_writer(tmp_path: Path) -> Iterator[Any]:
    """Start a process holding a WAL database open (its rows in the -wal, or checkpointed)."""
    started: list[subprocess.Popen[str]] = []

    def start(path: Path, rows: int, mode: str = "keep") -> subprocess.Popen[str]:
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(rows), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(writer)
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        return writer

    yield start
    for writer in started:
        if writer.returncode is None:
            writer.communicate("", timeout=30)


class TestNothingIsWrittenBesideIt:
    def test_a_wal_file_no_one_has_open_is_read_immutable_and_leaves_no_wal_or_shm(
        self, tmp_path: Path
    ) -> None:
        path = make_db(tmp_path / "app.db", wal=True)
        before = listing(tmp_path)

        assert count(path) == ROWS
        check_file(path, "source")

        assert "immutable=1" in read_only_uri(path)
        assert listing(tmp_path) == before == {"app.db": before["app.db"]}

    def test_a_rollback_journal_file_is_read_with_locks_and_leaves_nothing(
        self, tmp_path: Path
    ) -> None:
        path = make_db(tmp_path / "app.db", wal=False)
        before = listing(tmp_path)

        assert count(path) == ROWS
        assert read_only_uri(path).endswith("?mode=ro")
        assert listing(tmp_path) == before

    def test_next_to_a_live_writer_its_uncheckpointed_rows_are_read_through_its_shm(
        self, tmp_path: Path, live_writer: Any
    ) -> None:
        path = make_db(tmp_path / "app.db", wal=True)
        live_writer(path, 7)
        names = set(listing(tmp_path))
        db_before = listing(tmp_path)["app.db"]

        assert names == {"app.db", "app.db-wal", "app.db-shm"}
        assert "immutable" not in read_only_uri(path)  # immutable would miss the 7 rows
        assert count(path) == ROWS + 7
        assert set(listing(tmp_path)) == names
        assert listing(tmp_path)["app.db"] == db_before

    def test_once_the_writer_has_gone_the_file_is_read_immutable_again(
        self, tmp_path: Path, live_writer: Any
    ) -> None:
        path = make_db(tmp_path / "app.db", wal=True)
        writer = live_writer(path, 7)
        assert count(path) == ROWS + 7

        writer.communicate("", timeout=30)  # its last close checkpoints and removes -wal, -shm

        assert set(listing(tmp_path)) == {"app.db"}
        assert "immutable=1" in read_only_uri(path)
        assert count(path) == ROWS + 7

    def test_a_writer_with_an_empty_log_is_still_seen_by_its_lock(
        self, tmp_path: Path, live_writer: Any
    ) -> None:
        path = make_db(tmp_path / "app.db", wal=True)
        live_writer(path, 3, "truncate")
        assert (tmp_path / "app.db-wal").stat().st_size == 0

        assert "immutable" not in read_only_uri(path)  # the writer may write at any moment
        assert count(path) == ROWS + 3

    def test_where_locks_cannot_be_asked_about_the_wal_files_decide(
        self, tmp_path: Path, live_writer: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sqlite_file, "_held_elsewhere", lambda path: None)  # not Linux
        clean = make_db(tmp_path / "clean.db", wal=True)
        live = make_db(tmp_path / "live.db", wal=True)
        live_writer(live, 3, "truncate")

        assert "immutable=1" in read_only_uri(clean)  # no -wal: no connection is open
        assert "immutable" not in read_only_uri(live)  # a -wal, even empty: one may be
        assert (count(clean), count(live)) == (ROWS, ROWS + 3)

    def test_a_log_left_without_its_shm_is_refused_naming_the_file_and_the_fix(
        self, tmp_path: Path, live_writer: Any
    ) -> None:
        # What a crashed writer leaves: transactions in the -wal, no process, no -shm.
        live = make_db(tmp_path / "live.db", wal=True)
        live_writer(live, 5)
        left = tmp_path / "left"
        left.mkdir()
        shutil.copy(live, left / "app.db")
        shutil.copy(tmp_path / "live.db-wal", left / "app.db-wal")
        before = listing(left)

        with pytest.raises(EndpointError) as caught:
            count(left / "app.db")

        message = str(caught.value)
        assert message.startswith(f"source: cannot open {left / 'app.db'} as a SQLite database")
        assert "app.db-wal holds transactions and app.db-shm is missing" in message
        assert f"sqlite3 {left / 'app.db'} 'PRAGMA wal_checkpoint'" in message
        assert listing(left) == before


NOBODY_READS = """
import json, sqlite3, sys
from contextlib import ExitStack
from harness.endpoints.resolve import open_database, resolve
from harness.endpoints import sqlite_file
from harness.endpoints.settings import SqliteEndpoint
from harness.errors import EndpointError

out = {}
try:
    sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("SELECT 1 FROM events")
    out["plain mode=ro"] = "ok"
except sqlite3.Error as exc:
    out["plain mode=ro"] = str(exc)
for name in sys.argv[1:]:
    spec = SqliteEndpoint.model_validate({"kind": "sqlite", "path": name})
    try:
        with ExitStack() as resources:
            db = open_database(resolve(spec, "source", resources))
            out[name] = db.count_rows("events")
            db.close()
    except EndpointError as exc:
        out[name] = str(exc)
print(json.dumps(out))
"""


@pytest.fixture
def read_only_folder() -> Iterator[Path]:
    """A folder under /tmp that ``nobody`` can enter and read but not write (pytest's own
    tmp_path sits in a root-only folder)."""
    folder = Path(tempfile.mkdtemp(prefix="cutover-ro-"))
    yield folder
    folder.chmod(0o700)
    shutil.rmtree(folder)


def _others_can_run(program: str) -> bool:
    """Whether a user with no rights of its own can run ``program``: every folder on its path
    (and on its link's target's) enterable by others, the file executable by them."""
    paths = {Path(program).absolute(), Path(program).resolve()}
    folders = {folder for path in paths for folder in path.parents}
    return all(p.stat().st_mode & stat.S_IXOTH for p in (*paths, *folders))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a reader as nobody")
@pytest.mark.skipif(
    not _others_can_run(sys.executable),
    reason=f"nobody cannot run {sys.executable}: a folder on its path is closed to others"
    " (.ci/run opens its venv's folder for this)",
)
def test_as_an_unprivileged_user_a_wal_file_in_a_read_only_folder_is_read(
    read_only_folder: Path,
) -> None:
    path = make_db(read_only_folder / "app.db", wal=True)
    secret = make_db(read_only_folder / "private.db", wal=False)
    path.chmod(0o444)
    secret.chmod(0o000)
    read_only_folder.chmod(0o555)
    before = listing(read_only_folder)

    done = subprocess.run(
        [sys.executable, "-c", NOBODY_READS, str(path), str(secret)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["plain mode=ro"] == "attempt to write a readonly database"  # the old way
    assert found[str(path)] == ROWS
    assert found[str(secret)].startswith(f"source: cannot read SQLite file {secret}: Permission")
    assert "give the user running cutover read access to it" in found[str(secret)]
    assert listing(read_only_folder) == before


class TestCheckedUpFront:
    def test_a_directory_is_named_as_a_directory(self, tmp_path: Path) -> None:
        spec = SqliteEndpoint.model_validate({"kind": "sqlite", "path": str(tmp_path)})
        with ExitStack() as resources, pytest.raises(EndpointError) as caught:
            resolve(spec, "source", resources)
        assert str(caught.value) == (
            f"source: {tmp_path} is a directory, not a SQLite file (check source.path in the plan)"
        )

    def test_damaged_pages_behind_a_valid_header_are_found_before_any_check(
        self, tmp_path: Path
    ) -> None:
        path = damaged(tmp_path / "app.db")
        with pytest.raises(EndpointError, match=r"is damaged \(PRAGMA quick_check: "):
            check_file(path, "source")

    def test_a_file_that_is_not_sqlite_says_so(self, tmp_path: Path) -> None:
        path = tmp_path / "notes.db"
        path.write_text("meeting notes\n" * 20)
        with pytest.raises(EndpointError, match="file is not a database"):
            check_file(path, "target")

    def test_an_empty_file_is_an_empty_database(self, tmp_path: Path) -> None:
        (tmp_path / "empty.db").touch()
        check_file(tmp_path / "empty.db", "source")
        assert listing(tmp_path) == {"empty.db": listing(tmp_path)["empty.db"]}


def damaged(path: Path) -> Path:
    """A SQLite file whose header and first pages are intact and whose later pages are not."""
    make_db(path, wal=False, rows=3000)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[3 * page : 12 * page] = b"\xab" * (9 * page)
    path.write_bytes(bytes(data))
    return path


def verify(
    tmp_path: Path, source: dict[str, Any], target: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"name": "ro", "source": source, "target": target}))
    out = tmp_path.parent / f"{tmp_path.name}-out"
    return run_cutover("verify", "--plan", str(plan), "--report-dir", str(out), cwd=tmp_path)


def one_line_exit_2(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


@pytest.mark.slow
class TestVerifyRuns:
    def test_a_wal_source_is_verified_and_its_folder_is_unchanged(
        self, tmp_path: Path, pg_database: str
    ) -> None:
        folder = tmp_path / "data"
        folder.mkdir()
        make_db(folder / "app.db", wal=True)
        run_sql(
            pg_database,
            "CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL);"
            "INSERT INTO events SELECT i, 'k' || (i % 3) FROM generate_series(0, 49) i",
        )
        before = listing(folder)

        done = verify(
            tmp_path,
            {"kind": "sqlite", "path": "data/app.db"},
            {"kind": "postgres", "dsn": pg_database},
        )

        assert done.returncode == 0, done.stdout + done.stderr
        assert listing(folder) == before

    def test_an_embedded_load_of_a_wal_file_leaves_its_folder_unchanged(
        self, tmp_path: Path, pg_database: str
    ) -> None:
        folder = tmp_path / "data"
        folder.mkdir()
        make_db(folder / "app.db", wal=True)
        before = listing(folder)

        copy_sqlite(folder / "app.db", pg_database)

        assert listing(folder) == before
        assert count(folder / "app.db") == ROWS

    def test_a_directory_as_source_path_is_one_line_naming_it(self, tmp_path: Path) -> None:
        line = one_line_exit_2(
            verify(tmp_path, {"kind": "sqlite", "path": "."}, {"kind": "embedded"})
        )
        assert line == (
            f"cutover: error: source: {tmp_path} is a directory, not a SQLite file "
            "(check source.path in the plan)"
        )

    def test_a_damaged_source_is_one_line_naming_the_file_before_any_check(
        self, tmp_path: Path
    ) -> None:
        path = damaged(tmp_path / "app.db")
        line = one_line_exit_2(
            verify(tmp_path, {"kind": "sqlite", "path": "app.db"}, {"kind": "embedded"})
        )
        assert line.startswith(f"cutover: error: source: SQLite file {path} is damaged")
        assert f"sqlite3 {path} .recover" in line
