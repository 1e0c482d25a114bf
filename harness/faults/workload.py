"""No lost writes: acknowledged inserts and updates through the fault proxy under resets and
conflicts, then an exact account of what reached the database.

Each write carries a unique request id. Its transaction first records the id in a journal
table (``INSERT … ON CONFLICT DO NOTHING``); when a retry finds the id already there, the
earlier attempt committed but its answer was lost (an *ambiguous commit*), so the retry
acknowledges without writing again. Updates go to a few hot rows from several workers at
once under REPEATABLE READ, so genuine ``40001`` serialization failures happen and are
answered by re-running the whole transaction (:class:`harness.faults.db.Session`).

Duplicates stay measurable: the data tables have no unique constraint on the request id, so
a write applied twice shows up as two rows, and :func:`verify` counts it. ``idempotent=False``
skips the journal, which is how a test proves the check can catch duplication.

The workload writes only into the database its caller created for it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from harness.endpoints.retry import Backoff, ErrorClass
from harness.faults.db import RetryLog, Session
from harness.faults.proxy import FaultProxy

__all__ = ["Figures", "WorkloadSettings", "prepare", "run_workload", "verify"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS wl_requests (
    request_id text PRIMARY KEY,
    kind text NOT NULL
);
CREATE TABLE IF NOT EXISTS wl_items (
    id bigserial PRIMARY KEY,
    request_id text NOT NULL,
    value bigint NOT NULL DEFAULT 0,
    updates integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS wl_updates (
    request_id text NOT NULL,
    item_id bigint NOT NULL,
    delta integer NOT NULL
);
"""

WORKLOAD_POLICY = Backoff(initial=0.005, multiplier=2.0, cap=0.2, attempts=12)
"""Short waits: the faults here are brief, and a few hundred writes must finish in seconds."""

Hook = Callable[[str, int], None]
"""Called as ``hook(request_id, attempt)`` inside a write's transaction, just before COMMIT."""


@dataclass(frozen=True)
class WorkloadSettings:
    """How much to write and how hard to shake the connection meanwhile."""

    writes: int = 400
    workers: int = 4
    update_share: float = 0.5
    """Share of writes that update an already acknowledged row (the rest insert)."""
    hot_rows: int = 3
    """Updates go to the first few acknowledged rows, so concurrent transactions collide."""
    reset_every_s: tuple[float, float] = (0.05, 0.15)
    """Every open link through the proxy gets an RST at intervals drawn from this range;
    (0, 0) injects no resets."""
    seed: int = 0
    policy: Backoff = WORKLOAD_POLICY
    max_seconds: float = 60.0
    """No new write starts after this; the run is bounded whatever the faults do."""


@dataclass(frozen=True)
class Write:
    """One requested write and what the client was told."""

    request_id: str
    kind: str  # insert | update
    item_id: int | None
    delta: int
    acknowledged: bool
    attempts: int
    deduplicated: bool
    """A retry found the write already committed (its first commit answer was lost)."""
    error_class: str | None = None


@dataclass(frozen=True)
class Figures:
    """The account of a run: what was asked, what was acknowledged, what is there."""

    attempted: int
    acknowledged: int
    failed: int
    """Writes that ended in an error (never counted as written)."""
    retried: int
    """Attempts that failed and were tried again, over all writes."""
    conflicts: int
    """Attempts that failed with SQLSTATE 40001 (serialization failure)."""
    connection_errors: int
    ambiguous_commits: int
    """Retries that found their write already committed, and did not write it again."""
    resets_injected: int
    lost: int
    duplicated: int
    applied_unacknowledged: int
    """Rows from writes whose client gave up (present, but not counted as acknowledged)."""
    inconsistent_rows: int
    seconds: float
    lost_ids: list[str] = field(default_factory=list)
    duplicated_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["lost_ids"] = data["lost_ids"][:10]
        data["duplicated_ids"] = data["duplicated_ids"][:10]
        return data


