"""`cutover verify` runs for the scenario tests: plans, the run itself, an AWS to point at.

:func:`plan_for` writes the rds-to-dsql example's plan for either tree (before/ or after/):
the checked-in plan scans after/; the copy goes into the test's own folder with every
relative path made absolute, so the example's files are read in place and never written.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto.server import ThreadedMotoServer

from tests.conftest import run_cutover

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "rds-to-dsql"


def plan_for(tree: str, folder: Path, **sections: Any) -> Path:
    """Write the example plan for ``tree`` into ``folder``; ``sections`` replace whole keys."""
    plan: dict[str, Any] = yaml.safe_load((EXAMPLE / "plan.yaml").read_text(encoding="utf-8"))

    def here(relative: str) -> str:
        parts = Path(relative).parts
        if parts and parts[0] == "after":
            relative = str(Path(tree, *parts[1:]))
        return str((EXAMPLE / relative).resolve())

    for role in ("source", "target"):
        for step in plan[role].get("load", []):
            step["sql"] = here(step["sql"])
    plan["lint"]["paths"] = [here(p) for p in plan["lint"]["paths"]]
    plan["retired"]["paths"] = [here(p) for p in plan["retired"]["paths"]]
    plan["posture"]["templates"] = [here(p) for p in plan["posture"]["templates"]]
    plan.update(sections)
    path = folder / f"plan-{tree}.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Verified:
    """One `cutover verify` run: exit code, stdout + stderr, and results.json."""

    code: int
    output: str
    results: dict[str, Any]

    def checks(self, area: str) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.results["checks"] if c["area"] == area}


def verify(plan: Path, folder: Path) -> Verified:
    """Run `cutover verify` as a user would; results.json must exist whatever the verdict."""
    report = folder / "report"
    done = run_cutover("verify", "--plan", str(plan), "--report-dir", str(report), cwd=folder)
    results_path = report / "results.json"
    assert results_path.is_file(), done.stdout + done.stderr
    results = json.loads(results_path.read_text(encoding="utf-8"))
    return Verified(done.returncode, done.stdout + done.stderr, results)


def empty_sqlite_endpoints(folder: Path) -> dict[str, Any]:
    """Plan sections that give the schema and row scenarios nothing to do (empty databases,
    which the plan must say it expects: ``tables.allow_empty``)."""
    out: dict[str, Any] = {"tables": {"allow_empty": True}}
    for role in ("source", "target"):
        path = folder / f"{role}.db"
        sqlite3.connect(path).close()
        out[role] = {"kind": "sqlite", "path": str(path)}
    return out


@contextmanager
def moto_account(region: str) -> Iterator[str]:
    """A moto server on 127.0.0.1 (the harness runs in another process); yields its URL.

    The environment points this process's boto3 at it for building resources; the plans
    name it as ``endpoint_url``.
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": region,
                "AWS_ENDPOINT_URL": url,
            }.items():
                patch.setenv(name, value)
            yield url
    finally:
        server.stop()
