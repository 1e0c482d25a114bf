"""The query corpus of one verification run, prepared once per pytest process.

Both scenarios (``test_queries``, ``test_latency``) need the same specs, the same parameter
sets and, for a query's two latency budgets, the same timings; one session per run and process
(kept in the run's memo) holds them so nothing is transpiled or drawn twice in one process, and
its :class:`~harness.latency.store.TimingStore` times each query once for the whole run, whichever
xdist worker asks first. It knows the run only through its plan, a way to open each side's
session and that store. Plan problems found here (a missing file, an unknown column to sample)
are :class:`~harness.errors.PlanError` naming the plan file, so collection stops with one line
and exit code 2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import PlanError, did_you_mean
from harness.latency.settings import LatencySettings
from harness.latency.store import Measured, TimingStore
from harness.queries.corpus import load_corpus
from harness.queries.params import draw
from harness.queries.settings import QuerySettings

if TYPE_CHECKING:
    from harness.db.database import Database
    from harness.plan.model import Plan


class QuerySession:
    """Specs, parameter sets and timings of one run's queries (see module docstring)."""

    def __init__(
        self,
        plan: Plan,
        plan_path: Path,
        *,
        dialects: tuple[str, str],
        database: Callable[[str], Database],
        store: TimingStore | None = None,
    ) -> None:
        self.plan_path = plan_path
        self.database = database
        self.store = store or TimingStore()
        """Where the run's timings are kept (one process's memory unless told otherwise)."""
        self.settings = plan.queries or QuerySettings()
        self.latency = plan.latency or LatencySettings()
        source_dialect, target_dialect = dialects
        try:
            specs = load_corpus(
                self.settings,
                source_dialect=source_dialect,
                target_dialect=target_dialect,
                base=plan_path.parent,
            )
        except PlanError as exc:
            raise exc.in_file(plan_path) from None
        self.specs = {spec.name: spec for spec in specs}
        named = [(f"latency.budgets.{name}", "budget for", name) for name in self.latency.budgets]
        named += [
            (f"expected_differences.{i}.query", "expected difference on", d.query)
            for i, d in enumerate(plan.expected_differences)
            if d.query is not None
        ]
        for key, what, name in named:
            if name not in self.specs:
                raise PlanError(
                    f"{what} unknown query '{name}'.{did_you_mean(name, self.specs)}",
                    path=str(plan_path),
                    key=key,
                )
        self._params: dict[str, list[dict[str, Any]]] = {}
        self._problems: dict[str, str] = {}

    def params(self, name: str) -> list[dict[str, Any]]:
        """The parameter sets of query ``name`` (drawn from the source on first use)."""
        if name not in self._params:
            spec = self.specs[name]
            if spec.problem is not None or spec.skipped is not None:
                self._params[name] = []
                return []
            try:
                self._params[name] = draw(spec, self.settings, self.database("source"))
            except PlanError as exc:
                if spec.site is None:
                    raise exc.in_file(self.plan_path) from None
                # A call site the plan never named: its own item says what to add, and the
                # rest of the application's queries still run.
                self._problems[name] = f"{exc.message} (queries.sites.{name})"
                self._params[name] = []
        return self._params[name]

    def problem(self, name: str) -> str | None:
        """Why query ``name`` cannot run: dynamic SQL, or parameters with no value to draw."""
        self.params(name)
        return self.specs[name].problem or self._problems.get(name)

    def timings(self, name: str) -> Measured:
        """Both sides' timings of query ``name``: one measurement for the whole run, taken by
        whichever item (in whichever process) asks first, with no other timing running."""
        from harness.latency.check import measure

        untimed = self.untimed(name)
        if untimed is not None:
            return untimed
        params = self.params(name)  # drawn outside the store's lock: drawing times nothing
        return self.store.get(
            name,
            lambda: measure(
                self.specs[name],
                params,
                source_db=self.database("source"),
                target_db=self.database("target"),
                settings=self.latency,
            ),
        )

    def untimed(self, name: str) -> str | None:
        """Why query ``name`` is not timed, or None. A write is never timed: the timed loop
        runs read-only, and a write must not reach a database to be refused there either."""
        spec = self.specs[name]
        if spec.write:
            return f"not timed: {name} is a write (latency budgets time the application's reads)"
        if spec.skipped is not None:
            return f"not timed: {name} is skipped by the plan ({spec.skipped})"
        problem = self.problem(name)
        if problem is not None:
            return f"cannot time {name}: {problem}"
        return None

    def validate(self) -> None:
        """Draw every parameter set now, so a plan mistake in the queries or latency sections
        stops the run before collection (one line, exit code 2)."""
        for name in self.specs:
            self.params(name)
