"""The capability registry: every area of checks a run can hold, in the report's order.

A capability is a record, not a class to subclass: the area its checks report under, the plan
section that switches it on, how it turns the plan into pytest items (:class:`Items`, one per
parametrized scenario argument), an optional ``prepare`` step the controller runs before
collection, and an optional summary it adds to ``results.json``. The plugin does the rest for
all of them in one ``pytest_generate_tests``:

- no ``--plan``: one item, skipped as needing a plan;
- the capability's plan section is absent (or its builder says it does not apply): the item is
  deselected, so it is neither run nor counted as a skip;
- the section is there but its builder finds nothing (an empty list, not None): one item,
  :class:`NothingToCheck`, records an error check ``<area>[<section>]`` saying so, since a
  section that checked nothing must not let the run end GO;
- a builder raises :class:`~harness.errors.HarnessError` (a bad path, a bad parameter): the run
  stops with one line and exit code 2.

Scenario modules hold only their ``test_*`` functions. A team adds a capability without forking
by returning records from the ``pytest_cutover_capabilities`` hook (:mod:`harness.hookspecs`);
theirs follow the built-ins in the report.

Each area name is typed once, beside the checks that report under it (``checks/rows.py``'s
``AREA``…); this module reads them, and the report, the run record and the formats take area
names and their order from here. Builders import the rest of their capability when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.app.health import AREA as APP_HEALTH_AREA
from harness.app.suite import AREA as APP_TESTS_AREA
from harness.checks.counts import AREA as ROW_COUNT_AREA
from harness.checks.rows import AREA as ROWS_AREA
from harness.checks.rows import RowItem, merge_shards, shard_table
from harness.checks.schema import AREA as SCHEMA_AREA
from harness.dynamo.compare import AREA as DYNAMO_AREA
from harness.endpoints.connectivity import AREA as CONNECTIVITY_AREA
from harness.errors import HarnessError, PlanError
from harness.faults.outcome import AREA as FAULTS_AREA
from harness.latency.check import AREA as LATENCY_AREA
from harness.lint.summary import AREA as LINT_AREA
from harness.lint.summary import results_section
from harness.posture.checks import AREA as POSTURE_AREA
from harness.queries.check import AREA as QUERIES_AREA
from harness.residue.checks import AREA as RESIDUE_AREA
from harness.residue.checks import TARGET_AREA as RESIDUE_TARGET_AREA
from harness.results.check import errored
from harness.rows.shards import Shard

if TYPE_CHECKING:
    from harness.plugin import CutoverRun
    from harness.queries.session import QuerySession
    from harness.results.check import CheckResult

Params = Sequence[Any] | None
"""What a builder returns: the items (values, or ``pytest.param`` with ids and marks), or None
when the capability does not apply to this plan (its items are then deselected)."""


@dataclass(frozen=True)
class Items:
    """How one scenario argument is parametrized from the plan."""

    argname: str
    """The scenario function argument that receives one item (``table_pair``, ``lint_file``)."""
    build: Callable[[CutoverRun], Params]
    """The items for this run (see :data:`Params`); may raise HarnessError for bad input."""
    ids: Callable[[Any], str] | None = None
    """An item's id in the test id (``test_rows[orders]``); pytest's default when None."""
    marks: tuple[pytest.MarkDecorator, ...] = ()
    """Marks every item gets (the latency items share one xdist group)."""


@dataclass(frozen=True)
class NothingToCheck:
    """The one item of a capability whose builder found no subject (an empty list, not None)
    in a section the plan has: it records an error check instead of running the scenario, so
    a section that checked nothing is a finding, never a silent pass (pytest itself would
    only skip an empty parameter set, and a skip does not stop a GO)."""

    area: str
    section: str | None

    ID = "nothing-to-check"
    """Its test id: ``test_posture[nothing-to-check]``."""

    def result(self) -> CheckResult:
        """``<area>[<section>]``, an error: the plan's section found nothing to check."""
        what = f"the plan's {self.section}: section" if self.section else f"the {self.area} checks"
        return errored(self.area, self.section or self.area, f"{what} found nothing to check")


@dataclass(frozen=True)
class NoSource:
    """The item of a comparison (schema, row counts, rows, views) in a plan without a source:
    it records a ``skip`` check ``<area>[no-source]`` saying the area is not applicable, so
    the report shows what was not compared and a GO says what it covered
    (:func:`harness.results.files.verdict`). ``area`` None: the scenario module's ``AREA``
    (``table_pair`` serves schema and row counts alike)."""

    area: str | None = None
    name: str = "no-source"

    ID = "no-source"
    """Its test id: ``test_rows[no-source]``."""

    def result(self, area: str | None = None) -> CheckResult:
        from harness.results.check import CheckResult, Status

        found = self.area or area
        if found is None:  # a plugin's scenario took a comparison item: never a pass
            return errored("no-source", self.name, "a comparison ran on a plan with no source")
        return CheckResult(
            found,
            self.name,
            Status.SKIP,
            "not applicable: the plan has no source (a target-only plan), so nothing is "
            "compared here",
        )


