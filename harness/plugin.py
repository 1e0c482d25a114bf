"""The pytest plugin: ``--plan`` and ``--report-dir``, fixtures, and the run record.

One :class:`CutoverRun` lives in each pytest process. The controller (the only process
without xdist, or xdist's controller) resolves the endpoints once — starting embedded
servers, reading DSNs — and checks that both sides answer before any test runs, so a wrong
password or a typo in the plan is one clear error, not a hundred failed tests. Workers receive
the resolved connectors as plain data (``workerinput``) and open their own read-only
sessions. Every test item's result travels back in ``report.user_properties`` and the
controller writes the report folder at the end.

What the run owns beyond the hooks lives with its stage: the sessions on the two sides in
:mod:`harness.endpoints.sessions` (both opened at once), the run's SIGINT/SIGTERM in
:mod:`harness.embedded.trap`, and writing results.json and its folder in
:mod:`harness.report.publish`.

What a run can check is the capability registry (:mod:`harness.capabilities`, extended through
the ``pytest_cutover_capabilities`` hook): one ``pytest_generate_tests`` here parametrizes every
capability's scenario arguments from the plan, and the registry's order is the report's.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from _pytest.mark.structures import ParameterSet

from harness import hookspecs, usage
from harness.capabilities import CAPABILITIES, Capability, Items, NoSource, NothingToCheck
from harness.db.database import Database
from harness.dsql_local.fixture import dsql_local  # noqa: F401  (a fixture the plugin offers)
from harness.embedded import interrupts
from harness.embedded.trap import SignalTrap, stop_reason
from harness.endpoints.redact import scrub
from harness.endpoints.resolve import Connector, resolve
from harness.endpoints.sessions import Sessions
from harness.errors import HarnessError, PlanError
from harness.plan.load import load_plan
from harness.plan.model import LoadedPlan, Plan
from harness.plan.scope import Scope, build_scope
from harness.report.formats.root import find_source_root
from harness.report.publish import Publisher, Written
from harness.results import outcomes
from harness.results.check import CheckResult, Status, errored, timed
from harness.results.files import DEFAULT_REPORT_DIR
from harness.results.record import NO_SOURCE, environment, now

__all__ = [
    "ENTRY_POINT",
    "NEEDS_PLAN",
    "NOT_APPLICABLE",
    "RESULT_KEY",
    "CutoverRun",
    "Written",
    "registered",
    "usage_error",
]

T = TypeVar("T")
RESULT_KEY = "cutover.result"
NOT_APPLICABLE = "cutover_not_applicable"
"""Marker of a scenario item the plan does not ask for (no ``lint:``, no ``retired:``…)."""
ENTRY_POINT = "cutover"
"""The name the installed plugin registers under (``[project.entry-points.pytest11]``)."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_plugin_registered(plugin: object, manager: pytest.PytestPluginManager) -> None:
    """``pytest -p harness.plugin`` registers this module under that name before pytest loads
    the installed entry point (:data:`ENTRY_POINT`), which is this same module; pluggy refuses
    one module under two names (``ValueError: Plugin already registered``). The module is in
    already, so the entry point is blocked and pytest skips it."""
    if plugin is sys.modules[__name__] and manager.get_name(plugin) != ENTRY_POINT:
        manager.set_blocked(ENTRY_POINT)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cutover", "migration verification")
    group.addoption(
        "--plan", metavar="FILE", help="Verification plan (YAML) to run the scenarios against"
    )
    group.addoption(
        "--report-dir",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"Where results.json and report.html go (default: {DEFAULT_REPORT_DIR})",
    )
    # Set by ``cutover verify``: its bad-input lines read like every other command's.
    group.addoption("--cutover-cli", action="store_true", help=argparse.SUPPRESS)


def usage_error(config: pytest.Config, message: str) -> pytest.UsageError:
    """The error for a user's mistake found while pytest starts (exit 2 under ``cutover``).

    Run by ``cutover verify`` it prints ``cutover: error: …`` itself and leaves pytest an
    empty UsageError (pytest prints one ``ERROR:`` line per argument: none); run by pytest
    directly, or inside an xdist worker whose stderr nobody reads, pytest prints it.
    """
    if config.getoption("--cutover-cli", default=False) and not hasattr(config, "workerinput"):
        usage.say_error(message)
        return pytest.UsageError()
    return pytest.UsageError(message)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cutover_area(name): the check area a scenario reports under"
    )
    config.addinivalue_line(
        "markers",
        f"{NOT_APPLICABLE}: the plan has no section for this scenario; the item is deselected",
    )
    plan_path = config.getoption("--plan")
    if not plan_path:
        return
    try:
        loaded = load_plan(plan_path)
    except HarnessError as exc:
        raise usage_error(config, str(exc)) from None
    config.pluginmanager.register(CutoverRun(config, loaded), "cutover-run")