def prepare(conninfo: str, *, password: str | None = None) -> None:
    """Create the workload's tables in the caller's own (harness-created) database."""
    with psycopg.connect(conninfo, password=password, autocommit=True) as conn:
        conn.execute(SCHEMA)


class _Shared:
    """Acknowledged insert ids, shared by the workers (updates pick from the first few)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[int] = []

    def add(self, item_id: int) -> None:
        with self.lock:
            self.rows.append(item_id)

    def pick(self, rng: random.Random, hot: int) -> int | None:
        with self.lock:
            choices = self.rows[:hot]
        return rng.choice(choices) if choices else None


def run_workload(
    connect: Callable[[], psycopg.Connection[Any]],
    *,
    settings: WorkloadSettings = WorkloadSettings(),
    proxy: FaultProxy | None = None,
    idempotent: bool = True,
    before_commit: Hook | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[Write], list[RetryLog]]:
    """Run the writes from ``settings.workers`` threads, each with its own session.

    ``connect`` opens a connection (through ``proxy``, whose open links get RSTs while the
    workload runs). Returns every write's record and each worker's retry log.
    """
    shared = _Shared()
    deadline = time.monotonic() + settings.max_seconds
    stop = threading.Event()
    writes: list[list[Write]] = [[] for _ in range(settings.workers)]
    logs = [RetryLog(sleep=sleep) for _ in range(settings.workers)]
    errors: list[BaseException] = []
    per_worker = [
        settings.writes // settings.workers + (w < settings.writes % settings.workers)
        for w in range(settings.workers)
    ]

    def worker(number: int) -> None:
        rng = random.Random(f"{settings.seed}-{number}")
        logs[number].rand = rng.random
        session = Session(connect, policy=settings.policy, endpoint=f"workload-{number}",
                          log=logs[number])  # fmt: skip
        try:
            for index in range(per_worker[number]):
                if time.monotonic() > deadline:
                    break
                request_id = f"w{settings.seed}-{number}-{index}"
                target = shared.pick(rng, settings.hot_rows)
                is_update = target is not None and rng.random() < settings.update_share
                delta = rng.randint(1, 9)
                write = _one_write(
                    session,
                    request_id,
                    "update" if is_update else "insert",
                    target if is_update else None,
                    delta,
                    idempotent=idempotent,
                    before_commit=before_commit,
                )
                writes[number].append(write)
                if write.acknowledged and write.kind == "insert" and write.item_id is not None:
                    shared.add(write.item_id)
        except BaseException as exc:  # a bug in the workload itself: surface it, do not hang
            errors.append(exc)
        finally:
            session.close()

    def chaos() -> None:
        rng = random.Random(f"{settings.seed}-chaos")
        low, high = settings.reset_every_s
        while proxy is not None and high > 0 and not stop.wait(rng.uniform(low, high)):
            if time.monotonic() > deadline + settings.max_seconds:
                return
            proxy.reset_links()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(settings.workers)]
    shaker = threading.Thread(target=chaos, daemon=True)
    shaker.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(settings.max_seconds * 2)
    stop.set()
    shaker.join(5)
    if errors:
        raise errors[0]
    return [w for chunk in writes for w in chunk], logs


def _one_write(
    session: Session,
    request_id: str,
    kind: str,
    item_id: int | None,
    delta: int,
    *,
    idempotent: bool,
    before_commit: Hook | None,
) -> Write:
    """One write as a retried whole transaction; returns what the client was told."""
    seen = {"attempts": 0, "dedup": False}

    def body(conn: psycopg.Connection[Any], attempt: int) -> int:
        seen["attempts"] = attempt
        if idempotent:
            fresh = conn.execute(
                "INSERT INTO wl_requests (request_id, kind) VALUES (%s, %s)"
                " ON CONFLICT (request_id) DO NOTHING RETURNING 1",
                (request_id, kind),
            ).fetchone()
            if fresh is None:  # committed by an earlier attempt whose answer was lost
                seen["dedup"] = True
                return _applied_item(conn, request_id, kind)
        if kind == "insert":
            row = conn.execute(
                "INSERT INTO wl_items (request_id) VALUES (%s) RETURNING id", (request_id,)
            ).fetchone()
            assert row is not None
            written = int(row[0])
        else:
            assert item_id is not None
            conn.execute(
                "UPDATE wl_items SET value = value + %s, updates = updates + 1 WHERE id = %s",
                (delta, item_id),
            )
            conn.execute(
                "INSERT INTO wl_updates (request_id, item_id, delta) VALUES (%s, %s, %s)",
                (request_id, item_id, delta),
            )
            written = item_id
        if before_commit is not None:
            before_commit(request_id, attempt)
        return written

    start = len(session.log.attempts)
    try:
        written = session.transaction(body)
    except psycopg.Error:
        failed = session.log.since(start)
        return Write(
            request_id,
            kind,
            item_id,
            delta,
            acknowledged=False,
            attempts=len(failed),
            deduplicated=False,
            error_class=failed[-1].error_class if failed else None,
        )
    return Write(
        request_id,
        kind,
        written,
        delta,
        acknowledged=True,
        attempts=len(session.log.since(start)),
        deduplicated=bool(seen["dedup"]),
    )


def _applied_item(conn: psycopg.Connection[Any], request_id: str, kind: str) -> int:
    query = (
        "SELECT id FROM wl_items WHERE request_id = %s"
        if kind == "insert"
        else "SELECT item_id FROM wl_updates WHERE request_id = %s"
    )
    row = conn.execute(query, (request_id,)).fetchone()
    assert row is not None, f"journal has {request_id} but its write is missing"
    return int(row[0])


def verify(
    conninfo: str,
    writes: list[Write],
    logs: list[RetryLog],
    *,
    password: str | None = None,
    resets_injected: int = 0,
    seconds: float = 0.0,
) -> Figures:
    """Account for every write against what the database holds (read directly, no proxy)."""
    with psycopg.connect(conninfo, password=password, autocommit=True) as conn:
        items = {
            rid: (count, set(ids))
            for rid, count, ids in conn.execute(
                "SELECT request_id, count(*), array_agg(id) FROM wl_items GROUP BY request_id"
            )
        }
        updates = {
            rid: count
            for rid, count in conn.execute(
                "SELECT request_id, count(*) FROM wl_updates GROUP BY request_id"
            )
        }
        (inconsistent,) = conn.execute(
            "SELECT count(*) FROM wl_items i LEFT JOIN (SELECT item_id, sum(delta) AS total,"
            " count(*) AS n FROM wl_updates GROUP BY item_id) u ON u.item_id = i.id"
            " WHERE i.value <> coalesce(u.total, 0) OR i.updates <> coalesce(u.n, 0)"
        ).fetchone() or (0,)
    acked = [w for w in writes if w.acknowledged]
    lost: list[str] = []
    for w in acked:
        if w.kind == "insert":
            found = items.get(w.request_id)
            if found is None or w.item_id not in found[1]:  # missing, or not the id we got
                lost.append(w.request_id)
        elif w.request_id not in updates:
            lost.append(w.request_id)
    duplicated = sorted(
        [rid for rid, (count, _) in items.items() if count > 1]
        + [rid for rid, count in updates.items() if count > 1]
    )
    acked_ids = {w.request_id for w in acked}
    present = set(items) | set(updates)
    attempts = [a for log in logs for a in log.attempts]
    return Figures(
        attempted=len(writes),
        acknowledged=len(acked),
        failed=len(writes) - len(acked),
        retried=sum(a.outcome == "retry" for a in attempts),
        conflicts=sum(a.error_class == ErrorClass.CONFLICT.value for a in attempts),
        connection_errors=sum(a.error_class == ErrorClass.CONNECTION.value for a in attempts),
        ambiguous_commits=sum(w.deduplicated for w in writes),
        resets_injected=resets_injected,
        lost=len(lost),
        duplicated=len(duplicated),
        applied_unacknowledged=len(present - acked_ids),
        inconsistent_rows=int(inconsistent),
        seconds=round(seconds, 3),
        lost_ids=lost,
        duplicated_ids=duplicated,
    )
