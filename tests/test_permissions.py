"""Under root, an embedded server widens no folder cutover did not create, and leaves nothing.

PostgreSQL refuses to run as root, so its binaries run as the unprivileged ``pgserver`` user,
which must reach them and its data. The wheel's helpers used to add o+rx to every folder above
both, for good (a TMPDIR under a home folder opened the home folder); now the server gets a
folder cutover creates where that user can already reach, with the wheel's files linked into it
(:mod:`harness.embedded.server_user`). These tests lock TMPDIR behind a ``drwx------`` chain
and read every mode afterwards.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from harness.embedded.provision import PostgresCluster, postgres_bin
from harness.embedded.reaper import CLUSTER_PREFIX, Owner
from harness.embedded.server_user import SYSTEM_USER, mirror_binaries
from harness.errors import ProvisionError
from tests.conftest import CLI_TIMEOUT_S
from tests.test_run_integrity import CUTOVER, clean_env

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="only root hands the server to another user"
)

FALLBACK_BASES = (Path("/tmp"), Path("/var/tmp"))


@pytest.fixture
def locked_chain() -> Iterator[list[Path]]:
    """``/tmp/cutover-perm-*/x/tmp``, each ``drwx------``, as a cautious root user has them."""
    top = Path(tempfile.mkdtemp(prefix="cutover-perm-", dir="/tmp"))
    chain = [top, top / "x", top / "x" / "tmp"]
    for folder in chain[1:]:
        folder.mkdir(mode=0o700)
    for folder in chain:
        folder.chmod(0o700)
    yield chain
    shutil.rmtree(top, ignore_errors=True)


def modes(folders: list[Path]) -> dict[str, str]:
    return {str(folder): stat.filemode(folder.stat().st_mode) for folder in folders}


def wheel_folders() -> list[Path]:
    """The wheel's bin folder and every folder above it."""
    bin_dir = postgres_bin("postgres").parent
    return [bin_dir, *bin_dir.parents]


def left_by(pid: int) -> list[Path]:
    """Cluster folders recording ``pid`` as their owner, in every place one may be made."""
    return [
        folder
        for base in FALLBACK_BASES
        for folder in base.glob(f"{CLUSTER_PREFIX}*")
        if (owner := Owner.of(folder)) is not None and owner.pid == pid
    ]


class TestAnEmbeddedRunUnderALockedTmpdir:
    def test_it_widens_nothing_and_leaves_nothing(
        self, tmp_path: Path, locked_chain: list[Path]
    ) -> None:
        conn = sqlite3.connect(tmp_path / "app.db")
        with conn:
            conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            conn.executemany("INSERT INTO item VALUES (?, ?)", [(1, "a"), (2, "b")])
        conn.close()
        plan = {
            "name": "permissions",
            "source": {"kind": "sqlite", "path": "app.db"},
            "target": {"kind": "embedded", "load": [{"sqlite": "app.db"}]},
        }
        (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
        before = modes([*locked_chain, *wheel_folders()])

        proc = subprocess.Popen(
            [sys.executable, "-c", CUTOVER, "verify", "--plan", "plan.yaml", "--report-dir", "out"],
            cwd=tmp_path,
            env={**clean_env(), "TMPDIR": str(locked_chain[-1])},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT_S)

        assert proc.returncode == 0, stdout + stderr
        assert "cutover verdict: GO" in stdout
        assert modes([*locked_chain, *wheel_folders()]) == before
        assert list(locked_chain[-1].iterdir()) == []
        assert left_by(proc.pid) == []


@pytest.fixture
def locked_tmpdir(locked_chain: list[Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(locked_chain[-1]))
    return locked_chain[-1]


class TestAClusterUnderALockedTmpdir:
    def test_its_folder_is_its_own_where_the_server_user_reaches(
        self, locked_chain: list[Path], locked_tmpdir: Path
    ) -> None:
        before = modes([*locked_chain, *wheel_folders()])
        with PostgresCluster() as cluster:
            root = cluster.data_dir.parent
            assert root.parent in FALLBACK_BASES
            assert root.owner() == SYSTEM_USER
            assert stat.S_IMODE(root.stat().st_mode) == 0o700
            pid = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
            postmaster = psutil.Process(pid)
            assert postmaster.username() == SYSTEM_USER
            # Its binary is the link in its own folder, not the wheel's path.
            assert Path(postmaster.exe()).is_relative_to(root)
            assert cluster.server_version().startswith("16.")
        assert modes([*locked_chain, *wheel_folders()]) == before
        assert not root.exists()
        assert list(locked_tmpdir.iterdir()) == []

    def test_a_base_dir_the_server_user_cannot_reach_is_refused_untouched(
        self, locked_chain: list[Path]
    ) -> None:
        before = modes(locked_chain)
        with pytest.raises(ProvisionError) as caught:
            PostgresCluster(base_dir=locked_chain[-1])
        message = str(caught.value)
        assert f"{locked_chain[0]} is drwx------" in message
        assert "fix:" in message
        assert "\n" not in message
        assert modes(locked_chain) == before
        assert list(locked_chain[-1].iterdir()) == []


class TestTheMirroredBinaries:
    def test_they_are_the_wheels_own_files_linked_not_copied_nor_chmodded(
        self, locked_chain: list[Path]
    ) -> None:
        bin_dir = postgres_bin("postgres").parent
        if bin_dir.stat().st_dev != locked_chain[-1].stat().st_dev:
            pytest.skip("the wheel is on another file system: its files are copied")
        wheel_modes = {p.name: p.stat().st_mode for p in bin_dir.iterdir()}
        mirrored = mirror_binaries(locked_chain[-1] / "pg")
        for name in ("postgres", "initdb", "pg_ctl", "psql"):
            assert (mirrored / name).stat().st_ino == (bin_dir / name).stat().st_ino
        assert {p.name: p.stat().st_mode for p in bin_dir.iterdir()} == wheel_modes
