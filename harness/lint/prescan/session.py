"""Transaction control and session statements: BEGIN/COMMIT/ROLLBACK, SET, SAVEPOINT,
LISTEN, cursors, PREPARE, VACUUM… — each decided from its first words."""

from __future__ import annotations

import re
from collections.abc import Callable

from harness.lint import analysis as A
from harness.lint.analysis import Analysis

_ISOLATION = re.compile(r"\bISOLATION\s+LEVEL\s+(\w+(?:\s+(?:READ|COMMITTED|UNCOMMITTED))?)", re.I)

SETTABLE = frozenset(
    {
        "application_name",
        "client_encoding",
        "datestyle",
        "extra_float_digits",
        "intervalstyle",
        "timezone",
        "search_path",
        "role",
        "disable_sync_create_index",
    }
)
"""Parameters Aurora DSQL lets a session set (SET, set_config, startup options), besides any
``enable_*``: the ``ALLOWED_SET_PARAMS`` of AWS's own pgdump-proxy in awslabs/aurora-dsql-tools
(snapshot 104908e), which records DSQL answering "not supported" to the rest; the recordings
of a real cluster (S23) agree (``default_transaction_isolation``). The one list: the linter
(DSQL114) and the local DSQL's guard both read it."""

_SET_CONFIG = re.compile(r"\bset_config\s*\(\s*'((?:[^']|'')*)'", re.I)


def settable(name: str) -> bool:
    """Whether Aurora DSQL lets a session set parameter ``name``."""
    name = name.lower()
    return name in SETTABLE or name.rsplit(".", 1)[-1].startswith("enable_")


def set_config_hits(text: str, a: Analysis) -> None:
    """``set_config('<name>', …)`` calls for parameters DSQL does not let a session set."""
    for match in _SET_CONFIG.finditer(text):
        name = match.group(1).replace("''", "'")
        if not settable(name):
            a.hit("DSQL114", f"{name} cannot be set on DSQL", re.escape(match.group(0)))


def transaction(plain: str, w: list[str], a: Analysis) -> Analysis:
    first = w[0]
    if first in ("COMMIT", "END") or (first == "COMMIT" and "PREPARED" in w):
        a.category = A.COMMIT
        return a
    if first in ("ROLLBACK", "ABORT"):
        if "TO" in w[1:3]:
            a.hit("DSQL096", "ROLLBACK TO SAVEPOINT is not supported", r"\bTO\b")
            return a
        a.category = A.ROLLBACK
        return a
    a.category = A.BEGIN  # BEGIN / START TRANSACTION
    iso = _ISOLATION.search(plain)
    if iso and " ".join(iso.group(1).upper().split()) != "REPEATABLE READ":
        a.hit("DSQL092", f"isolation level {iso.group(1).upper()} is not supported", "ISOLATION")
    return a


def _set(plain: str, w: list[str], a: Analysis) -> Analysis:
    rest = [x for x in w[1:4] if x not in ("SESSION", "LOCAL")]
    if rest[:1] == ["TRANSACTION"] or rest[:2] == ["CHARACTERISTICS", "AS"]:
        a.hit("DSQL093", "SET TRANSACTION is not supported", r"\bTRANSACTION\b")
    elif rest[:1] and rest[0] in ("DEFAULT_TRANSACTION_ISOLATION", "TRANSACTION_ISOLATION"):
        a.hit("DSQL094", f"{rest[0].lower()} cannot be set", re.escape(rest[0]))
    elif rest[:2] == ["TIME", "ZONE"] or rest[:1] in (["ROLE"], ["CONSTRAINTS"]):
        pass  # SET TIME ZONE spells timezone, SET ROLE sets role; SET CONSTRAINTS is no setting
    elif rest[:1]:
        name = _parameter(plain)
        if name is not None and not settable(name):
            a.hit("DSQL114", f"{name} cannot be set on DSQL", re.escape(name))
    return a


_PARAMETER = re.compile(
    r"^\s*SET\s+(?:(?:SESSION|LOCAL)\s+)?((?:\"[^\"]+\"|[A-Za-z_][\w$]*)(?:\.[A-Za-z_][\w$]*)?)",
    re.I,
)


