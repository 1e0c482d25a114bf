"""DSQL's job log (``sys.jobs``), written by the guard on a connection of its own.

The guard logs every ``ASYNC`` statement here as a job with an id shaped like DSQL's. An
index built by ``CREATE INDEX ASYNC`` outside a transaction block is marked invalid
(``pg_index.indisvalid``, as PostgreSQL's own concurrent builds leave an index until they
finish) and its job ``submitted``; the job ends a few seconds later, or at once when a client
calls ``sys.wait_for_job`` — so, as on DSQL, an index is not usable (nor adoptable by
``UNIQUE USING INDEX``: ``55000``) right after the statement returns. The connection is the
server's superuser's, separate from every client's, so clients can read ``sys.jobs`` but not
write it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo

__all__ = ["BUILD_SECONDS", "ServerJobLog", "job_id"]

BUILD_SECONDS = 2.0
"""How long an asynchronous index build takes here (DSQL's take seconds to minutes)."""

_RECORD_JOB = """
INSERT INTO sys.jobs (job_id, status, job_type, class_id, object_name, start_time, update_time)
VALUES (%(id)s, %(status)s, %(type)s, 1259, %(name)s, now(),
        CASE WHEN %(status)s = 'completed' THEN now() END)
"""
_INVALIDATE = (
    "UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass(%s)"
    " AND indisvalid RETURNING 1"
)
_FINISH = [
    "UPDATE pg_index SET indisvalid = true WHERE indexrelid = to_regclass(%(name)s)",
    "UPDATE sys.jobs SET status = 'completed', update_time = now()"
    " WHERE job_id = %(id)s AND status = 'submitted'",
]


def job_id() -> str:
    """A job id shaped like DSQL's: 16 random bytes in lowercase unpadded base32 (26 letters
    and digits 2-7, as every id in the recordings is)."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


class ServerJobLog:
    """Writes ``sys.jobs`` rows (superuser, trust, unix socket; one connection, shared)."""

    def __init__(self, socket_dir: Path, port: int, database: str, user: str = "postgres"):
        self._conninfo = make_conninfo(
            "", host=str(socket_dir), port=port, dbname=database, user=user
        )
        self._conn: Any = None
        self._lock = asyncio.Lock()
        self._running: dict[str, tuple[str, asyncio.TimerHandle]] = {}

    async def _execute(self, sql: str, params: dict[str, Any] | tuple[Any, ...]) -> Any:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        return await self._conn.execute(sql, params)

    async def record_job(self, job_type: str, object_name: str | None, *, building: bool) -> str:
        """Log a job; its id. A ``building`` index stays invalid until the job ends."""
        new_id = job_id()
        async with self._lock:
            running = False
            if building and object_name is not None:
                cursor = await self._execute(_INVALIDATE, (object_name,))
                running = await cursor.fetchone() is not None
            status = "submitted" if running else "completed"
            values = {"id": new_id, "status": status, "type": job_type, "name": object_name}
            await self._execute(_RECORD_JOB, values)
        if running and object_name is not None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(BUILD_SECONDS, self._finish_later, new_id)
            self._running[new_id] = (object_name, timer)
        return new_id

    def _finish_later(self, job: str) -> None:
        task = asyncio.get_running_loop().create_task(self.finish(job))
        task.add_done_callback(lambda done: done.exception())  # nothing to report it to

    async def finish(self, job: str) -> None:
        """End a running job: its index becomes valid, its status ``completed``."""
        entry = self._running.pop(job, None)
        if entry is None:
            return
        name, timer = entry
        timer.cancel()
        async with self._lock:
            for sql in _FINISH:
                await self._execute(sql, {"name": name, "id": job})

    async def finish_all(self) -> None:
        for job in list(self._running):
            await self.finish(job)

    async def close(self) -> None:
        for _, timer in self._running.values():
            timer.cancel()
        self._running.clear()
        async with self._lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.close()
                self._conn = None