class CutoverRun:
    """Per-process state of a verification run (see module docstring)."""

    def __init__(self, config: pytest.Config, loaded: LoadedPlan) -> None:
        self.config = config
        self.loaded = loaded
        self.plan = loaded.plan
        self.resources = ExitStack()
        self.is_worker = hasattr(config, "workerinput")
        self.connectors: dict[str, Connector] = {}
        self.fingerprint: dict[str, Any] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self._scope: Scope | None = None
        self._memo: dict[str, Any] = {}
        self.prepared: dict[str, Any] = {}
        """Plain data the controller's prepare steps computed from the databases (a large
        table's row shards): workers receive it, so every process collects the same items."""
        self.written: Written | None = None
        self.selected: dict[str, None] = {}
        """Controller: the node ids the run set out to report, in collection order."""
        self.stopped: str | None = None
        """Controller: why the run ended before its end (a signal, pytest.exit, a crash)."""
        self.trap = SignalTrap()
        """This process's SIGINT and SIGTERM for the run; the controller's reach its workers."""
        self._claimed = False
        """Controller: the report folder is held for this run (so it may write there)."""
        self.failed: str | None = None
        """Controller: the usage error that stopped the run before its first check."""
        self.started = now()
        self.publisher = Publisher(loaded, self.started, self.report_dir)
        if self.is_worker:
            shared = config.workerinput["cutover"]  # type: ignore[attr-defined]
            self.connectors = {k: Connector.from_dict(v) for k, v in shared["connectors"].items()}
            self.prepared = shared["prepared"]
        self.sessions = Sessions(self.connectors, self.resources)
        """The read-only sessions on the sides, both opened at once on first use."""

    # -- controller: resolve once, fail fast --------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.is_worker:
            return
        try:
            for role in self.roles:
                spec = getattr(self.plan, role)
                self.connectors[role] = resolve(
                    spec, role, self.resources, connect=self.plan.connect
                )
            sides = {"source": NO_SOURCE}  # a target-only plan's record says so
            for role, connector in self.connectors.items():
                db = self.database(role)
                sides[role] = {
                    "kind": connector.kind,
                    "display": connector.display,
                    "server_version": db.server_version(),
                }
            if self.plan.source is not None:
                self.scope()  # validates every table the plan names
            for capability in self.capabilities:
                if capability.prepare is not None:
                    capability.prepare(self)
            root = find_source_root(self.loaded.path.parent)
        except HarnessError as exc:
            self.failed = scrub(str(exc))
            raise usage_error(self.config, str(exc)) from None
        workers = getattr(self.config.option, "numprocesses", None) or 0
        self.fingerprint = environment(
            sides["source"], sides["target"], int(workers), source_root=str(root)
        )

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist: hand the resolved endpoints to each worker; note its process, to pass a
        signal on (execnet's popen gateway: ``gateway._io.popen``; absent, nothing is passed
        on and execnet interrupts the worker itself after 5 s)."""
        node.workerinput["cutover"] = {
            "connectors": {k: c.to_dict() for k, c in self.connectors.items()},
            "prepared": self.prepared,
        }
        popen = getattr(getattr(getattr(node, "gateway", None), "_io", None), "popen", None)
        if isinstance(popen, subprocess.Popen):
            self.trap.pass_on_to(popen)

    # -- every process: sessions, catalogs, scope ---------------------------------------

    @property
    def roles(self) -> tuple[str, ...]:
        """The sides the plan has: ``source`` and ``target``, or ``target`` alone."""
        return ("target",) if self.plan.source is None else ("source", "target")

    def database(self, role: str) -> Database:
        """The read-only session on ``role`` (:class:`harness.endpoints.sessions.Sessions`)."""
        return self.sessions.database(role)

    def scope(self) -> Scope:
        if self._scope is None:
            source, target = self.database("source").catalog(), self.database("target").catalog()
            try:
                self._scope = build_scope(self.plan, source, target)
            except PlanError as exc:
                raise exc.in_file(self.loaded.path) from None
        return self._scope

    @functools.cached_property
    def capabilities(self) -> tuple[Capability, ...]:
        """The built-in capabilities and those plugins add (asked once every conftest is in)."""
        return registered(self.config)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per run and process under ``key``: what collection and every item
        of a capability share (the query corpus, the linted live schema, posture facts)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    def run_check(self, area: str, name: str, compute: Callable[[], CheckResult]) -> CheckResult:
        """Run a check; a crash becomes an ``error`` result with a one-line reason."""
        start = time.perf_counter()
        try:
            result = compute()
        except HarnessError as exc:
            result = errored(area, name, scrub(str(exc)))
        except Exception as exc:  # a bug or an unexpected database answer: never a pass
            where = traceback.extract_tb(exc.__traceback__)[-1]
            result = errored(
                area,
                name,
                scrub(
                    f"check crashed: {type(exc).__name__}: {exc} ({Path(where.filename).name}:"
                    f"{where.lineno})"
                ),
            )
        return timed(result, time.perf_counter() - start)

    # -- controller: collect and write ---------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        recorded = [v for k, v in report.user_properties if k == RESULT_KEY]
        if recorded:
            self.results[report.nodeid] = cast(dict[str, Any], recorded[-1])
            return
        if report.nodeid in self.results and report.when != "teardown":
            return
        if report.when == "call" or report.failed or report.skipped:
            self.results.setdefault(report.nodeid, outcomes.from_report(report))
            if report.failed:  # a failure in setup/teardown overrides a recorded pass
                self.results[report.nodeid] = outcomes.from_report(report)

    def pytest_sessionfinish(
        self, session: pytest.Session, exitstatus: int | pytest.ExitCode
    ) -> None:
        try:
            # --collect-only ran nothing: it must not replace the last real run's verdict.
            if not self.is_worker and self.fingerprint and not self.config.option.collectonly:
                if exitstatus == pytest.ExitCode.INTERNAL_ERROR and self.stopped is None:
                    self.stopped = "an internal error"
                with self.trap.held():  # a signal now waits: the folder is written whole
                    self.written = self.publisher.finished(
                        self.results,
                        self.capabilities,
                        selected=self.selected,
                        stopped=self.stopped,
                        ended=session.shouldstop or session.shouldfail,
                        env=self.fingerprint,
                    )
        finally:
            self.resources.close()

    @property
    def report_dir(self) -> Path:
        return Path(self.config.getoption("--report-dir") or DEFAULT_REPORT_DIR)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is None:
            return
        terminalreporter.write_sep("=", f"cutover verdict: {self.written.verdict}", bold=True)
        terminalreporter.write_line(self.written.reason)
        terminalreporter.write_line(f"results: {self.written.results}")
        terminalreporter.write_line(f"report:  {self.written.html}")

    # -- controller: the run's folder, its signals, and what it set out to report ----------

    def pytest_configure(self, config: pytest.Config) -> None:
        """Called as the plugin registers. Every process makes SIGTERM stop the run the way
        Ctrl-C does; the controller holds the report folder for the run
        (:func:`harness.report.folder.claimed`: locked, no signed bundle, the previous run's
        files removed)."""
        self.trap.install()
        if self.is_worker or config.option.collectonly:
            return  # collect-only writes nothing, so the last real run's files stay as they are
        from harness.report.folder import claimed

        try:
            self.resources.enter_context(claimed(self.report_dir))
        except HarnessError as exc:
            raise usage_error(config, str(exc)) from None
        self._claimed = True

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        try:
            if self._claimed and self.written is None and not self.is_worker:
                with self.trap.held():  # a second signal now waits: the folder is written whole
                    self.written = self.publisher.failed_start(
                        failed=self.failed,
                        stopped=self.stopped,
                        env=self.fingerprint,
                        connectors=self.connectors,
                    )
        finally:
            try:
                self.resources.close()  # a session that never started or never finished
            finally:
                self.trap.restore()

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C, SIGTERM, ``pytest.exit``, a collection error or an xdist worker that stopped:
        the run is incomplete, whatever its items said so far."""
        if self.is_worker or self.stopped is not None:
            return
        self.stopped = stop_reason(excinfo)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.is_worker:
            self.selected.update(dict.fromkeys(item.nodeid for item in session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist: the controller collects nothing; each worker says what it selected."""
        self.selected.update(dict.fromkeys(ids))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect items marked :data:`NOT_APPLICABLE`: a plan without a capability's section
    asks for none of its checks, so they are not skipped checks in the report either."""
    dropped = [item for item in items if item.get_closest_marker(NOT_APPLICABLE)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker(NOT_APPLICABLE)]


NEEDS_PLAN = "cutover scenarios need a plan: pass --plan FILE (or use `cutover verify`)"


def _run(config: pytest.Config) -> CutoverRun:
    run: CutoverRun | None = config.pluginmanager.get_plugin("cutover-run")
    if run is None:
        pytest.skip(NEEDS_PLAN)
    return run


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize each capability argument the scenario takes (see harness.capabilities)."""
    run: CutoverRun | None = metafunc.config.pluginmanager.get_plugin("cutover-run")
    capabilities = run.capabilities if run is not None else registered(metafunc.config)
    for capability, items in _wanted(capabilities, metafunc.fixturenames):
        if run is None:
            params = [pytest.param(None, marks=pytest.mark.skip(NEEDS_PLAN))]
        else:
            params = _params(run, capability, items, metafunc.config)
        metafunc.parametrize(items.argname, params, ids=items.ids)


def registered(config: pytest.Config) -> tuple[Capability, ...]:
    """The built-in capabilities, then each plugin's (``pytest_cutover_capabilities``)."""
    return (
        *CAPABILITIES,
        *(c for found in config.hook.pytest_cutover_capabilities() for c in found),
    )


def _wanted(
    capabilities: tuple[Capability, ...], fixturenames: list[str]
) -> list[tuple[Capability, Items]]:
    """The (capability, items) of each capability argument in ``fixturenames``, once each
    (``table_pair`` serves three capabilities and is parametrized once)."""
    found: dict[str, tuple[Capability, Items]] = {}
    for capability in capabilities:
        for items in capability.items:
            if items.argname in fixturenames:
                found.setdefault(items.argname, (capability, items))
    return list(found.values())


def _params(
    run: CutoverRun, capability: Capability, items: Items, config: pytest.Config
) -> list[Any]:
    """The items of one argument, or one deselected item when the plan does not ask for it,
    or one item recording an error when the plan asks for it and its builder found nothing."""
    absent = pytest.param(None, marks=getattr(pytest.mark, NOT_APPLICABLE))
    if capability.section is not None and getattr(run.plan, capability.section) is None:
        return [absent]
    try:
        built = items.build(run)
    except HarnessError as exc:
        raise usage_error(config, str(exc)) from None
    if built is None:
        return [absent]
    if not built:  # the section is there and found nothing: an error check, never a skip
        nothing = NothingToCheck(capability.area, capability.section)
        return [pytest.param(nothing, id=NothingToCheck.ID)]
    if not items.marks:
        return list(built)
    return [
        pytest.param(*p.values, id=p.id, marks=(*p.marks, *items.marks))
        if isinstance(p, ParameterSet)
        else pytest.param(p, marks=items.marks)
        for p in built
    ]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """A signal stops the run even where its KeyboardInterrupt was swallowed on the way up
    (SQLite turns one raised inside a Python function into "user-defined function raised
    exception", which a check then reports as its error): the item's outcome is not trusted,
    and the run ends as interrupted, its remaining items never run."""
    try:
        return (yield)
    finally:
        name = interrupts.interrupted()
        if name is not None:
            raise KeyboardInterrupt(name)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """An item standing for a section that found nothing records its error before any of the
    scenario's fixtures run (they would receive a placeholder, not a subject)."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    nothing = next((p for p in params if isinstance(p, NothingToCheck | NoSource)), None)
    if nothing is None:
        return
    result = (
        nothing.result(getattr(getattr(item, "module", None), "AREA", None))
        if isinstance(nothing, NoSource)
        else nothing.result()
    )
    item.user_properties.append((RESULT_KEY, {**result.to_dict(), "nodeid": item.nodeid}))
    if result.status is Status.SKIP:  # not applicable: recorded, and never a pass
        pytest.skip(result.summary)
    pytest.fail(f"{result.status.value.upper()}: {result.summary}", pytrace=False)


@pytest.fixture(scope="session")
def cutover(pytestconfig: pytest.Config) -> CutoverRun:
    """This run: plan, endpoints, read-only databases, scope, ``run_check``."""
    return _run(pytestconfig)


@pytest.fixture(scope="session")
def plan(cutover: CutoverRun) -> Plan:
    """The validated plan."""
    return cutover.plan


@pytest.fixture(scope="session")
def source_db(cutover: CutoverRun) -> Database:
    """A read-only session on the source."""
    return cutover.database("source")


@pytest.fixture(scope="session")
def target_db(cutover: CutoverRun) -> Database:
    """A read-only session on the target."""
    return cutover.database("target")


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[[CheckResult], None]:
    """Record a check result for the report and turn it into the test's outcome."""

    def _record(result: CheckResult) -> None:
        data = result.to_dict()
        data["nodeid"] = request.node.nodeid
        request.node.user_properties.append((RESULT_KEY, data))
        if result.status in (Status.FAIL, Status.ERROR):
            pytest.fail(f"{result.status.value.upper()}: {result.summary}", pytrace=False)
        if result.status is Status.SKIP:
            pytest.skip(result.summary)

    return _record
