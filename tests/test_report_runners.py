"""The runners: tox envs `verify` and `nightly`, and the example CI workflow that calls them."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "examples" / "ci" / "nightly.yml"


def tox_envs() -> dict[str, configparser.SectionProxy]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini", encoding="utf-8")
    return {
        name.removeprefix("testenv:"): config[name]
        for name in config.sections()
        if name.startswith("testenv:")
    }


def workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def run_lines() -> list[str]:
    steps = [step for job in workflow()["jobs"].values() for step in job["steps"]]
    return [line for step in steps for line in str(step.get("run", "")).splitlines() if line]


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


class TestWorkflow:
    def test_it_is_a_workflow_github_can_read(self) -> None:
        data = workflow()
        triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
        assert {"schedule", "workflow_dispatch"} <= set(triggers)
        (job,) = data["jobs"].values()
        assert job["timeout-minutes"] <= 90
        assert all("uses" in step or "run" in step for step in job["steps"])

    def test_every_tox_command_names_a_real_env(self) -> None:
        named = [
            env
            for line in run_lines()
            if line.startswith("tox ")
            for env in re.findall(r"-e\s+([\w,-]+)", line)[0].split(",")
        ]
        assert named == ["nightly", "verify"]
        assert set(named) <= set(tox_envs())

    def test_every_command_is_one_a_shell_can_split(self) -> None:
        for line in run_lines():
            assert shlex.split(line.replace("${{", "").replace("}}", ""))

    def test_the_report_folder_is_uploaded_even_when_the_night_fails(self) -> None:
        (job,) = workflow()["jobs"].values()
        (upload,) = [
            s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-")
        ]
        assert upload["if"] == "${{ always() }}"
        report_dir = job["env"]["CUTOVER_REPORT_DIR"]
        assert upload["with"]["path"].rstrip("/") == report_dir
        assert "{env:CUTOVER_REPORT_DIR:" in tox_envs()["nightly"]["commands"]
