"""Specification of a run's sessions on its sides (harness.endpoints.sessions): both sides open
at once, and each side's outcome is its own.

The sides are real: PostgreSQL from the test worker's embedded cluster, reached through a
:class:`Gate` (a TCP relay that can hold connections until others arrive, or admit only the
first few), and SQLite files. Overlap is proved by the gate, never by a clock: it lets the two
connections through only once both have arrived, so opens done one after the other never get
through at all.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from harness.db.database import PostgresDatabase, SqliteDatabase
from harness.embedded.provision import PostgresCluster
from harness.endpoints.redact import redact_dsn
from harness.endpoints.resolve import Connector
from harness.endpoints.sessions import Sessions
from harness.errors import EndpointError
from tests.test_plugin import RUN_ARGS, Outcome

pytest_plugins = ["pytester"]

WAIT_S = 60.0
"""A guard on every wait in this file: reached only when the behaviour under test is broken."""
ONCE = {"attempts": 1}
"""A connector's retry policy here: one attempt, so what fails fails at once."""


class Gate:
    """A TCP relay on 127.0.0.1 to the PostgreSQL at ``conninfo``.

    It holds each connection it accepts until ``together`` have arrived (or :meth:`release`),
    then relays it; with ``admit`` its listener closes after that many connections, so later
    ones are refused as if nothing listened. ``arrived`` and ``ended`` (relays whose client
    hung up) count what it saw."""

    def __init__(self, conninfo: str, *, together: int = 1, admit: int | None = None) -> None:
        self._conninfo = conninfo
        params = conninfo_to_dict(conninfo)
        self._upstream = (str(params["host"]), int(str(params["port"])))
        self._together = together
        self._admit = admit
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # the accept loop looks at _stopping this often
        self.port: int = self._listener.getsockname()[1]
        self._open = threading.Event()
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._sockets: list[socket.socket] = []
        self.arrived = 0
        self.ended = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def side(self, role: str, dbname: str = "postgres") -> Connector:
        """A connector for ``role`` reaching ``dbname`` through this gate, with one connect
        attempt (a held or refused connection fails, it is not retried)."""
        dsn = make_conninfo(self._conninfo, dbname=dbname, port=str(self.port))
        display = f"{role} through the gate"
        return Connector(
            role, "postgres", "postgres", dsn, display, connect_timeout_s=WAIT_S, retry=ONCE
        )

    def release(self) -> None:
        """Let every held connection through, and every later one at once."""
        self._open.set()

    def wait_until(self, condition: Callable[[Gate], bool]) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: condition(self), WAIT_S), "the gate waited"

    def close(self) -> None:
        self._stopping.set()
        self._open.set()
        for sock in [self._listener, *self._sockets]:
            sock.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            self._sockets.append(client)
            with self._changed:
                self.arrived += 1
                if self.arrived >= self._together:
                    self._open.set()
                self._changed.notify_all()
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()
            if self._admit is not None and self.arrived >= self._admit:
                self._listener.close()  # nothing listens on the port from now on
                return

    def _relay(self, client: socket.socket) -> None:
        if not self._open.wait(WAIT_S) or self._stopping.is_set():
            client.close()
            return
        server = socket.create_connection(self._upstream)
        self._sockets.append(server)
        pumps = [
            threading.Thread(target=_pump, args=(client, server), daemon=True),
            threading.Thread(target=_pump, args=(server, client), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        for pump in pumps:
            pump.join()
        client.close()
        server.close()
        with self._changed:
            self.ended += 1
            self._changed.notify_all()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy ``source`` to ``sink`` until ``source`` ends, then end ``sink``'s writing side."""
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass  # a reset or a socket closed by the gate: the link is over either way
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def gates(pg_password_cluster: tuple[PostgresCluster, str]) -> Iterator[Callable[..., Gate]]:
    """Gates to the worker's TCP PostgreSQL, closed after the test."""
    conninfo = pg_password_cluster[0].conninfo("postgres", tcp=True)
    made: list[Gate] = []

    def make(**kwargs: int) -> Gate:
        made.append(Gate(conninfo, **kwargs))
        return made[-1]

    yield make
    for gate in made:
        gate.close()


def sqlite_side(path: Path, role: str) -> Connector:
    sqlite3.connect(path).close()
    return Connector(role, "sqlite", "sqlite", str(path), f"sqlite:{path} (read-only)")


def nothing_listens(role: str) -> Connector:
    """A PostgreSQL side on a port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dsn = f"host=127.0.0.1 port={port} dbname=postgres user=postgres"
    display = f"postgresql://127.0.0.1:{port}/postgres"
    return Connector(role, "postgres", "postgres", dsn, display, retry=ONCE)


@pytest.fixture
def resources() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def gated_source(gate: Gate, folder: Path, resources: ExitStack) -> Sessions:
    """A PostgreSQL source behind ``gate`` and a SQLite target in ``folder``."""
    target = sqlite_side(folder / "target.db", "target")
    return Sessions({"source": gate.side("source"), "target": target}, resources)


class TestBothSidesOpenAtOnce:
    def test_asking_for_one_side_opens_the_other_alongside(
        self, gates: Callable[..., Gate], resources: ExitStack
    ) -> None:
        gate = gates(together=2)  # neither connection passes until both are there
        sides = {role: gate.side(role) for role in ("source", "target")}
        sessions = Sessions(sides, resources)

        source = sessions.database("source")
        target = sessions.database("target")

        assert gate.arrived == 2
        assert isinstance(source, PostgresDatabase)
        assert isinstance(target, PostgresDatabase)
        assert source.server_version() == target.server_version()
        assert sessions.database("source") is source  # opened once

    def test_each_side_opens_once_and_closes_with_the_run(
        self, gates: Callable[..., Gate], tmp_path: Path
    ) -> None:
        gate = gates()
        with ExitStack() as resources:
            sessions = gated_source(gate, tmp_path, resources)
            assert isinstance(sessions.database("target"), SqliteDatabase)
            assert isinstance(sessions.database("source"), PostgresDatabase)
            assert gate.ended == 0
        gate.wait_until(lambda g: g.ended == 1)  # the session's client hung up
        assert gate.arrived == 1

    def test_a_run_with_one_side_opens_just_that_side(
        self, tmp_path: Path, resources: ExitStack
    ) -> None:
        sessions = Sessions({"target": sqlite_side(tmp_path / "t.db", "target")}, resources)
        assert isinstance(sessions.database("target"), SqliteDatabase)
        with pytest.raises(KeyError):
            sessions.database("source")


class TestEachSideItsOwnOutcome:
    def test_an_unreachable_source_fails_only_what_needs_the_source(
        self, tmp_path: Path, resources: ExitStack
    ) -> None:
        unreachable = nothing_listens("source")
        sessions = Sessions(
            {"source": unreachable, "target": sqlite_side(tmp_path / "target.db", "target")},
            resources,
        )

        target = sessions.database("target")  # a target-only item, asked first
        assert target.server_version()

        with pytest.raises(EndpointError) as first:
            sessions.database("source")
        with pytest.raises(EndpointError) as again:
            sessions.database("source")
        message = str(first.value)
        assert message.startswith("source: cannot connect: nothing listens there")
        assert "\n" not in message
        assert message.endswith(f"[{unreachable.display}]")
        assert str(again.value) == message
        assert first.value.endpoint == "source"
        assert sessions.database("target") is target

    def test_a_target_only_item_does_not_wait_for_the_source(
        self, gates: Callable[..., Gate], tmp_path: Path, resources: ExitStack
    ) -> None:
        gate = gates(together=2)  # holds the source's one connection
        sessions = gated_source(gate, tmp_path, resources)

        assert isinstance(sessions.database("target"), SqliteDatabase)
        gate.wait_until(lambda g: g.arrived == 1)
        assert gate.ended == 0  # the source is still at the gate: the target did not wait

        gate.release()
        assert isinstance(sessions.database("source"), PostgresDatabase)

    def test_a_side_still_opening_when_the_run_closes_is_closed_as_it_arrives(
        self, gates: Callable[..., Gate], tmp_path: Path
    ) -> None:
        gate = gates(together=2)
        with ExitStack() as resources:
            gated_source(gate, tmp_path, resources).database("target")
            gate.wait_until(lambda g: g.arrived == 1)
        gate.release()  # the source's session opens after the run closed its sessions

        gate.wait_until(lambda g: g.ended == 1)  # and its client hangs up


# --- a run: the controller and its xdist workers -----------------------------------------------

SIDE_TESTS = """\
from harness.results.check import CheckResult, Status


def answers(cutover, role):
    version = cutover.database(role).server_version()
    return CheckResult("tests", role, Status.PASS, f"{role} answers: {version}")


def test_source_answers(cutover, record):
    record(cutover.run_check("tests", "source", lambda: answers(cutover, "source")))


def test_target_answers(cutover, record):
    record(cutover.run_check("tests", "target", lambda: answers(cutover, "target")))
"""


def side_project(pytester: pytest.Pytester, source: str) -> None:
    """An empty SQLite target, ``source`` (a plan's YAML mapping), the two tests above."""
    sqlite3.connect(pytester.path / "target.db").close()
    (pytester.path / "plan.yaml").write_text(
        "name: sides\n"
        f"source: {source}\n"
        "target: {kind: sqlite, path: target.db}\n"
        "tables: {allow_empty: true}\n"
        "connect: {connect_timeout_s: 10, retry: {attempts: 1}}\n",
        encoding="utf-8",
    )
    (pytester.path / "test_sides.py").write_text(SIDE_TESTS, encoding="utf-8")


def outcome_of(pytester: pytest.Pytester, *args: str) -> Outcome:
    result = pytester.runpytest_subprocess(*RUN_ARGS, *args)
    path = pytester.path / "out" / "results.json"
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return Outcome(int(result.ret), result.stdout.str(), result.stderr.str(), results, None)


class TestInARun:
    def test_an_unreachable_source_stops_the_run_with_its_own_one_line_error(
        self, pytester: pytest.Pytester
    ) -> None:
        side = nothing_listens("source")
        side_project(pytester, f'{{kind: postgres, dsn: "{side.address}"}}')

        outcome = outcome_of(pytester)

        assert outcome.ret == pytest.ExitCode.USAGE_ERROR
        (line,) = outcome.error_lines()
        assert line.startswith("ERROR: source: cannot connect: nothing listens there")
        assert line.endswith(f"[{redact_dsn(side.address)}]")
        output = outcome.stdout + outcome.stderr
        assert "Traceback" not in output
        assert "Exception in thread" not in output
        assert outcome.results is not None
        assert [c["id"] for c in outcome.results["checks"]] == ["run[start]"]

    def test_a_source_the_workers_cannot_reach_fails_only_the_source_items(
        self,
        pytester: pytest.Pytester,
        pg_password_cluster: tuple[PostgresCluster, str],
        gates: Callable[..., Gate],
    ) -> None:
        name = f"t_{uuid.uuid4().hex[:12]}"
        pg_password_cluster[0].create_database(name)  # empty: the plan allows it
        gate = gates(admit=1)  # the controller's session, then nothing listens
        dsn = gate.side("source", name).address
        side_project(pytester, f'{{kind: postgres, dsn: "{dsn}"}}')

        outcome = outcome_of(pytester, "-n", "2")

        assert outcome.results is not None, outcome.stdout + outcome.stderr
        source = outcome.check("test_sides.py::test_source_answers")
        target = outcome.check("test_sides.py::test_target_answers")
        assert (source["status"], target["status"]) == ("error", "pass")
        assert source["summary"].startswith("source: cannot connect: nothing listens there")
        assert "\n" not in source["summary"]
        assert target["summary"].startswith("target answers: ")
        assert outcome.results["verdict"] == "NO-GO"
        assert "Traceback" not in outcome.stdout + outcome.stderr
        assert gate.arrived == 1
