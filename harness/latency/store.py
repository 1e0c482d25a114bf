"""One timing per query for the whole run, and never two timings at once.

A query's ``p95`` and ``ratio`` items must judge the same samples, and no timing may overlap
another (two queries timed at the same moment inflate each other's figures). Scheduling used to
promise both: every latency item carries ``xdist_group("latency")`` and ``cutover verify``
distributes by group, so one worker timed them one after another. Scheduling cannot keep that
promise: under pytest 9.2 pytest-xdist 3.8 silently stops grouping (``--dist loadgroup``
rewrites ``item._nodeid``, which pytest 9.2 no longer reads; pytest-xdist#1386), and any other
distribution, a plain ``pytest -n`` or a team's own scheduler, splits the items anyway. So the
store keeps the promise itself, whichever process each item lands on:

- a process that is the whole run (no xdist) keeps the timings in memory;
- the workers of one run share a folder (:meth:`TimingStore.for_run`) holding one lock file and
  one record file. Holding the lock, a worker reads the query's record, or measures the query and
  adds its record; the others wait, then read it. Every latency timing (the connect and health
  checks' too) is taken under that one lock, so no two overlap.

Records are plain JSON (a float's ``repr`` reads back as the same float) and the record file is
replaced by an atomic rename, so a worker that dies while writing leaves the previous file whole.
A measurement that raises records nothing: the next item to need the query measures it again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from harness.latency.timing import Timing

if TYPE_CHECKING:
    import pytest

Measured = dict[str, Timing] | str
"""Each side's timing of one query by role, or why the query could not be timed."""

LOCK_NAME = "timings.lock"
RECORDS_NAME = "timings.json"


class TimingStore:
    """The run's query timings, each measured once by whichever process needs it first."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        """The folder the run's processes share; None when this process is the whole run."""
        self._seen: dict[str, Measured] = {}
        self._lock = None if folder is None else FileLock(str(folder / LOCK_NAME))

    @classmethod
    def for_run(cls, config: pytest.Config) -> TimingStore:
        """The store of the run ``config`` belongs to.

        An xdist worker shares ``cutover-timings-<testrunuid>`` with the other workers of its run:
        in the controller's base temporary folder, which holds each worker's own (the xdist
        how-to's ``getbasetemp().parent``, left to pytest's retention of old base folders), or in
        the system's temporary folder when the workers were given none.
        """
        workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        if workerinput is None:
            return cls()
        basetemp = config.getoption("basetemp")
        parent = Path(basetemp).parent if basetemp else Path(tempfile.gettempdir())
        return cls(parent / f"cutover-timings-{workerinput['testrunuid']}")

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the run's timing lock: no other process of the run times anything meanwhile."""
        if self.folder is None or self._lock is None:
            yield
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            yield

    def get(self, name: str, measure: Callable[[], Measured]) -> Measured:
        """Query ``name``'s timings: recorded by this run already, or ``measure()``d now."""
        if name not in self._seen:
            self._seen[name] = measure() if self.folder is None else self._shared(name, measure)
        return self._seen[name]

    def _shared(self, name: str, measure: Callable[[], Measured]) -> Measured:
        assert self.folder is not None
        path = self.folder / RECORDS_NAME
        with self.exclusive():
            records = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            if name not in records:
                records[name] = _to_record(measure())
                partial = path.with_name(f"{RECORDS_NAME}.{os.getpid()}.partial")
                partial.write_text(json.dumps(records), encoding="utf-8")
                partial.replace(path)
        # Through the record even in the process that measured: all judge the same values.
        return _from_record(records[name])


def _to_record(measured: Measured) -> dict[str, Any]:
    if isinstance(measured, str):
        return {"error": measured}
    return {"sides": {role: dataclasses.asdict(t) for role, t in measured.items()}}


def _from_record(record: dict[str, Any]) -> Measured:
    if "error" in record:
        return str(record["error"])
    return {role: Timing(**fields) for role, fields in record["sides"].items()}
