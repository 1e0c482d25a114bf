"""A run's servers never outlive it: SIGINT and SIGTERM stop them before the run exits, and the
servers a ``kill -9`` stranded are reaped by the next start.

The end-to-end cases run the real `cutover verify` in a subprocess on an embedded target, with
a team test beside the scenarios that holds a server of its own (as the fault bed does) and
waits to be interrupted. Each run gets its own TMPDIR, and every assertion looks only there:
other tests own live clusters meanwhile, in other folders, and must never be touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from harness.embedded import interrupts
from harness.embedded.reaper import CLUSTER_PREFIX, Owner, process_started, reap
from harness.embedded.server_user import reachable_base, server_ids
from tests.test_run_integrity import CUTOVER, clean_env, finish, release, results, wait_for

TEAM_TESTS = '''\
import time
from pathlib import Path

import pytest

from harness import PostgresCluster

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def own_server():
    """A server the team's test starts for itself, as the fault bed does."""
    with PostgresCluster(tcp=True, password="pw") as cluster:
        yield cluster


def test_waits(own_server):
    (HERE / "started").touch()
    deadline = time.monotonic() + 120
    while not (HERE / "go-on").exists():
        assert time.monotonic() < deadline, "nobody interrupted this run"
        time.sleep(0.05)
'''

HOLDS_A_CLUSTER = """\
import sys, time
from pathlib import Path
from harness import PostgresCluster
cluster = PostgresCluster().start()
Path(sys.argv[1]).write_text(str(cluster.data_dir))
time.sleep(120)
"""


@pytest.fixture
def run_tmp() -> Iterator[Path]:
    """A TMPDIR of the run's own, where its servers live (reachable by the server user under
    root, so they land here and not in a shared fallback folder)."""
    base = reachable_base(None, server_ids())
    folder = Path(tempfile.mkdtemp(prefix="cutover-orphans-", dir=base))
    folder.chmod(0o755)
    yield folder
    stop_every_server_in(folder)  # only when a test failed: nothing is left for the next one
    shutil.rmtree(folder, ignore_errors=True)


def postmasters_in(folder: Path) -> list[psutil.Process]:
    """The postgres processes whose command line names a folder inside ``folder``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "-D" in cmdline and any(arg.startswith(f"{folder}/") for arg in cmdline):
            found.append(process)
    return found


def gone(process: psutil.Process) -> bool:
    """Ended (a zombie is ended: this container's pid 1 may never reap it)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def stop_every_server_in(folder: Path) -> None:
    for process in postmasters_in(folder):
        try:
            process.send_signal(signal.SIGQUIT)
            process.wait(10)
        except psutil.Error:
            pass


def clusters_in(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{CLUSTER_PREFIX}*"))


def project(work: Path) -> Path:
    """A SQLite source, an embedded target loaded from it, the team's test that waits."""
    conn = sqlite3.connect(work / "app.db")
    with conn:
        conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.executemany("INSERT INTO item VALUES (?, ?)", [(i, f"n{i}") for i in range(50)])
    conn.close()
    plan = {
        "name": "orphans",
        "source": {"kind": "sqlite", "path": "app.db"},
        "target": {"kind": "embedded", "load": [{"sqlite": "app.db"}]},
    }
    (work / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    (work / "team").mkdir()
    (work / "team" / "test_team.py").write_text(TEAM_TESTS, encoding="utf-8")
    return work


# As a CI script's `cutover verify &` starts it: SIGINT ignored, and so in its xdist workers.
IN_THE_BACKGROUND = CUTOVER.replace("signal.default_int_handler", "signal.SIG_IGN")


def start(work: Path, tmp: Path, *extra: str, wrapper: str = CUTOVER) -> subprocess.Popen[str]:
    """`cutover verify` in the background, in its own session, with TMPDIR ``tmp``."""
    args = ["verify", "--plan", "plan.yaml", "--report-dir", "out", *extra, "team"]
    return subprocess.Popen(
        [sys.executable, "-c", wrapper, *args],
        cwd=work,
        env={**clean_env(), "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


class TestASignalStopsEveryServerTheRunStarted:
    @pytest.mark.slow
    @pytest.mark.parametrize(
        ("signum", "workers", "wrapper"),
        [
            pytest.param(signal.SIGINT, "0", CUTOVER, id="SIGINT"),
            pytest.param(signal.SIGTERM, "0", CUTOVER, id="SIGTERM"),
            # The workers ignore SIGINT, so execnet's own stop cannot interrupt them: only the
            # SIGTERM the controller passes on stops the team's server in the worker.
            pytest.param(signal.SIGTERM, "2", IN_THE_BACKGROUND, id="SIGTERM-xdist-background"),
        ],
    )
    def test_no_server_and_no_folder_outlives_the_run(
        self, tmp_path: Path, run_tmp: Path, signum: signal.Signals, workers: str, wrapper: str
    ) -> None:
        work = project(tmp_path)
        proc = start(work, run_tmp, "-n", workers, wrapper=wrapper)
        wait_for(work / "team" / "started", proc)
        # The target and the team's own server, both in this run's TMPDIR, both running.
        assert len(clusters_in(run_tmp)) == 2, clusters_in(run_tmp)
        assert len(postmasters_in(run_tmp)) == 2

        signalled = time.monotonic()
        os.kill(proc.pid, signum)
        done = finish(proc)
        took = time.monotonic() - signalled

        output = done.stdout + done.stderr
        assert done.returncode == 2, output
        assert results(work / "out")["verdict"] == "NO-GO"
        assert clusters_in(run_tmp) == []
        assert postmasters_in(run_tmp) == []
        assert "Traceback" not in done.stderr, done.stderr
        assert took < 60, f"the run took {took:.1f} s to stop"


class TestKillNineLeavesOrphansTheNextStartReaps:
    @pytest.mark.slow
    def test_a_second_run_reaps_the_servers_of_a_killed_one(
        self, tmp_path: Path, run_tmp: Path
    ) -> None:
        work = project(tmp_path)
        killed = start(work, run_tmp)
        wait_for(work / "team" / "started", killed)
        os.kill(killed.pid, signal.SIGKILL)
        finish(killed)
        orphans = clusters_in(run_tmp)
        stranded = postmasters_in(run_tmp)
        assert len(orphans) == 2, orphans  # nothing could run at kill time
        assert len(stranded) == 2
        assert all(Owner.of(folder) == Owner.of(orphans[0]) for folder in orphans)

        shutil.rmtree(work / "out")
        release(work)
        second = finish(start(work, run_tmp))

        assert second.returncode == 0, second.stdout + second.stderr
        assert clusters_in(run_tmp) == []
        assert postmasters_in(run_tmp) == []
        assert all(gone(process) for process in stranded)


class TestAProcessHoldingAClusterUnwindsOnSigterm:
    @pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
    def test_its_server_stops_and_its_folder_goes(
        self, tmp_path: Path, run_tmp: Path, signum: signal.Signals
    ) -> None:
        ready = tmp_path / "data_dir"
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDS_A_CLUSTER, str(ready)],
            cwd=tmp_path,
            env={**clean_env(), "TMPDIR": str(run_tmp)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        wait_for(ready, proc)
        assert len(postmasters_in(run_tmp)) == 1

        os.kill(proc.pid, signum)
        proc.communicate(timeout=60)

        assert proc.returncode != 0
        assert clusters_in(run_tmp) == []
        assert postmasters_in(run_tmp) == []


def fake_cluster(base: Path, owner: Owner | None) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX, dir=base))
    (folder / "data").mkdir()
    if owner is not None:
        owner.write(folder)
    return folder


class TestTheReaper:
    def test_a_cluster_whose_owner_runs_is_left_alone(self, run_tmp: Path) -> None:
        mine = fake_cluster(run_tmp, Owner.this_process())
        assert reap(run_tmp) == []
        assert mine.exists()

    def test_a_reused_pid_is_not_mistaken_for_the_owner(self, run_tmp: Path) -> None:
        # This process's pid, but another start time: the owner was an earlier process.
        earlier = Owner(os.getpid(), "an-earlier-boot/0")
        folder = fake_cluster(run_tmp, earlier)
        assert reap(run_tmp) == [folder]
        assert not folder.exists()

    def test_a_folder_without_an_owner_record_is_left_alone(self, run_tmp: Path) -> None:
        # Being created right now, or made by a cutover that kept no record: never guessed at.
        folder = fake_cluster(run_tmp, None)
        assert reap(run_tmp) == []
        assert folder.exists()

    def test_a_pid_file_naming_some_other_process_never_gets_it_signalled(
        self, run_tmp: Path
    ) -> None:
        bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            folder = fake_cluster(run_tmp, Owner(os.getpid(), "an-earlier-boot/0"))
            (folder / "data" / "postmaster.pid").write_text(f"{bystander.pid}\n{folder}/data\n")
            assert reap(run_tmp) == [folder]
            assert bystander.poll() is None, "the reaper signalled a process that is no server"
        finally:
            bystander.kill()
            bystander.wait()

    def test_an_orphaned_server_is_stopped_and_its_folder_deleted(
        self, tmp_path: Path, run_tmp: Path
    ) -> None:
        ready = tmp_path / "data_dir"
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDS_A_CLUSTER, str(ready)],
            cwd=tmp_path,
            env={**clean_env(), "TMPDIR": str(run_tmp)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        wait_for(ready, holder)
        (server,) = postmasters_in(run_tmp)
        owner = Owner.of(Path(ready.read_text()).parent)
        assert owner is not None
        assert owner.pid == holder.pid
        assert owner.started == process_started(holder.pid)
        assert reap(run_tmp) == []  # its owner runs

        holder.kill()
        holder.communicate(timeout=60)
        began = time.monotonic()
        reaped = reap(run_tmp)
        took = time.monotonic() - began

        assert reaped == [Path(ready.read_text()).parent]
        assert gone(server)
        assert clusters_in(run_tmp) == []
        assert took < 15


class TestInterrupts:
    def test_a_signal_during_a_deferred_block_arrives_after_it(self) -> None:
        caught: list[int] = []
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: caught.append(signum))
        try:
            with interrupts.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                assert caught == []
            time.sleep(0.05)
            assert caught == [signal.SIGTERM]
        finally:
            signal.signal(signal.SIGTERM, previous)

    def test_only_the_first_interruption_raises(self) -> None:
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            interrupts.interrupt(signal.SIGTERM)
        try:
            interrupts.interrupt(signal.SIGINT)  # noted and dropped: cleanup goes on
            assert interrupts.interrupted() == "SIGTERM"
        finally:
            interrupts.reset()
