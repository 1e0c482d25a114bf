"""The fault suite on a local Aurora DSQL bed (``faults.bed: dsql-local``): every fault that
applies to DSQL, injected for real through a TCP fault proxy in front of the guard, ends as it
must; what does not apply is a plan error naming it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args

import pytest

from harness.errors import PlanError
from harness.faults.beds.dsql_local import DsqlBedDatabase
from harness.faults.outcome import BED_NAMES
from harness.faults.parity import _through
from harness.faults.proxy import FaultProxy
from harness.faults.settings import Bed, FaultSettings, faults_on
from harness.faults.suite import FAULTS, FAULTS_BY_NAME, FaultBed, items, run_item
from harness.plan.load import load_plan
from tests.conftest import run_cutover

SECRETS_MANAGER = ("throttled", "server_error", "access_denied", "not_found", "wrong_region",
                   "endpoint_down", "hanging")  # fmt: skip


def _plan(faults: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "p",
        "source": {"kind": "sqlite", "path": "a.db"},
        "target": {"kind": "sqlite", "path": "b.db"},
        "faults": faults,
    }


class TestThePlanOption:
    def test_the_bed_names_are_the_plan_options(self) -> None:
        assert get_args(Bed) == BED_NAMES
        assert {bed for fault in FAULTS for bed in fault.beds} == set(BED_NAMES)

    def test_the_default_bed_is_postgres_and_runs_every_fault(self) -> None:
        settings = FaultSettings()
        assert settings.bed == "postgres"
        assert faults_on("postgres") == tuple(f.name for f in FAULTS)

    def test_a_dsql_bed_without_a_list_runs_every_fault_it_supports(self) -> None:
        settings = FaultSettings(bed="dsql-local")
        assert set(settings.faults) == set(FAULTS_BY_NAME) - set(SECRETS_MANAGER)
        assert ("aws", "dsql_no_credentials") in items(settings)
        assert not {fault for _, fault in items(settings)} & set(SECRETS_MANAGER)

    def test_an_unknown_bed_names_the_closest(self, write_plan: Callable[..., Path]) -> None:
        with pytest.raises(
            PlanError, match=r"faults\.bed.*'dsql_local' is not allowed\. Did you mean"
        ):
            load_plan(write_plan(_plan({"bed": "dsql_local"})))

    @pytest.mark.parametrize("fault", SECRETS_MANAGER)
    def test_a_secrets_manager_fault_on_a_dsql_bed_is_a_plan_error(
        self, write_plan: Callable[..., Path], fault: str
    ) -> None:
        plan = _plan({"bed": "dsql-local", "faults": ["refused", fault]})
        with pytest.raises(PlanError, match=rf"fault '{fault}' does not apply to bed 'dsql-local'"):
            load_plan(write_plan(plan))

    def test_the_app_path_on_a_dsql_bed_is_a_plan_error(
        self, write_plan: Callable[..., Path]
    ) -> None:
        plan = _plan({"bed": "dsql-local", "faults": ["refused"], "paths": ["harness", "app"],
                      "app": {"command": "true"}})  # fmt: skip
        with pytest.raises(PlanError, match="path 'app' does not run on bed 'dsql-local'"):
            load_plan(write_plan(plan))

    @pytest.mark.parametrize(
        ("faults", "named"),
        [({"bed": "dsql"}, "'dsql' is not allowed"), ({"bed": "dsql-local", "faults": ["hanging"]},
                                                      "fault 'hanging' does not apply")],
    )  # fmt: skip
    def test_verify_stops_with_one_line_and_exit_2(
        self, write_plan: Callable[..., Path], tmp_path: Path, faults: dict[str, Any], named: str
    ) -> None:
        plan = write_plan(_plan(faults))
        done = run_cutover("verify", "--plan", str(plan), "--report-dir", "out", cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert named in done.stderr
        assert "Traceback" not in done.stderr


def test_a_proxied_dsql_dsn_keeps_its_endpoint_name() -> None:
    """TLS is verified against the endpoint name and the token is signed for it: reaching a
    DSQL target through a proxy changes where it is routed, never its name."""
    dsn = "host=abc.dsql.us-east-1.on.aws hostaddr=127.0.0.1 port=5432 sslmode=verify-full"
    through = _through(dsn, "127.0.0.1", 6000)
    assert "host=abc.dsql.us-east-1.on.aws" in through
    assert "hostaddr=127.0.0.1" in through
    assert "port=6000" in through
    assert "host=127.0.0.1 " in _through("host=db.example port=5432", "127.0.0.1", 6000) + " "


@pytest.fixture(scope="module")
def bed() -> Iterator[FaultBed]:
    settings = FaultSettings(bed="dsql-local", writes=100, samples=5, injected_latency_ms=80,
                             seed=1)  # fmt: skip
    with FaultBed(settings) as made:
        yield made


def _no_secret(bed: FaultBed, text: str) -> None:
    for secret in bed.secrets:
        assert secret not in text
    assert "X-Amz-Signature" not in text  # no IAM token either


ON_DSQL = [
    name
    for path, name in items(FaultSettings(bed="dsql-local"))
    if path == "harness" and name != "reset_during_rows"
]


@pytest.mark.parametrize("fault", ON_DSQL)
def test_each_fault_ends_as_it_must_through_the_guard(
    bed: FaultBed, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outcome = run_item(bed, "harness", fault)
    assert isinstance(bed.db, DsqlBedDatabase)
    assert outcome.passed, outcome.summary
    assert outcome.result().status.value == "pass"
    _no_secret(bed, str(outcome.evidence()))
    _no_secret(bed, caplog.text)
    expect = FAULTS_BY_NAME[fault].expect
    if expect == "recover":
        assert outcome.attempts is not None
        assert outcome.attempts > 1
    if expect == "clear_error":
        assert outcome.message
        assert outcome.seconds < bed.settings.fail_within_s
    if fault == "conflict":  # DSQL's shape: the UPDATEs went through, each COMMIT lost
        assert outcome.detail["failed_at"] == "commit"
        assert outcome.detail["sqlstate_40001"] == 2
    if fault == "wrong_password":  # a token signed with other keys: refused once, named
        assert outcome.attempts == 1
        assert outcome.error_class == "auth"
        assert "access denied" in (outcome.message or "")
    if fault == "no_lost_writes":
        assert outcome.detail["lost"] == outcome.detail["duplicated"] == 0
        assert outcome.detail["acknowledged"] > 0
        assert outcome.detail["resets_injected"] > 0


def test_signing_without_credentials_is_a_clear_error_on_a_dsql_bed(bed: FaultBed) -> None:
    outcome = run_item(bed, "aws", "dsql_no_credentials")
    assert outcome.passed, outcome.summary
    assert "cannot sign a DSQL auth token" in (outcome.message or "")


def test_every_connection_signs_a_fresh_token(
    bed: FaultBed, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = bed.db
    assert isinstance(db, DsqlBedDatabase)
    signed: list[str] = []
    sign = db.dsql.token

    def token(*args: Any, **kwargs: Any) -> str:
        signed.append(sign(*args, **kwargs))
        return signed[-1]

    monkeypatch.setattr(db.dsql, "token", token)
    with FaultProxy(db.upstream) as proxy:
        connect = db.connect(proxy)
        for _ in range(3):
            with connect() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        assert proxy.stats.accepted == 3
    assert len(signed) == 3


def test_a_conflict_the_guard_makes_is_not_a_lock_wait(bed: FaultBed) -> None:
    """The control for the conflict fault: on the DSQL bed the losing write returns at once
    and only its COMMIT fails, with DSQL's OC000."""
    import psycopg
    from psycopg import sql

    db = bed.db
    with db.direct()() as conn:
        conn.execute("BEGIN")
        db.provoke_conflict(conn, db.direct(), sql.Identifier("counters"), 1)
        with pytest.raises(psycopg.errors.SerializationFailure, match=r"\(OC000\)"):
            conn.execute("COMMIT")
