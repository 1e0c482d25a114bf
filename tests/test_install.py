"""A name that is ours, and an install nothing else can shadow (docs/install.md).

The distribution is ``cutover-harness`` (``cutover`` on PyPI is another project); the command
is ``cutover``. Its top-level packages share import names with unrelated PyPI distributions
(``harness``, ``reports``, ``scenarios``), so cutover is installed on its own (pipx, the
Action's private venv), and every command refuses to run with a package of another's.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import tomllib
import venv
from importlib.metadata import packages_distributions, version
from pathlib import Path

import pytest
import yaml

from harness.install import DISTRIBUTION, PACKAGES, foreign_packages
from harness.report.folder import write_folder
from harness.results.files import RESULTS_NAME
from tests.conftest import CLI_TIMEOUT_S
from tests.test_signoff import write_run

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_distribution_is_cutover_harness_and_the_command_cutover() -> None:
    project = PYPROJECT["project"]
    assert project["name"] == DISTRIBUTION == "cutover-harness"
    assert project["scripts"] == {"cutover": "harness.cli:main"}
    assert version(DISTRIBUTION)  # installed under that name (pip install -e .)


def test_the_packages_it_installs_are_the_ones_the_check_knows() -> None:
    found = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(pattern.rstrip("*") for pattern in found) == sorted(PACKAGES)


def test_no_other_installed_distribution_provides_any_of_its_packages() -> None:
    """In cutover's own environment (here: the test environment, which also holds every
    dependency) each of its import names belongs to cutover alone."""
    owners = packages_distributions()
    assert {name: sorted(set(owners.get(name, []))) for name in PACKAGES} == {
        name: [DISTRIBUTION] for name in PACKAGES
    }


def test_each_package_resolves_beside_harness() -> None:
    assert foreign_packages() == {}


def _fake_reports(site: Path) -> None:
    """What ``pip install reports`` (Jinja HTML reports, an unrelated project) puts in an
    environment: a top-level ``reports`` package and its dist-info."""
    package = site / "reports"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("FOREIGN = True\n", encoding="utf-8")
    (package / "templates" / "report.html.j2").write_text("<h1>not cutover</h1>\n")
    info = site / "reports-0.4.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reports\nVersion: 0.4.1\n")
    (info / "top_level.txt").write_text("reports\n")
    (info / "RECORD").write_text("reports/__init__.py,,\nreports/templates/report.html.j2,,\n")


def _run(*args: str | Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``cutover ARGS`` as the installed script runs it: ``-P`` keeps the current folder off
    ``sys.path``, as a console script does (``python -m`` would put it first)."""
    return subprocess.run(
        [sys.executable, "-P", "-m", "harness.cli", *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CUTOVER_"))}


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    """A report folder as `cutover report` re-derives it."""
    template = write_run(tmp_path / "template")
    results = json.loads(template.results.read_text(encoding="utf-8"))
    return write_folder(results, tmp_path / "out").results.parent


class TestIsolated:
    def test_a_reports_distribution_in_the_users_environment_changes_nothing(
        self, tmp_path: Path, run_folder: Path
    ) -> None:
        """pipx's layout: cutover in its own environment, the user's environment (active,
        with `reports` installed) beside it. The report cutover renders is the same bytes."""
        user = tmp_path / "user-venv"
        venv.create(user, with_pip=False)
        (site,) = user.glob("lib/python*/site-packages")
        _fake_reports(site)
        reference = tmp_path / "reference"
        assert _run("report", run_folder / RESULTS_NAME, "-o", reference, env=_clean_env(),
                    cwd=tmp_path).returncode == 0  # fmt: skip
        active = dict(_clean_env(), VIRTUAL_ENV=str(user))
        active["PATH"] = f"{user / 'bin'}{os.pathsep}{active.get('PATH', '')}"
        beside = tmp_path / "beside"
        done = _run("report", run_folder / RESULTS_NAME, "-o", beside, env=active, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert filecmp.cmp(reference, beside, shallow=False)


class TestShadowed:
    @pytest.mark.parametrize("name", ["reports", "scenarios", "schemas"])
    def test_a_same_named_package_first_on_the_path_stops_every_command_in_one_line(
        self, tmp_path: Path, run_folder: Path, name: str
    ) -> None:
        shadow = tmp_path / "shadow"
        (shadow / name).mkdir(parents=True)
        (shadow / name / "__init__.py").write_text("", encoding="utf-8")
        env = dict(_clean_env(), PYTHONPATH=str(shadow))
        for args in (("report", run_folder / RESULTS_NAME), ("schema",)):
            done = _run(*args, env=env, cwd=tmp_path)
            assert done.returncode == 2, done.stdout
            (line,) = done.stderr.strip().splitlines()
            assert line.startswith(f"cutover: error: the '{name}' package Python finds")
            assert str(shadow / name) in line
            assert "pipx install cutover-harness" in line

    def test_a_folder_of_the_same_name_without_init_does_not_shadow(
        self, tmp_path: Path, run_folder: Path
    ) -> None:
        """A migration repository with a plain reports/ folder (report output, say) is fine:
        a folder without __init__.py never wins over cutover's package."""
        (tmp_path / "reports" / "out").mkdir(parents=True)
        done = _run("report", run_folder / RESULTS_NAME, env=_clean_env(), cwd=tmp_path)
        assert done.returncode == 0, done.stderr


def test_the_action_installs_cutover_in_a_private_venv() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    (step,) = [s for s in action["runs"]["steps"] if "-m venv" in s.get("run", "")]
    assert '"$venv/bin/python" -m pip install' in step["run"]
    assert "pip install" not in step["run"].replace('"$venv/bin/python" -m pip install', "")


def test_install_docs_name_the_distribution_and_pipx() -> None:
    text = (REPO / "docs" / "install.md").read_text(encoding="utf-8")
    assert f"pipx install {DISTRIBUTION}" in text
    assert "pip install -e" in text
