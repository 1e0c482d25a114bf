"""Keep secrets out of everything a person or a file will see.

Every DSN the harness shows goes through :func:`redact_dsn`; every message built from a
driver error goes through :func:`scrub`, which removes known secret values and anything that
looks like a password in a connection string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import psycopg.conninfo

MASK = "***"

# Greedy up to the last "@" before the host, so a password with an unescaped "@" is masked
# whole (libpq itself would read "p@ss@db" as password "p" and host "ss@db").
_URI_PASSWORD = re.compile(
    r"(?P<pre>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>\S*)(?P<post>@[^@\s/?]*(?=[/?\s]|$))",
    re.I,
)
_KV_PASSWORD = re.compile(
    r"(?P<pre>\b(?:ssl)?password\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)", re.I
)
_QUERY_PASSWORD = re.compile(r"(?P<pre>[?&](?:ssl)?password=)(?P<secret>[^&\s]+)", re.I)


def redact_dsn(dsn: str) -> str:
    """A DSN as it may be shown: ``postgresql://user@host:port/db?…`` with no password."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return scrub(dsn)
    if "@" in str(parts.get("host") or ""):  # an unescaped "@" in the password: see above
        return scrub(dsn)
    parts.pop("password", None)
    user = parts.pop("user", None)
    host = str(parts.pop("host", "") or "")
    port = parts.pop("port", None)
    dbname = parts.pop("dbname", None)
    netloc = f"{user}@" if user else ""
    if host.startswith("/"):  # a unix socket folder goes into the query, as libpq URIs do
        parts["host"] = host
        host = ""
    netloc += host + (f":{port}" if port else "")
    query = "&".join(f"{k}={v}" for k, v in sorted(parts.items()) if k not in ("sslpassword",))
    return f"postgresql://{netloc}/{dbname or ''}" + (f"?{query}" if query else "")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove passwords from connection strings in ``text`` and every known secret value."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _URI_PASSWORD.sub(lambda m: m["pre"] + MASK + m["post"], text)
    text = _KV_PASSWORD.sub(lambda m: m["pre"] + MASK, text)
    return _QUERY_PASSWORD.sub(lambda m: m["pre"] + MASK, text)


def misplaced_at(dsn: str) -> bool:
    """True when a URI's password holds an unescaped ``@`` (libpq would misread the host)."""
    match = _URI_PASSWORD.match(dsn.strip())
    return match is not None and "@" in match["secret"]


def dsn_secrets(dsn: str) -> tuple[str, ...]:
    """The secret values inside a DSN, for :func:`scrub`."""
    try:
        password = psycopg.conninfo.conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        return ()
    return (str(password),) if password else ()
