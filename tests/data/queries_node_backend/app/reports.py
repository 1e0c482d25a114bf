"""Reports the admin app renders (psycopg)."""

from __future__ import annotations

import psycopg


def top_repositories(conn: psycopg.Connection, language: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT r.name, r.stars FROM repositories r JOIN languages l ON l.id = r.language_id"
            " WHERE l.name = %(language)s ORDER BY r.stars DESC, r.name",
            {"language": language},
        )
        return cur.fetchall()


def names_like(conn: psycopg.Connection, prefix: str) -> list[tuple]:
    return conn.execute(
        "SELECT name FROM repositories WHERE name LIKE %s || '%%' ORDER BY name", (prefix,)
    ).fetchall()