@dataclass(frozen=True)
class Capability:
    """One area of checks (see the module docstring)."""

    area: str
    """The area its checks report under: ``checks[].area`` in results.json, a report section."""
    section: str | None = None
    """The plan section that switches it on; None: always on."""
    items: tuple[Items, ...] = ()
    """Its parametrized scenario arguments; an argument may serve several capabilities."""
    prepare: Callable[[CutoverRun], None] | None = None
    """Run by the controller once both sides answer and before collection, whether or not the
    section is present: a plan mistake found here stops the run with one line (exit 2)."""
    summarize: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None
    """Top-level ``results.json`` sections built from the recorded checks (``lint``)."""
    merge: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    """Folds its recorded checks before the run record is built: a table's row shards
    (``rows[events#3/8]``) into one ``rows[events]``."""


# -- the built-ins' builders ---------------------------------------------------------------


def _endpoints(run: CutoverRun) -> Params:
    readers = [
        f"{role}-reader"
        for role in run.roles
        if getattr(getattr(run.plan, role), "reader_host", None)
    ]
    return [*run.roles, *readers]


def _prepare_tables(run: CutoverRun) -> None:
    """The columns the plan names exist, and there is a table to compare (or the plan says
    none is expected): a run that compared no table must not end GO."""
    from harness.plan.scope import check_scope

    if run.plan.source is None:
        return  # nothing is compared: the areas report themselves not applicable
    source, target = run.database("source").catalog(), run.database("target").catalog()
    try:
        check_scope(run.plan, run.scope(), source, target)
    except PlanError as exc:
        raise exc.in_file(run.loaded.path) from None


SHARDS = "rows.shards"
"""``run.prepared`` key: the shards of each table split for row parity, by pair id."""


def _prepare_rows(run: CutoverRun) -> None:
    """Plan each large table's shards once, in the controller, from the data: every xdist
    worker receives the plan (``run.prepared``), so all collect the same items."""
    planned: dict[str, Any] = {}
    if run.plan.source is None:
        run.prepared[SHARDS] = planned
        return
    for pair in run.scope().pairs:
        found = shard_table(
            pair,
            source_db=run.database("source"),
            target_db=run.database("target"),
            settings=run.plan.rows,
        )
        if len(found) > 1:
            planned[pair.id] = [s.to_dict() for s in found]
    run.prepared[SHARDS] = planned


def _row_items(run: CutoverRun) -> Params:
    """One item per table pair, or per shard of a large one (``events#3/8``)."""
    if run.plan.source is None:
        return [pytest.param(NoSource(ROWS_AREA), id=NoSource.ID)]
    pairs = run.scope().pairs
    if not pairs and run.plan.tables.allow_empty:
        return None
    planned = run.prepared.get(SHARDS, {})
    items = [
        RowItem(pair, Shard.from_dict(shard)) if shard else RowItem(pair)
        for pair in pairs
        for shard in planned.get(pair.id, [None])
    ]
    return [pytest.param(item, id=item.id) for item in items]


def _table_pairs(run: CutoverRun) -> Params:
    if run.plan.source is None:
        return [pytest.param(NoSource(), id=NoSource.ID)]
    pairs = run.scope().pairs
    if not pairs and run.plan.tables.allow_empty:
        return None  # the plan expects no table: no table items, not an empty section
    return [pytest.param(pair, id=pair.id) for pair in pairs]


def query_session(run: CutoverRun) -> QuerySession:
    """The run's query corpus and parameter sets (one per run and process), and its timings
    (one per query for the whole run, shared by the xdist workers: ``latency/store.py``)."""
    from harness.latency.store import TimingStore
    from harness.queries.session import QuerySession

    return run.memo(
        "queries",
        lambda: QuerySession(
            run.plan,
            run.loaded.path,
            dialects=(run.connectors["source"].dialect, run.connectors["target"].dialect),
            database=run.database,
            store=TimingStore.for_run(run.config),
        ),
    )


def _prepare_queries(run: CutoverRun) -> None:
    """Queries, latency budgets and waivers naming a query all need the corpus: load it and
    draw every parameter set before any item runs."""
    plan = run.plan
    if plan.source is None:
        return  # no queries: the plan model refuses them without a source
    if (
        plan.queries is None
        and plan.latency is None
        and not any(d.query for d in plan.expected_differences)
    ):
        return
    query_session(run).validate()


