"""`cutover verify` with a posture: section, against purpose-built resources in a moto server.

The harness runs in its own process (as a user runs it) and reaches the account through the
plan's ``endpoint_url``: a ThreadedMotoServer on 127.0.0.1 holding one safe and one unsafe
setup. Each posture check is its own item; the safe setup passes every one and the unsafe one
fails every one, each for its own reason. Without an account, the same checks read the
synthesized templates.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_posture import REGION, build, every_check
from tests.verify_runs import (
    EXAMPLE,
    Verified,
    empty_sqlite_endpoints,
    moto_account,
    plan_for,
    verify,
)


@pytest.fixture(scope="module")
def account() -> Iterator[dict[str, Any]]:
    """A moto server holding a safe and an unsafe setup."""
    with moto_account(REGION) as url:
        yield {"url": url, "safe": build(safe=True), "unsafe": build(safe=False)}


def run_posture(folder: Path, posture: dict[str, Any]) -> Verified:
    """Only the posture scenario has work: empty SQLite endpoints, no lint, no residue."""
    sections = empty_sqlite_endpoints(folder)
    plan = plan_for("after", folder, lint=None, retired=None, posture=posture, **sections)
    return verify(plan, folder)


def live(account: dict[str, Any], tag: str) -> dict[str, Any]:
    made = account[tag]
    return {
        "mode": "account",
        "endpoint_url": account["url"],
        "region": REGION,
        "rds_cluster": f"app-db-{tag}",
        "app_security_groups": [f"app-fn-{tag}"],
        "dsql_cluster": made["dsql"],
        "dynamodb_tables": [f"profiles-{tag}"],
    }


@pytest.fixture(scope="module")
def safe(account: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Verified:
    return run_posture(tmp_path_factory.mktemp("safe"), live(account, "safe"))


@pytest.fixture(scope="module")
def unsafe(account: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Verified:
    return run_posture(tmp_path_factory.mktemp("unsafe"), live(account, "unsafe"))


class TestAccount:
    def test_a_safe_setup_passes_every_check_as_its_own_item(
        self, safe: Verified, account: dict[str, Any]
    ) -> None:
        checks = safe.checks("posture")
        assert set(checks) >= every_check(account["safe"])
        assert {n: c["status"] for n, c in checks.items()} == dict.fromkeys(checks, "pass")
        assert {c["evidence"]["mode"] for c in checks.values()} == {"account"}
        assert safe.results["verdict"] == "GO"
        assert safe.code == 0

    def test_sections_the_plan_does_not_have_add_no_items_not_even_skipped_ones(
        self, safe: Verified
    ) -> None:
        checks = safe.results["checks"]
        for absent in ("test_residue", "test_dsql_compat", "test_dynamo"):
            assert not [c for c in checks if absent in c["nodeid"]], absent
        assert not [c for c in checks if c["area"] in ("residue", "dsql_compat", "dynamo")]
        assert "deselected" in safe.output

    def test_the_managed_secret_is_an_item_with_its_rotation_state(self, safe: Verified) -> None:
        (secret,) = [c for n, c in safe.checks("posture").items() if n.startswith("credentials_")]
        assert "rds!cluster-" in secret["name"]
        assert secret["evidence"]["exists"] is True
        assert secret["evidence"]["rotation_enabled"] is False

    def test_an_unsafe_setup_fails_every_check_for_its_own_reason(
        self, unsafe: Verified, account: dict[str, Any]
    ) -> None:
        checks = unsafe.checks("posture")
        for name in every_check(account["unsafe"]):
            assert checks[name]["status"] == "fail", name
        assert "not encrypted" in checks["storage_encrypted:app-db-unsafe"]["summary"]
        assert "fewer than 7" in checks["backup_retention:app-db-unsafe"]["summary"]
        assert "0.0.0.0/0" in checks["db_ingress:app-db-unsafe"]["summary"]
        assert "publicly accessible" in checks["not_public:app-db-unsafe"]["summary"]
        assert "point-in-time recovery is off" in checks["dynamodb_pitr:profiles-unsafe"]["summary"]
        assert unsafe.results["verdict"] == "NO-GO"
        assert unsafe.code == 1


class TestTemplates:
    def test_without_an_account_the_example_templates_are_checked(self, tmp_path: Path) -> None:
        templates = [str(EXAMPLE / "after" / "cdk.out")]
        run = run_posture(tmp_path, {"mode": "templates", "templates": templates})
        checks = run.checks("posture")
        assert {c["evidence"]["mode"] for c in checks.values()} == {"templates"}
        assert any(n.startswith("dsql_cluster:") for n in checks)
        assert sum(n.startswith("dynamodb_pitr:") for n in checks) == 3
        assert {c["status"] for c in checks.values()} == {"pass"}

    def test_templates_mode_without_templates_is_an_error_never_a_pass(
        self, tmp_path: Path
    ) -> None:
        run = run_posture(tmp_path, {"mode": "templates"})
        assert run.checks("posture")["templates"]["status"] == "error"
        assert run.results["verdict"] == "NO-GO"
