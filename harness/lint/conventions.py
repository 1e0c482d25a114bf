"""Migration tools that run each migration file in one transaction, recognised by layout.

A migration file with two DDL statements, or DDL next to DML, fails on Aurora DSQL when the
tool that applies it wraps the file in one transaction (DSQL090/DSQL091) — and most do by
default. A bare ``.sql`` file says nothing about how it will run, so the linter assumes
autocommit unless told (``--assume-in-transaction``); for the layouts below it applies the
tool's own convention instead, and its findings say which convention it assumed
(docs/lint.md lists them).
"""

from __future__ import annotations

import re
from pathlib import Path

_FLYWAY = re.compile(r"V\d+(?:[._]\d+)*__.+\.sql", re.IGNORECASE)
_GOLANG_MIGRATE = re.compile(r"\d+_.+\.(?:up|down)\.sql", re.IGNORECASE)
_NO_TRANSACTION = re.compile(r"^\s*executeInTransaction\s*=\s*false\s*$", re.M | re.I)
_DBMATE_UP = re.compile(r"^\s*--\s*migrate:up\b(?P<options>.*)$", re.MULTILINE)

CONVENTIONS = (
    ("Prisma", "prisma/migrations/<timestamp>_<name>/migration.sql (migration_lock.toml "
     "beside the folders)", "each migration.sql runs in one transaction"),
    ("Flyway", "V<version>__<description>.sql", "each versioned migration runs in one "
     "transaction by default (a `V….sql.conf` with `executeInTransaction=false` turns it "
     "off)"),
    ("golang-migrate", "<version>_<name>.up.sql / .down.sql", "each file is sent as one "
     "multi-statement query: one implicit transaction"),
    ("dbmate", "a file with a `-- migrate:up` section", "each migration runs in one "
     "transaction unless the section says `transaction:false`"),
)  # fmt: skip
"""(tool, layout, what it does): the documented list."""


def transaction_convention(path: Path, text: str) -> str | None:
    """The tool convention that runs ``path`` in one transaction, as a phrase for findings
    ("Prisma: each migration.sql runs in one transaction"), or None: autocommit assumed."""
    for tool, _, does in CONVENTIONS:
        if _applies(tool, path, text):
            return f"{tool}: {does}"
    return None


def _applies(tool: str, path: Path, text: str) -> bool:
    if tool == "Prisma":
        folders = path.parent.parent
        return path.name == "migration.sql" and (
            (folders / "migration_lock.toml").exists() or folders.name == "migrations"
        )
    if tool == "Flyway":  # a script's own .conf may turn the transaction off
        conf = path.with_name(path.name + ".conf")
        off = conf.is_file() and _NO_TRANSACTION.search(conf.read_text(errors="replace"))
        return _FLYWAY.fullmatch(path.name) is not None and not off
    if tool == "golang-migrate":
        return _GOLANG_MIGRATE.fullmatch(path.name) is not None
    up = _DBMATE_UP.search(text)
    return up is not None and "transaction:false" not in up["options"].replace(" ", "")