def _parameter(plain: str) -> str | None:
    """The parameter a ``SET`` names, as written (``SESSION AUTHORIZATION`` is two words)."""
    match = _PARAMETER.match(plain)
    if match is None:
        return None
    name = match.group(1).strip('"')
    if name.upper() == "AUTHORIZATION":  # SET SESSION AUTHORIZATION …
        return "session_authorization"
    return name


def _simple(rule: str, message: str, category: str = A.SESSION) -> Callable[..., Analysis]:
    def classify(plain: str, w: list[str], a: Analysis) -> Analysis:
        a.category = category
        a.hit(rule, message)
        return a

    return classify


def _show(plain: str, w: list[str], a: Analysis) -> Analysis:
    if len(w) > 1 and w[1] in ("LC_COLLATE", "LC_CTYPE"):
        a.hit("DSQL112", f"SHOW {w[1].lower()} fails on DSQL")
    return a


def _deallocate(plain: str, w: list[str], a: Analysis) -> Analysis:
    if "ALL" not in w[1:3]:
        a.hit("DSQL103", "DEALLOCATE of a named statement is not supported")
    return a


def _call(plain: str, w: list[str], a: Analysis) -> Analysis:
    if not (len(w) > 2 and w[1] == "SYS" and w[2] == "."):
        a.hit("DSQL064", "CALL of a procedure; procedures are not supported")
    return a


BY_FIRST: dict[str, Callable[[str, list[str], Analysis], Analysis]] = {
    "SAVEPOINT": _simple("DSQL096", "SAVEPOINT is not supported"),
    "RELEASE": _simple("DSQL096", "RELEASE SAVEPOINT is not supported"),
    "LISTEN": _simple("DSQL101", "LISTEN is not supported"),
    "NOTIFY": _simple("DSQL101", "NOTIFY is not supported"),
    "UNLISTEN": _simple("DSQL101", "UNLISTEN is not supported"),
    "DISCARD": _simple("DSQL104", "DISCARD is not supported"),
    "DECLARE": _simple("DSQL102", "cursors are not supported", A.QUERY),
    "FETCH": _simple("DSQL102", "cursors are not supported", A.QUERY),
    "MOVE": _simple("DSQL102", "cursors are not supported", A.QUERY),
    "CLOSE": _simple("DSQL102", "cursors are not supported", A.QUERY),
    "PREPARE": _simple("DSQL103", "SQL-level PREPARE is not supported"),
    "EXECUTE": _simple("DSQL103", "SQL-level EXECUTE is not supported"),
    "LOCK": _simple("DSQL099", "LOCK TABLE is not supported"),
    "VACUUM": _simple("DSQL106", "VACUUM is not supported"),
    "REINDEX": _simple("DSQL058", "REINDEX is not supported", A.DDL),
    "CLUSTER": _simple("DSQL058", "CLUSTER is not supported", A.DDL),
    "DO": _simple("DSQL065", "DO blocks (PL/pgSQL) are not supported"),
    "LOAD": _simple("DSQL067", "LOAD (of an extension library) is not supported"),
    "TRUNCATE": _simple("DSQL105", "TRUNCATE is not supported", A.DDL),
    "REFRESH": _simple("DSQL062", "materialized views are not supported", A.DDL),
    "IMPORT": _simple("DSQL012", "IMPORT FOREIGN SCHEMA is not supported", A.DDL),
    "PRAGMA": _simple("DSQL130", "PRAGMA is SQLite-only"),
    "ATTACH": _simple("DSQL011", "ATTACH DATABASE: DSQL has one database"),
    "DETACH": _simple("DSQL011", "DETACH DATABASE: DSQL has one database"),
    "SHOW": _show,
    "DEALLOCATE": _deallocate,
    "CALL": _call,
    "SET": _set,
    "RESET": lambda plain, w, a: a,
    "ANALYZE": lambda plain, w, a: a,
    "CHECKPOINT": lambda plain, w, a: a,
}
