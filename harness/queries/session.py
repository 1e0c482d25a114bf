"""The query corpus of one verification run, prepared once per pytest process.

Both scenarios (``test_queries``, ``test_latency``) need the same specs, the same parameter
sets and, for a query's two latency budgets, the same timings; this holds them per plan so
nothing is transpiled, drawn or timed twice in one process. Plan problems found here (a
missing file, an unknown column to sample) are :class:`~harness.errors.PlanError` naming the
plan file, so collection stops with one line and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import PlanError, did_you_mean
from harness.latency.settings import LatencySettings
from harness.latency.timing import Timing
from harness.queries.corpus import load_corpus
from harness.queries.params import param_sets
from harness.queries.settings import QuerySettings

if TYPE_CHECKING:
    from harness.plugin import CutoverRun


class QuerySession:
    """Specs, parameter sets and timings of one run's queries (see module docstring)."""

    def __init__(self, run: CutoverRun) -> None:
        self.run = run
        self.settings = run.plan.queries or QuerySettings()
        self.latency = run.plan.latency or LatencySettings()
        try:
            specs = load_corpus(
                self.settings,
                source_dialect=run.connectors["source"].dialect,
                target_dialect=run.connectors["target"].dialect,
            )
        except PlanError as exc:
            raise exc.in_file(run.loaded.path) from None
        self.specs = {spec.name: spec for spec in specs}
        named = [(f"latency.budgets.{name}", "budget for", name) for name in self.latency.budgets]
        named += [
            (f"expected_differences.{i}.query", "expected difference on", d.query)
            for i, d in enumerate(run.plan.expected_differences)
            if d.query is not None
        ]
        for key, what, name in named:
            if name not in self.specs:
                raise PlanError(
                    f"{what} unknown query '{name}'.{did_you_mean(name, self.specs)}",
                    path=str(run.loaded.path),
                    key=key,
                )
        self._params: dict[str, list[dict[str, Any]]] = {}
        self._timings: dict[str, dict[str, Timing] | str] = {}

    def params(self, name: str) -> list[dict[str, Any]]:
        """The parameter sets of query ``name`` (drawn from the source on first use)."""
        if name not in self._params:
            query = self.specs[name].query
            try:
                self._params[name] = param_sets(
                    name,
                    fixed=query.params,
                    generate=query.generate,
                    samples=query.samples or self.settings.samples,
                    seed=self.settings.seed,
                    source=self.run.database("source"),
                )
            except PlanError as exc:
                raise exc.in_file(self.run.loaded.path) from None
        return self._params[name]

    def timings(self, name: str) -> dict[str, Timing] | str:
        """Both sides' timings of query ``name``, measured on first use."""
        if name not in self._timings:
            from harness.latency.check import measure

            self._timings[name] = measure(
                self.specs[name],
                self.params(name),
                source_db=self.run.database("source"),
                target_db=self.run.database("target"),
                settings=self.latency,
            )
        return self._timings[name]


_SESSIONS: dict[Path, QuerySession] = {}


def query_session(run: CutoverRun) -> QuerySession:
    """This process's :class:`QuerySession` for ``run``'s plan."""
    key = run.loaded.path
    if key not in _SESSIONS or _SESSIONS[key].run is not run:
        _SESSIONS[key] = QuerySession(run)
    return _SESSIONS[key]


def validate(run: CutoverRun) -> None:
    """Load the corpus and draw every parameter set now, so a plan mistake in the queries or
    latency sections stops the run before collection (one line, exit code 2)."""
    session = query_session(run)
    for name in session.specs:
        session.params(name)
