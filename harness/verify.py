"""Run the stock scenarios through pytest and map the outcome to cutover's exit codes."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.errors import EXIT_GO, EXIT_NO_GO, EXIT_USAGE, HarnessError
from harness.results.files import RESULTS_NAME, load_results


def scenarios_dir() -> Path:
    """The installed ``scenarios`` package (it ships with cutover)."""
    spec = importlib.util.find_spec("scenarios")
    if spec is None or spec.origin is None:
        raise HarnessError("the stock scenarios are not installed; reinstall cutover")
    return Path(spec.origin).parent


def ensure_folder(report_dir: Path) -> Path:
    """Create the report folder up front, so a bad ``--report-dir`` is a usage error."""
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HarnessError(
            f"--report-dir {report_dir}: cannot create it ({exc.strerror}); choose another folder"
        ) from None
    return report_dir


def run_scenarios(
    plan: Path, report_dir: Path, *, workers: str = "0", extra: Sequence[str] = ()
) -> int:
    """Run pytest on the scenarios; return 0 (GO / GO WITH WAIVERS), 1 (NO-GO) or 2."""
    folder = scenarios_dir()
    results_path = ensure_folder(report_dir) / RESULTS_NAME
    try:
        results_path.unlink(missing_ok=True)  # never report a previous run's verdict
    except OSError as exc:
        raise HarnessError(f"--report-dir {report_dir}: {exc.strerror}") from None
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
        "--cutover-cli",
        *extra,
    ]
    code = pytest.main(args)
    if code in (
        pytest.ExitCode.USAGE_ERROR,
        pytest.ExitCode.INTERNAL_ERROR,
        pytest.ExitCode.INTERRUPTED,
    ):
        return EXIT_USAGE  # pytest has already printed the one-line reason
    if not results_path.exists():
        return EXIT_USAGE
    return EXIT_NO_GO if load_results(results_path)["verdict"] == "NO-GO" else EXIT_GO