def _queries(run: CutoverRun) -> Params:
    return sorted(query_session(run).specs)


def _latency(run: CutoverRun) -> Params:
    from harness.latency.check import items

    assert run.plan.latency is not None  # the section switches this capability on
    # a target-only plan has no queries: its latency items are connect and health
    specs = {} if run.plan.source is None else query_session(run).specs
    # Writes (rolled back, never timed), skipped sites and sites that cannot run get no
    # default budget: their queries[…] item already says what they are; a budget the plan
    # names for one is kept, and errors saying why it cannot be timed.
    named = run.plan.latency.budgets
    names = [
        name
        for name, spec in sorted(specs.items())
        if name in named or not (spec.write or spec.skipped or spec.problem)
    ]
    found = items(names, run.plan.latency)
    return [pytest.param(item, id=item.name) for item in found]


def _lint_label(path: Path, roots: tuple[Path, ...]) -> str:
    """``<lint path's name>/<path inside it>`` (``after/db/001.sql``), wherever it lives."""
    for root in roots:
        if path == root:
            return root.name
        if path.is_relative_to(root):
            return f"{root.name}/{path.relative_to(root).as_posix()}"
    return path.as_posix()


def _lint_files(run: CutoverRun) -> Params:
    from harness.lint.checks import linted_files

    settings = run.plan.lint
    assert settings is not None
    if not settings.paths:
        return None
    try:
        files = linted_files(settings)
    except HarnessError as exc:
        raise HarnessError(f"{run.loaded.path}: lint.paths: {exc}") from None
    return [pytest.param(f, id=_lint_label(f, settings.paths)) for f in files]


def lint_label(run: CutoverRun, path: Path) -> str:
    """The check name of a linted file: its lint root's name and its path inside it."""
    assert run.plan.lint is not None
    return _lint_label(path, run.plan.lint.paths)


def lint_schema(run: CutoverRun) -> dict[str, CheckResult]:
    """The source's live schema linted, by object (once per run and process); a plan
    without a source lints the target's."""

    def compute() -> dict[str, CheckResult]:
        from harness.lint.checks import check_catalog

        assert run.plan.lint is not None
        catalog = run.database(run.roles[0]).catalog()
        return check_catalog(catalog, run.plan.lint) if catalog.dialect == "postgres" else {}

    return run.memo("lint.schema", compute)


def _schema_objects(run: CutoverRun) -> Params:
    assert run.plan.lint is not None
    if not run.plan.lint.live_schema:
        return None
    try:
        objects = sorted(lint_schema(run))
    except HarnessError as exc:
        raise HarnessError(f"source schema: {exc}") from None
    return objects or None  # the source is not PostgreSQL, or has no tables


def _lint_summary(checks: list[dict[str, Any]]) -> dict[str, Any]:
    section = results_section(checks)
    return {"lint": section} if section else {}


def _residue_sources(run: CutoverRun) -> Params:
    from harness.residue.scan import discover, short_names

    settings = run.plan.retired
    assert settings is not None
    if not settings.paths:
        return None
    try:
        sources = discover(list(settings.paths), settings, skip=[run.loaded.path])
    except HarnessError as exc:
        raise HarnessError(f"{run.loaded.path}: retired.paths: {exc}") from None
    return [pytest.param(s, id=s.shown) for s in short_names(sources)]


def _residue_target(run: CutoverRun) -> Params:
    settings = run.plan.retired
    assert settings is not None
    return [pytest.param(settings.target, id=settings.target)] if settings.paths else None


def posture_results(run: CutoverRun) -> dict[str, CheckResult]:
    """Posture by check name, gathered once per run and process."""

    def compute() -> dict[str, CheckResult]:
        from harness.posture.mode import posture_results

        assert run.plan.posture is not None
        return {r.name: r for r in posture_results(run.plan.posture)}

    return run.memo("posture", compute)


def _posture(run: CutoverRun) -> Params:
    names = sorted(posture_results(run))
    return [pytest.param(name, id=name) for name in names]


def _dynamo(run: CutoverRun) -> Params:
    settings = run.plan.dynamo
    assert settings is not None
    # dynamo: without a baseline serves `cutover dynamo snapshot`, which makes one.
    if settings.baseline is None:
        return None
    return [pytest.param(table, id=table) for table in settings.tables]


def _faults(run: CutoverRun) -> Params:
    from harness.faults.suite import items

    assert run.plan.faults is not None
    cells = items(run.plan.faults)
    return [pytest.param(cell, id=f"{cell[0]}-{cell[1]}") for cell in cells]


