"""DSQL's job log (``sys.jobs``), written by the guard on a connection of its own.

The guard runs every ``ASYNC`` statement at once and logs it here as a completed job, with an
id shaped like DSQL's. The connection is the server's superuser's, separate from every
client's, so clients can read ``sys.jobs`` but not write it.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo

__all__ = ["ServerJobLog", "job_id"]

_RECORD_JOB = """
INSERT INTO sys.jobs (job_id, status, job_type, class_id, object_name, start_time, update_time)
VALUES (%s, 'completed', %s, 1259, %s, now(), now())
"""


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

    async def record_job(self, job_type: str, object_name: str | None) -> str:
        """Log a finished job; its id."""
        import psycopg

        new_id = job_id()
        async with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            await self._conn.execute(_RECORD_JOB, (new_id, job_type, object_name))
        return new_id

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None
