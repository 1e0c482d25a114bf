"""The GitHub Action (action.yml) and the workflows of examples/ci, read as GitHub reads them.

A YAML-level specification (no network, no runner): the action's inputs, outputs and steps;
that it installs cutover itself into an environment of its own instead of assuming a tox env
or a requirements file; that the report folder and SARIF are uploaded whatever the verdict;
that every cutover option it passes exists; and that the example workflows, copied into a
repository that is not cutover's, name only actions, inputs and files that exist.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from harness.cli import main
from harness.results.files import RESULTS_NAME, SARIF_NAME, SUMMARY_NAME

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
EXAMPLES = ROOT / "examples" / "ci"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))
ACTION_REF = "cutover-dev/cutover@v1"
"""How the examples name this repository's action (its published owner/name and major tag)."""
KNOWN_ACTIONS = {
    "actions/checkout@v4",
    "actions/setup-python@v5",
    "actions/upload-artifact@v4",
    "aws-actions/configure-aws-credentials@v4",
    "github/codeql-action/upload-sarif@v3",
    ACTION_REF,
}
"""Every action the action and the examples use, each at a published major version."""


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def action() -> dict[Any, Any]:
    return load(ACTION)


def steps() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = action()["runs"]["steps"]
    return found


def step(name_part: str) -> dict[str, Any]:
    (found,) = [s for s in steps() if name_part in s.get("name", "")]
    return found


def triggers(workflow: dict[Any, Any]) -> Any:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def workflow_steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def cutover_lines(script: str) -> list[list[str]]:
    """The cutover command lines of a step's script, split as bash would."""
    lines = []
    for line in script.splitlines():
        if line.strip().startswith(('"$CUTOVER_BIN"', "cutover ")):
            lines.append(shlex.split(line))
    return lines


