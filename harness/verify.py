"""Run the stock scenarios through pytest and map the outcome to cutover's exit codes.

The run holds its report folder from before pytest starts to its end (a second run into it is
refused at once, a signed folder is refused, the previous run's files are removed first), and
the exit code comes from the verdict the plugin holds in memory, never from re-reading a
results.json that another process might be writing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.errors import EXIT_GO, EXIT_NO_GO, EXIT_USAGE, HarnessError
from harness.report.folder import claimed


def scenarios_dir() -> Path:
    """The installed ``scenarios`` package (it ships with cutover)."""
    spec = importlib.util.find_spec("scenarios")
    if spec is None or spec.origin is None:
        raise HarnessError("the stock scenarios are not installed; reinstall cutover")
    return Path(spec.origin).parent


def ensure_folder(report_dir: Path) -> Path:
    """Create the report folder up front and make sure this user can write in it, so a bad
    ``--report-dir`` is a usage error before any check runs."""
    from harness.report.output import writable_folder

    return writable_folder(report_dir, option="--report-dir")


def run_scenarios(
    plan: Path, report_dir: Path, *, workers: str = "0", extra: Sequence[str] = ()
) -> int:
    """Run pytest on the scenarios; return 0 (GO / GO WITH WAIVERS), 1 (NO-GO) or 2.

    2 also when the run did not reach its end (interrupted: its results.json says NO-GO)."""
    folder = scenarios_dir()
    ensure_folder(report_dir)
    args = [
        str(folder),
        "--plan",
        str(plan),
        "--report-dir",
        str(report_dir),
        # The scenarios' own settings, whatever the caller's folder holds.
        "-c",
        str(folder / "pytest.ini"),
        "--rootdir",
        str(folder),
        "-p",
        "no:cacheprovider",
        "-n",
        workers,
        # Items marked xdist_group share a worker (the latency items: see test_latency).
        "--dist",
        "loadgroup",
        # A worker that dies is an error check already (NO-GO); replacing it buys nothing, and
        # pytest-xdist 3.8 hangs for ever replacing one under loadgroup (pytest-xdist#1323).
        "--max-worker-restart",
        "0",
        "--cutover-cli",
        *extra,
    ]
    outcome = _Outcome()
    with claimed(report_dir):  # the plugin claims it again inside pytest: re-entrant
        code = pytest.main(args, plugins=[outcome])
    if code in (
        pytest.ExitCode.USAGE_ERROR,
        pytest.ExitCode.INTERNAL_ERROR,
        pytest.ExitCode.INTERRUPTED,
    ):
        return EXIT_USAGE  # pytest has already printed the one-line reason
    if outcome.verdict is None:  # nothing written (--collect-only, or no plan reached pytest)
        return EXIT_USAGE
    return EXIT_GO if outcome.verdict in ("GO", "GO WITH WAIVERS") else EXIT_NO_GO


class _Outcome:
    """A plugin for one ``pytest.main``: the verdict the run wrote, read from the run itself."""

    def __init__(self) -> None:
        self.verdict: str | None = None

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        run: Any = config.pluginmanager.get_plugin("cutover-run")
        written = getattr(run, "written", None)
        self.verdict = None if written is None else written.verdict
