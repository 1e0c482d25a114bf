"""The fault suite: registry, plan section, and every (fault x path) item injected for real."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import botocore.endpoint
import pytest

from harness.embedded.provision import postgres_bin
from harness.errors import PlanError
from harness.faults.settings import FAULT_NAMES, PATH_NAMES, AppPath, FaultSettings
from harness.faults.suite import (
    FAULTS,
    FAULTS_BY_NAME,
    FaultBed,
    dummy_aws_credentials,
    items,
    run_item,
)
from harness.plan.load import load_plan

APPS = Path(__file__).parent / "fault_apps"
EXPECTS = {"recover", "clear_error", "detected", "same_verdict", "exact_once"}


@pytest.fixture
def botocore_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's own backoff waits, recorded instead of slept (keeps these tests fast)."""
    waits: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=waits.append))
    return waits


class TestRegistry:
    def test_every_fault_is_documented_with_an_expectation_and_paths(self) -> None:
        assert [f.name for f in FAULTS] == list(FAULT_NAMES)
        for fault in FAULTS:
            assert fault.doc.endswith(".")
            assert fault.expect in EXPECTS
            assert fault.paths
            assert set(fault.paths) <= set(PATH_NAMES)

    def test_items_follow_the_plan_and_skip_cells_that_do_not_apply(self) -> None:
        settings = FaultSettings(faults=("conflict", "throttled"), paths=("harness", "aws"))
        assert items(settings) == [("harness", "conflict"), ("aws", "throttled")]