class TestTheAction:
    def test_it_is_a_composite_action_with_a_name_and_description(self) -> None:
        data = action()
        assert data["runs"]["using"] == "composite"
        assert data["name"]
        assert data["description"]

    def test_the_inputs_the_issue_names_with_their_defaults(self) -> None:
        inputs = action()["inputs"]
        assert inputs["plan"]["required"] is True
        assert inputs["report-dir"]["default"] == "cutover-report"
        assert inputs["python-version"]["default"] == "3.11"
        assert all(spec.get("description") for spec in inputs.values())

    def test_the_verdict_output_comes_from_the_verify_step(self) -> None:
        outputs = action()["outputs"]
        assert outputs["verdict"]["value"] == "${{ steps.verify.outputs.verdict }}"
        ids = {s.get("id") for s in steps()}
        for spec in outputs.values():
            for step_id in re.findall(r"steps\.([\w-]+)\.outputs", spec["value"]):
                assert step_id in ids

    def test_cutover_is_installed_into_a_private_venv_not_assumed(self) -> None:
        script = step("Install cutover")["run"]
        assert "-m venv" in script
        assert 'pip install --quiet "${PACKAGE:-$ACTION_PATH}"' in script
        everything = ACTION.read_text(encoding="utf-8")
        assert "tox" not in everything
        assert "cache: pip" not in everything
        setup = step("Set up Python")
        assert setup["uses"] == "actions/setup-python@v5"
        assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
        assert setup["with"]["update-environment"] is False  # the job's Python stays the job's

    def test_verify_passes_only_options_cutover_verify_has(self) -> None:
        verify = main.commands["verify"]
        assert isinstance(verify, click.Command)
        known = {opt for param in verify.params for opt in getattr(param, "opts", [])}
        (line,) = cutover_lines(step("cutover verify")["run"])
        assert line[1] == "verify"
        given = [word for word in line[2:] if word.startswith("-")]
        assert given == ["--plan", "--report-dir", "-n"]
        assert set(given) <= known

    def test_the_summary_and_verdict_come_from_the_report_folder(self) -> None:
        script = step("cutover verify")["run"]
        assert f'cat "$REPORT_DIR/{SUMMARY_NAME}" >> "$GITHUB_STEP_SUMMARY"' in script
        assert f'"$REPORT_DIR/{RESULTS_NAME}"' in script
        assert 'echo "verdict=$verdict" >> "$GITHUB_OUTPUT"' in script

    def test_the_report_folder_is_an_artifact_whatever_the_outcome(self) -> None:
        upload = step("Keep the report folder")
        assert upload["uses"] == "actions/upload-artifact@v4"
        assert upload["if"] == "${{ always() }}"
        assert upload["with"]["path"] == "${{ inputs.report-dir }}"

    def test_sarif_goes_to_code_scanning_whatever_the_outcome(self) -> None:
        upload = step("Upload SARIF")
        assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
        assert upload["with"]["sarif_file"] == f"${{{{ inputs.report-dir }}}}/{SARIF_NAME}"
        assert upload["if"].startswith("${{ always() && inputs.upload-sarif == 'true'")

    def test_the_job_fails_on_no_go_and_on_a_usage_error(self) -> None:
        script = step("Gate on the verdict")["run"]
        assert re.search(r"^\s*1\).*\n.*exit 1", script, re.M)
        assert 'exit "$CODE"' in script
        assert steps()[-1]["name"] == "Gate on the verdict"  # after both uploads

    def test_no_input_is_pasted_into_a_script(self) -> None:
        """Inputs reach scripts through env: an expression inside ``run`` is script injection."""
        for each in steps():
            assert "${{" not in each.get("run", ""), each["name"]

    def test_every_step_runs_in_bash_or_uses_a_known_action(self) -> None:
        for each in steps():
            if "uses" in each:
                assert each["uses"] in KNOWN_ACTIONS, each["uses"]
            else:
                assert each["shell"] == "bash"


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
class TestTheExampleWorkflows:
    def test_it_is_a_workflow_github_can_read(self, path: Path) -> None:
        workflow = load(path)
        assert workflow["name"]
        assert triggers(workflow)
        for job in workflow["jobs"].values():
            assert job["timeout-minutes"] <= 90
            assert all("uses" in s or "run" in s for s in job["steps"])

    def test_it_runs_the_action_rather_than_cutovers_own_tooling(self, path: Path) -> None:
        text = path.read_text(encoding="utf-8")
        assert "tox" not in text
        assert "cache: pip" not in text
        uses = [s["uses"] for s in workflow_steps(load(path)) if "uses" in s]
        assert uses.count(ACTION_REF) == 1
        assert set(uses) <= KNOWN_ACTIONS

    def test_the_action_gets_its_required_inputs_and_no_unknown_one(self, path: Path) -> None:
        inputs = action()["inputs"]
        (call,) = [s for s in workflow_steps(load(path)) if s.get("uses") == ACTION_REF]
        given = set(call["with"])
        assert given <= set(inputs)
        assert {name for name, spec in inputs.items() if spec.get("required")} <= given

    def test_permissions_allow_oidc_and_code_scanning_and_nothing_more(self, path: Path) -> None:
        assert load(path)["permissions"] == {
            "contents": "read",
            "id-token": "write",
            "security-events": "write",
        }

    def test_aws_credentials_come_from_oidc_only_when_a_role_is_set(self, path: Path) -> None:
        (aws,) = [
            s
            for s in workflow_steps(load(path))
            if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials")
        ]
        assert aws["if"] == "${{ vars.CUTOVER_AWS_ROLE_ARN != '' }}"
        assert aws["with"]["role-to-assume"] == "${{ vars.CUTOVER_AWS_ROLE_ARN }}"
        assert "aws-access-key-id" not in aws["with"]  # no long-lived keys in the examples

    def test_every_variable_and_secret_it_reads_is_explained_in_its_header(
        self, path: Path
    ) -> None:
        text = path.read_text(encoding="utf-8")
        header = text[: text.index("\nname:")]
        for name in set(re.findall(r"\$\{\{[^}]*\b(?:vars|secrets)\.(\w+)", text)):
            assert name in header, name

    def test_copied_into_another_repository_it_still_parses_and_names_no_local_file(
        self, path: Path, tmp_path: Path
    ) -> None:
        target = tmp_path / "app" / ".github" / "workflows" / path.name
        target.parent.mkdir(parents=True)
        shutil.copy(path, target)
        workflow = load(target)
        for each in workflow_steps(workflow):
            assert not str(each.get("uses", "")).startswith("./")  # nothing of cutover's tree
            assert "working-directory" not in each
        assert "examples/" not in target.read_text(encoding="utf-8")


def test_the_examples_readme_names_each_workflow() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for path in WORKFLOWS:
        assert f"`{path.name}`" in readme
    assert "action.yml" in readme
