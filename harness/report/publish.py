"""What a run leaves behind: its record (``results.json``) and the folder derived from it.

The pytest plugin's controller publishes once per run, in one of two ways. A run that reached
its checks publishes them (:meth:`Publisher.finished`): each capability merges its items and
adds its summary section, the plan's expected differences are accounted for, and an
interrupted or cut-short run gets an ``error`` check for every item that never ran, so it reads
NO-GO. A run that stopped before its checks (:meth:`Publisher.failed_start`) publishes one
``error`` check saying why, so CI still finds a folder to upload and it never reads GO.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from harness.capabilities import area_order
from harness.checks import waivers
from harness.results import outcomes
from harness.results.record import NO_SOURCE, build_results, environment, now

if TYPE_CHECKING:
    from harness.capabilities import Capability
    from harness.endpoints.resolve import Connector
    from harness.plan.model import LoadedPlan, Plan

__all__ = ["Publisher", "Written", "side_so_far"]


class Written(NamedTuple):
    """What the controller wrote: the run's verdict as it holds it in memory (``cutover
    verify`` takes its exit code from here, never from a results.json another process may be
    writing) and where the folder's two main files are."""

    verdict: str
    reason: str
    results: Path
    html: Path


@dataclass(frozen=True)
class Publisher:
    """Where a run writes its record, for which plan, and since when."""

    loaded: LoadedPlan
    started: datetime
    folder: Path

    def finished(
        self,
        reported: Mapping[str, dict[str, Any]],
        capabilities: Sequence[Capability],
        *,
        selected: Iterable[str],
        stopped: str | None,
        ended: object,
        env: dict[str, Any],
    ) -> Written:
        """Publish the checks the items ``reported`` (by node id), and an error check for each
        ``selected`` item that never reported (``stopped``: why the run ended early; ``ended``:
        pytest's ``shouldstop``/``shouldfail``)."""
        checks = list(reported.values())
        for capability in capabilities:
            if capability.merge is not None:
                checks = capability.merge(checks)
        sections: dict[str, Any] = {}
        for capability in capabilities:
            if capability.summarize is not None:
                sections.update(capability.summarize(checks))
        unfinished, incomplete = outcomes.unfinished(selected, reported, stopped, ended)
        return self.publish(
            [*checks, *unfinished],
            reason=incomplete,  # NO-GO already, by the error checks: say why first
            expected=waivers.account(self.loaded.plan.expected_differences, checks),
            env=env,
            areas=area_order(capabilities),
            sections=sections,
        )

    def failed_start(
        self,
        *,
        failed: str | None,
        stopped: str | None,
        env: dict[str, Any],
        connectors: Mapping[str, Connector],
    ) -> Written:
        """A run that stopped before its checks (a usage error while resolving the endpoints,
        Ctrl-C during an embedded load) still leaves a folder CI can upload: results.json
        with one ``error`` check saying why (so NO-GO, never GO), junit.xml with that errored
        testcase, and the rest. The folder was cleared when it was claimed, so nothing of an
        earlier run can read as this run's verdict. ``env``: the run's fingerprint, when it
        got that far (else the sides as far as the run reached them)."""
        if failed is not None:
            reason = f"run stopped before any check: {failed}"
        elif stopped is not None:
            reason = f"run incomplete, interrupted ({stopped}) before any check ran"
        else:
            reason = "run stopped before any check ran"
        plan = self.loaded.plan
        return self.publish(
            [outcomes.run_error("start", "", reason)],
            reason=reason,
            expected=[],
            env=env
            or environment(
                side_so_far(plan, "source", connectors),
                side_so_far(plan, "target", connectors),
                0,
            ),
            areas=(outcomes.RUN_AREA,),
        )

    def publish(
        self,
        checks: list[dict[str, Any]],
        *,
        reason: str | None,
        expected: list[dict[str, Any]],
        env: dict[str, Any],
        areas: tuple[str, ...],
        sections: dict[str, Any] | None = None,
    ) -> Written:
        """Write the run's record and the folder derived from it; ``reason`` replaces the
        computed verdict reason where the run itself knows better why."""
        results = build_results(
            plan={
                "name": self.loaded.plan.name,
                "path": str(self.loaded.path),
                "sha256": self.loaded.sha256,
            },
            checks=checks,
            expected_differences=expected,
            env=env,
            started=self.started,
            finished=now(),
            area_order=areas,
            sections=sections,
        )
        if reason is not None:
            results["verdict_reason"] = reason
        from harness.report.folder import write_folder  # Jinja and friends: only when writing

        files = write_folder(results, self.folder)
        return Written(results["verdict"], results["verdict_reason"], files.results, files.html)


def side_so_far(plan: Plan, role: str, connectors: Mapping[str, Connector]) -> dict[str, Any]:
    """A side as far as the run got: resolved (redacted), or only its kind from the plan."""
    if getattr(plan, role) is None:
        return NO_SOURCE
    connector = connectors.get(role)
    kind = connector.kind if connector is not None else getattr(plan, role).kind
    display = connector.display if connector is not None else f"{kind} (not reached)"
    return {"kind": kind, "display": display, "server_version": "not reached"}