def _prepare_app_tests(run: CutoverRun) -> None:
    """A test suite writes: a side cutover did not create, and the plan does not list in
    ``app_tests.allow_writes``, stops the run before any work (exit 2)."""
    from harness.app.sides import check_writable

    settings = run.plan.app_tests
    if settings is None:
        return
    try:
        if not settings.cwd.is_dir():
            raise PlanError(f"app_tests.cwd: {settings.cwd} is not a folder")
        for side in ("source", "target"):
            allow = side in settings.allow_writes
            check_writable(run.connectors[side], allow_writes=allow, section="app_tests")
    except PlanError as exc:
        raise exc.in_file(run.loaded.path) from None


def _app_suite(run: CutoverRun) -> Params:
    assert run.plan.app_tests is not None
    return [run.plan.app_tests.command]


def _prepare_health(run: CutoverRun) -> None:
    """An application cutover starts for ``health`` runs against the target: the same rule."""
    from harness.app.sides import check_writable

    settings = run.plan.health
    if settings is None or settings.command is None:
        return
    try:
        if not settings.cwd.is_dir():
            raise PlanError(f"health.cwd: {settings.cwd} is not a folder")
        check_writable(
            run.connectors["target"], allow_writes=settings.allow_writes, section="health"
        )
    except PlanError as exc:
        raise exc.in_file(run.loaded.path) from None


def _health_url(run: CutoverRun) -> Params:
    from harness.app.health import shown_url

    assert run.plan.health is not None
    return [shown_url(run.plan.health.url)]


TABLE_PAIRS = Items("table_pair", _table_pairs)
"""One item per table pair, id'd by table name: schema and row counts share them."""

CONNECTIVITY = Capability(CONNECTIVITY_AREA, items=(Items("endpoint_item", _endpoints, ids=str),))
SCHEMA = Capability(SCHEMA_AREA, items=(TABLE_PAIRS,), prepare=_prepare_tables)
ROW_COUNT = Capability(ROW_COUNT_AREA, items=(TABLE_PAIRS,))
ROWS = Capability(
    ROWS_AREA,
    items=(Items("row_item", _row_items),),
    prepare=_prepare_rows,
    merge=merge_shards,
)
QUERIES = Capability(
    QUERIES_AREA,
    section="queries",
    items=(Items("query_name", _queries, ids=str),),
    prepare=_prepare_queries,
)
LATENCY = Capability(
    LATENCY_AREA,
    section="latency",
    # A query is timed once per run and no two timings overlap whatever the scheduling: the
    # run's workers share one timing store and its lock (harness.latency.store). The group
    # only keeps the items on one worker where xdist honours it, sparing the others a wait.
    items=(Items("latency_item", _latency, marks=(pytest.mark.xdist_group("latency"),)),),
)
DSQL_COMPAT = Capability(
    LINT_AREA,
    section="lint",
    items=(Items("lint_file", _lint_files), Items("schema_object", _schema_objects)),
    summarize=_lint_summary,
)
RESIDUE = Capability(
    RESIDUE_AREA, section="retired", items=(Items("residue_source", _residue_sources),)
)
RESIDUE_TARGET = Capability(
    RESIDUE_TARGET_AREA, section="retired", items=(Items("residue_target", _residue_target),)
)
POSTURE = Capability(POSTURE_AREA, section="posture", items=(Items("posture_check", _posture),))
DYNAMO = Capability(DYNAMO_AREA, section="dynamo", items=(Items("dynamo_table", _dynamo),))
FAULTS = Capability(FAULTS_AREA, section="faults", items=(Items("fault_item", _faults),))
APP_TESTS = Capability(
    APP_TESTS_AREA,
    section="app_tests",
    items=(Items("app_suite", _app_suite, ids=str),),
    prepare=_prepare_app_tests,
)
APP_HEALTH = Capability(
    APP_HEALTH_AREA,
    section="health",
    items=(Items("health_url", _health_url, ids=str),),
    prepare=_prepare_health,
)

CAPABILITIES: tuple[Capability, ...] = (
    CONNECTIVITY,
    SCHEMA,
    ROW_COUNT,
    ROWS,
    QUERIES,
    LATENCY,
    DSQL_COMPAT,
    RESIDUE,
    RESIDUE_TARGET,
    POSTURE,
    DYNAMO,
    FAULTS,
    APP_TESTS,
    APP_HEALTH,
)
"""The built-in capabilities, in the report's order."""


def area_order(capabilities: Sequence[Capability]) -> tuple[str, ...]:
    """Each area once, in registry order."""
    return tuple(dict.fromkeys(c.area for c in capabilities))


BUILT_IN_AREAS = area_order(CAPABILITIES)
"""The report's order of the built-in areas (a team's own follow them)."""
