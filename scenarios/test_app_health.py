"""The application's health URL, probed ``runs`` times (started against the target first
when ``health.command`` says how): ``app_health[<url>]``, drawn as a strip in the report."""

from __future__ import annotations

from collections.abc import Callable

from harness.app.health import AREA, application, check_health, probes
from harness.latency.store import TimingStore
from harness.plugin import CutoverRun
from harness.results.check import CheckResult


def test_app_health(
    health_url: str, cutover: CutoverRun, record: Callable[[CheckResult], None]
) -> None:
    def check() -> CheckResult:
        settings = cutover.plan.health
        assert settings is not None  # the section switches this item on
        # Under the run's timing lock: no query timing overlaps the probes, nor they it.
        with (
            application(settings, cutover.connectors["target"]) as about,
            TimingStore.for_run(cutover.config).exclusive(),
        ):
            found = probes(settings)
        return check_health(found, settings, about)

    record(cutover.run_check(AREA, health_url, check))
