"""The local DSQL answers as a real Aurora DSQL cluster answered: 242 recorded cases, replayed.

The cases (tests/data/dsql_conformance/, facts from Dreamescaper/dsql-emulator's recordings of
a real cluster, MIT) run once, in their recorded order, through psycopg 3 over TLS with IAM
tokens; each case is then one test comparing, per statement, the outcome, SQLSTATE, message
and command tag. A case marked ``diverges`` is expected to differ (xfail, strict: once it
matches, the mark must go); every divergence is listed with its reason in docs/dsql-local.md.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from harness.dsql_local import DsqlLocal
from harness.dsql_local.tokens import SigningIdentity

DATA = Path(__file__).parent / "data" / "dsql_conformance"
ORDER = (
    "unsupported",
    "isolation",
    "transaction",
    "supported",
    "index",
    "types",
    "enum",
    "environment",
    "occ",
    "queries",
    "alters",
    "backlog",
    "occ_conflict",
    "multi_statement",
)
"""The recording's order, as far as state matters (later cases see earlier cases' rows)."""
IDENTITY = SigningIdentity("AKIDCONFORMANCE", "conformance-secret")
BLOCKED_S = 0.5
"""How long the replay waits for a step before moving on to the other session (a safety net:
the guard lets no statement wait on a lock for longer than 100 ms)."""


@dataclass(frozen=True)
class Outcome:
    """What one statement answered."""

    ok: bool
    tag: str = ""
    sqlstate: str = ""
    message: str = ""

    def __str__(self) -> str:
        return f"= {self.tag}" if self.ok else f"! {self.sqlstate} {self.message}"


@dataclass(frozen=True)
class Step:
    session: int
    sql: str
    expected: Outcome


@dataclass
class Case:
    group: str
    name: str
    steps: list[Step] = field(default_factory=list)
    simple: bool = False
    race: bool = False
    diverges: str = ""
    note: str = ""
    gap: str = ""

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"


class CaseFormatError(ValueError):
    """A line of a .cases file that is not in the format (see the folder's README)."""


def _outcome(text: str) -> Outcome:
    if text.startswith("= "):
        return Outcome(True, tag=text[2:].strip())
    if text.startswith("! "):
        sqlstate, _, message = text[2:].partition(" ")
        return Outcome(False, sqlstate=sqlstate, message=message)
    raise CaseFormatError(text)


def parse_cases(path: Path) -> list[Case]:
    """Read one group's cases; any line out of format raises, naming file and line."""
    group = path.stem
    cases: list[Case] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        where = f"{path.name}:{number}"
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "case":
            if pending is not None:
                raise CaseFormatError(f"{where}: the step before has no outcome")
            cases.append(Case(group, rest.strip()))
            continue
        if not cases:
            raise CaseFormatError(f"{where}: {line!r} before the first case")
        case = cases[-1]
        session = int(line[0]) if line[0] in "12" and line[1:2] in "><=!" else 1
        body = line[1:] if line[0] in "12" and line[1:2] in "><=!" else line
        if body.startswith(">"):
            if pending is not None:
                raise CaseFormatError(f"{where}: two steps in a row")
            pending = (session, body[1:].strip())
        elif body[:1] in "=!":
            if pending is None or pending[0] != session:
                raise CaseFormatError(f"{where}: an outcome with no step before it")
            case.steps.append(Step(pending[0], pending[1], _outcome(body)))
            pending = None
        elif word == "simple" and not rest:
            case.simple = True
        elif word == "race" and not rest:
            case.race = True
        elif word in ("note", "gap", "diverges") and rest:
            setattr(case, word, rest.strip())
        else:
            raise CaseFormatError(f"{where}: unknown line {line!r}")
    if pending is not None:
        raise CaseFormatError(f"{path.name}: the last step has no outcome")
    return cases


def all_cases() -> list[Case]:
    files = {p.stem for p in DATA.glob("*.cases")}
    if files != set(ORDER):
        raise CaseFormatError(f"case files {sorted(files)} differ from ORDER {sorted(ORDER)}")
    return [case for group in ORDER for case in parse_cases(DATA / f"{group}.cases")]


CASES = all_cases()


# -- the replay ---------------------------------------------------------------------------------


def _run(conn: psycopg.Connection, sql: str, *, simple: bool) -> Outcome:
    try:
        if simple:
            cursor: psycopg.Cursor = psycopg.ClientCursor(conn)
            cursor.execute(sql)
            tags = [cursor.statusmessage or ""]
            while cursor.nextset():
                tags.append(cursor.statusmessage or "")
            return Outcome(True, tag=" | ".join(tags))
        cursor = conn.cursor()
        cursor.execute(sql, binary=True)  # binary results: the extended protocol, as recorded
        return Outcome(True, tag=cursor.statusmessage or "")
    except psycopg.Error as exc:
        return Outcome(False, sqlstate=exc.sqlstate or "", message=exc.diag.message_primary or "")


def _replay(dsql: DsqlLocal, case: Case) -> list[Outcome]:
    sessions = {step.session for step in case.steps}
    conns = {
        s: psycopg.connect(dsql.conninfo(password=dsql.token()), autocommit=True) for s in sessions
    }
    try:
        if len(sessions) == 1:
            conn = conns[case.steps[0].session]
            return [_run(conn, step.sql, simple=case.simple) for step in case.steps]
        return _replay_sessions(case, conns)
    finally:
        for conn in conns.values():
            conn.close()


def _replay_sessions(case: Case, conns: dict[int, psycopg.Connection]) -> list[Outcome]:
    """Sessions side by side: each step in turn; a step still running is waited for only
    before its session's next step, so a lock wait cannot hang the replay."""
    pools = {s: concurrent.futures.ThreadPoolExecutor(1) for s in conns}
    pending: dict[int, concurrent.futures.Future[Outcome]] = {}
    futures: list[concurrent.futures.Future[Outcome]] = []
    try:
        for step in case.steps:
            previous = pending.get(step.session)
            if previous is not None:
                previous.result(timeout=30)
            future = pools[step.session].submit(
                _run, conns[step.session], step.sql, simple=case.simple
            )
            pending[step.session] = future
            futures.append(future)
            with contextlib.suppress(concurrent.futures.TimeoutError):
                future.result(timeout=BLOCKED_S)
        return [future.result(timeout=30) for future in futures]
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True)


