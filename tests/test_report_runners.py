"""The runners: tox envs `verify` and `nightly` (the GitHub Action and the example workflows
are specified in tests/test_ci_action.py)."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tox_envs() -> dict[str, configparser.SectionProxy]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini", encoding="utf-8")
    return {
        name.removeprefix("testenv:"): config[name]
        for name in config.sections()
        if name.startswith("testenv:")
    }


class TestToxEnvs:
    @pytest.mark.parametrize("env", ["tests", "verify", "nightly", "lint", "type", "demo"])
    def test_the_env_exists_with_a_description_and_commands(self, env: str) -> None:
        section = tox_envs()[env]
        assert section.get("description")
        assert section.get("commands") or env == "tests"

    def test_verify_gates_on_a_plan_and_passes_credentials_through(self) -> None:
        verify = tox_envs()["verify"]
        assert "cutover verify" in verify["commands"]
        assert "--plan {posargs" in verify["commands"]
        assert {"AWS_*", "CUTOVER_*"} <= {v.strip() for v in verify["passenv"].split(",")}

    def test_nightly_runs_the_whole_suite_and_the_demo_into_the_report_dir(self) -> None:
        commands = [c.strip() for c in tox_envs()["nightly"]["commands"].splitlines() if c]
        assert commands[0].startswith("pytest")
        assert not any(" -k " in c or " -m " in c for c in commands)  # nothing left out
        assert any(
            c.startswith("cutover demo") and "{env:CUTOVER_REPORT_DIR:reports/out/nightly}" in c
            for c in commands
        )