class TestPlanSection:
    def test_unknown_fault_names_the_closest(self) -> None:
        with pytest.raises(ValueError, match=r"unknown fault 'refuse'\. Did you mean \"refused\""):
            FaultSettings(faults=("refuse",))

    def test_app_path_needs_an_app(self) -> None:
        with pytest.raises(ValueError, match="path 'app' needs an 'app' section"):
            FaultSettings(paths=("app",))

    @pytest.mark.parametrize(
        ("app", "message"),
        [
            ({}, "give exactly one of 'callable' or 'command'"),
            ({"callable": "a:b", "command": "x"}, "give exactly one"),
            ({"callable": "module_only"}, "callable must be 'module:function'"),
        ],
    )
    def test_app_is_one_callable_or_one_command(self, app: dict[str, str], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            AppPath(**app)  # type: ignore[arg-type]

    def test_a_plan_with_faults_loads_and_a_typo_is_one_line(
        self, write_plan: Callable[..., Path]
    ) -> None:
        plan = {
            "name": "p",
            "source": {"kind": "sqlite", "path": "a.db"},
            "target": {"kind": "sqlite", "path": "b.db"},
            "faults": {"faults": ["refused"], "app": {"command": "true", "cwd": "app"}},
        }
        loaded = load_plan(write_plan(plan))
        assert loaded.plan.faults is not None
        assert loaded.plan.faults.app is not None
        assert loaded.plan.faults.app.cwd == (loaded.path.parent / "app").resolve()
        plan["faults"] = {"retries": {}}
        with pytest.raises(PlanError, match=r"faults\.retries: unknown key 'retries'"):
            load_plan(write_plan(plan))


@pytest.fixture(scope="module")
def bed() -> Iterator[FaultBed]:
    settings = FaultSettings(writes=120, samples=5, injected_latency_ms=80, seed=1)
    with FaultBed(settings) as made:
        yield made


HARNESS = [f.name for f in FAULTS if "harness" in f.paths and f.name != "reset_during_rows"]
AWS = [f.name for f in FAULTS if "aws" in f.paths]


@pytest.mark.parametrize("fault", HARNESS)
def test_harness_path(bed: FaultBed, fault: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    outcome = run_item(bed, "harness", fault)
    assert outcome.passed, outcome.summary
    assert bed.password not in str(outcome.evidence())
    assert bed.password not in caplog.text  # the retry log lines name types, never values
    expect = FAULTS_BY_NAME[fault].expect
    if expect == "recover":
        assert outcome.attempts is not None
        assert outcome.attempts > 1
        ceilings = outcome.detail["ceilings_s"]
        assert ceilings == sorted(ceilings)
    if expect == "clear_error":
        assert outcome.message
        assert outcome.seconds < bed.settings.fail_within_s
    if fault == "no_lost_writes":
        assert outcome.detail["lost"] == outcome.detail["duplicated"] == 0
    result = outcome.result()
    assert result.id == f"faults[harness:{fault}]"
    assert result.status.value == "pass"


@pytest.mark.parametrize("fault", AWS)
def test_aws_path(bed: FaultBed, botocore_waits: list[float], fault: str) -> None:
    outcome = run_item(bed, "aws", fault)
    assert outcome.passed, outcome.summary
    assert bed.password not in str(outcome.evidence())
    if FAULTS_BY_NAME[fault].expect == "recover":
        assert len(botocore_waits) == (outcome.attempts or 0) - 1 > 0
    elif fault == "dsql_no_credentials":
        assert "cannot sign a DSQL auth token" in (outcome.message or "")
    else:
        assert "secret 'cutover/faults/" in (outcome.message or "")
    if fault == "wrong_region":
        assert "us-west-2" in (outcome.message or "")


def app_bed(bed: FaultBed, app: AppPath) -> FaultBed:
    """The module's bed (same servers), with the app path configured."""
    bed.settings = bed.settings.model_copy(update={"app": app})
    return bed


@pytest.mark.parametrize("fault", ["refused", "reset_mid_query", "black_hole", "down",
                                   "wrong_password"])  # fmt: skip
def test_app_callable_that_retries(bed: FaultBed, fault: str) -> None:
    app = AppPath(callable="connect_app:connect", cwd=APPS, timeout_s=20)
    outcome = run_item(app_bed(bed, app), "app", fault)
    assert outcome.passed, outcome.summary


def test_an_app_without_retries_is_caught(bed: FaultBed) -> None:
    app = AppPath(callable="connect_app:connect_once", cwd=APPS, timeout_s=20)
    outcome = run_item(app_bed(bed, app), "app", "refused")
    assert not outcome.passed
    assert outcome.result().status.value == "fail"
    assert "did not survive a transient fault" in outcome.summary


def test_an_aws_fault_the_app_never_meets_is_a_skip(bed: FaultBed) -> None:
    app = AppPath(callable="connect_app:connect_once", cwd=APPS, timeout_s=20)
    outcome = run_item(app_bed(bed, app), "app", "throttled")
    assert outcome.result().status.value == "skip"


def test_app_command_meets_throttling_through_aws_endpoint_url(bed: FaultBed) -> None:
    app = AppPath(command=f"{sys.executable} connect_app.py", cwd=APPS, timeout_s=60)
    outcome = run_item(app_bed(bed, app), "app", "throttled")
    assert outcome.passed, outcome.summary
    assert bed.password not in str(outcome.evidence())
    assert outcome.detail["aws_calls"] == 2  # the SDK in the app retried once by itself


def test_the_dsql_token_signs_when_credentials_exist() -> None:
    """The control for dsql_no_credentials: the same call succeeds with (dummy) keys."""
    from harness.endpoints.dsql import make_token

    signing = {"hostname": "x.dsql.us-east-2.on.aws", "region": "us-east-2", "admin": True,
               "expires_in": 900}  # fmt: skip
    with dummy_aws_credentials():
        assert "X-Amz-Signature=" in make_token(signing, "target")


@pytest.mark.parametrize(("fault", "passes"), [("wrong_password", True), ("down", True),
                                               ("refused", False)])  # fmt: skip
def test_a_non_python_app_psql_through_the_same_environment(
    bed: FaultBed, fault: str, passes: bool
) -> None:
    """libpq's psql reads PGHOST/PGPORT/PGPASSWORD like any backend; it has no retry of its
    own, so a brief outage is a failure the matrix must show."""
    psql = postgres_bin("psql")
    app = AppPath(command=f"{psql} -X -c 'SELECT 1'", timeout_s=30)
    outcome = run_item(app_bed(bed, app), "app", fault)
    assert outcome.passed is passes, outcome.summary
    assert bed.password not in str(outcome.evidence())