def _setup(dsql: DsqlLocal) -> None:
    statements = [
        line
        for line in (DATA / "setup.sql").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("--")
    ]
    with psycopg.connect(dsql.conninfo(password=dsql.token()), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.rstrip(";").encode())  # one statement each, as DSQL wants


@dataclass(frozen=True)
class Replay:
    outcomes: dict[str, list[Outcome]]
    seconds: float


@pytest.fixture(scope="module")
def replay() -> Iterator[Replay]:
    """Every case, once, in order, against one fresh local DSQL."""
    with DsqlLocal(identity=IDENTITY) as dsql:
        _setup(dsql)
        started = time.perf_counter()
        outcomes = {case.id: _replay(dsql, case) for case in CASES}
        yield Replay(outcomes, time.perf_counter() - started)


def _matches(case: Case, actual: list[Outcome]) -> bool:
    expected = [step.expected for step in case.steps]
    if not case.race:
        return actual == expected
    # A race (the source's rule): which session loses does not matter; as many must lose, with
    # the same error, at the step where the conflict surfaces (a COMMIT).
    differ = [
        at for at, (got, want) in enumerate(zip(actual, expected, strict=True)) if got != want
    ]
    if any(case.steps[at].sql.upper() != "COMMIT" for at in differ):
        return False
    return Counter(str(actual[at]) for at in differ) == Counter(str(expected[at]) for at in differ)


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(reason=case.diverges, strict=True)] if case.diverges else []
    return pytest.param(case, id=case.id, marks=marks)


class TestCaseFiles:
    def test_there_are_242_cases_in_14_groups(self) -> None:
        assert len(CASES) == 242
        assert len({case.group for case in CASES}) == 14

    def test_case_names_are_unique(self) -> None:
        ids = [case.id for case in CASES]
        assert len(ids) == len(set(ids))

    def test_a_line_out_of_format_is_an_error(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.cases"
        bad.write_text("case x\n> SELECT 1\n= SELECT 1\nsimpel\n", encoding="utf-8")
        with pytest.raises(CaseFormatError, match=r"bad.cases:4: unknown line 'simpel'"):
            parse_cases(bad)

    def test_a_step_without_an_outcome_is_an_error(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.cases"
        bad.write_text("case x\n> SELECT 1\n> SELECT 2\n= SELECT 1\n", encoding="utf-8")
        with pytest.raises(CaseFormatError, match="two steps in a row"):
            parse_cases(bad)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_answers_as_recorded(case: Case, replay: Replay) -> None:
    actual = replay.outcomes[case.id]
    if not _matches(case, actual):
        lines = [
            f"  {step.session}> {step.sql}\n     recorded {step.expected}\n     answered {got}"
            for step, got in zip(case.steps, actual, strict=True)
        ]
        pytest.fail(f"{case.id} differs:\n" + "\n".join(lines), pytrace=False)
