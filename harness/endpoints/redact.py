"""Keep secrets out of everything a person or a file will see.

Every DSN the harness shows goes through :func:`redact_dsn`; every message built from a
driver error goes through :func:`scrub`, which removes known secret values (in every spelling
a DSN, a URL or a report could give them) and anything that looks like a password in a
connection string. A DSN that does not parse is never shown at all: :func:`dsn_problem` says
what is wrong with it in words of its own, without quoting any of it.

Where a password ends is decided generously. libpq's own reading is the minimum; a DSN that
does not parse means the writer meant something else, so the mask runs on over what libpq
would have choked on: in a URI to the *last* ``@`` of the line, in ``password=…`` over the
quoted or unquoted value and every following word up to the next ``key=``. Masking too much
costs a little context in an error line; masking too little prints a password.
"""

from __future__ import annotations

import difflib
import functools
import html
import json
import re
import urllib.parse
from collections.abc import Iterable

import psycopg.conninfo

MASK = "***"
UNPARSEABLE = "(a DSN that does not parse: not shown)"
"""What :func:`redact_dsn` shows for a DSN libpq cannot read: none of it."""

# user:password@ in a URI. The password runs to the last "@" of the line: libpq reads
# "p@ss@db" as password "p" and host "ss@db", and a password with a space or a quote does not
# parse at all, so only the last "@" reliably ends it. The user part cannot hold ":", "/" or
# "@", so "postgresql://app@db:5432" (no password) never matches.
_URI_PASSWORD = re.compile(
    r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^\n]*)(?P<post>@)", re.I
)


@functools.cache
def _kv_password() -> re.Pattern[str]:
    """password=VALUE in key=value form or in a URI query (and libpq's sslpassword, the
    PGPASSWORD variable). VALUE is libpq's extent — a single-quoted string with backslash
    escapes, or an unquoted run up to whitespace, backslash escaping the next character — and
    then every word up to the next libpq option (``dbname=``…) on the line: in
    "password=Hello World42 dbname=x" libpq stops at the space and fails on "World42", which
    is still the password, and so is "A0000=" in "password=0 A0000= dbname=x"."""
    options = "|".join(re.escape(k) for k in sorted(_keywords(), key=len, reverse=True))
    return re.compile(
        r"(?P<pre>\b(?:pg|ssl)?pass(?:word|wd)\s*=\s*)"
        r"(?P<secret>'(?:[^'\\]|\\[\s\S])*(?:'|\\?$)|(?:\\[\s\S]|[^\s\\])*\\?)"
        rf"(?P<tail>(?:(?!\s+(?:{options})\s*=)[^\n])*)",
        re.I | re.M,
    )


# What libpq misreads or refuses in a URI password: "/" and "@" move the host, whitespace and
# a "%" that starts no %XX escape do not parse. Every other printable character is taken as is.
_URI_RESERVED = re.compile(r"[@/\s]|%(?![0-9A-Fa-f]{2})")
# "host:5432/db?user=me@corp" has no password: after "host:" come a port (a host list, a
# path) and a query holding the "@". Without the "?" it is a password libpq would misread.
_PORT_LIKE = re.compile(r"\d{1,5}(?:,[^/?]*)?(?:/[^?]*)?\?")


def _parsed(dsn: str) -> dict[str, object] | str:
    """libpq's reading of ``dsn``, or its error message (which may quote the password)."""
    try:
        return dict(psycopg.conninfo.conninfo_to_dict(dsn))
    except psycopg.ProgrammingError as exc:
        return str(exc)
    except UnicodeDecodeError:  # a %XX escape that is not UTF-8: psycopg cannot decode it
        return "not utf-8"


def redact_dsn(dsn: str) -> str:
    """A DSN as it may be shown: ``postgresql://user@host:port/db?…`` with no password;
    :data:`UNPARSEABLE` for one libpq cannot read."""
    parts = _parsed(dsn)
    if isinstance(parts, str):
        return UNPARSEABLE
    if "@" in str(parts.get("host") or "") or uri_password_unencoded(dsn):
        return scrub(dsn)  # libpq misreads the password (into the host or the path): see above
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


def secret_forms(secret: str) -> set[str]:
    """``secret`` as it could be spelled in a DSN, a URL, JSON or HTML: raw, percent-encoded
    (either case of hex, ``+`` for space), escaped for libpq's quotes, JSON and HTML."""
    encoded = urllib.parse.quote(secret, safe="")
    forms = {
        secret,
        encoded,
        re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), encoded),
        urllib.parse.quote_plus(secret, safe=""),
        urllib.parse.quote(secret, safe="!$&'()*+,;=:~"),  # userinfo's own safe set
        secret.replace("\\", "\\\\").replace("'", "\\'"),
        json.dumps(secret)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
        _markup_escape(secret),
    }
    return {form for form in forms if form}


def _markup_escape(text: str) -> str:
    """HTML escaping as Jinja's autoescape (markupsafe) spells it."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("'", "&#39;")):
        text = text.replace(char, entity)
    return text.replace('"', "&#34;")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove passwords from connection strings in ``text`` and every known secret value
    (each in all of its :func:`secret_forms`)."""
    forms = {form for secret in secrets if secret for form in secret_forms(secret)}
    for form in sorted(forms, key=len, reverse=True):  # "abc" must not eat "abcdef" first
        text = text.replace(form, MASK)
    text = _URI_PASSWORD.sub(lambda m: m["pre"] + MASK + m["post"], text)
    return _kv_password().sub(lambda m: m["pre"] + MASK, text)


def _uri_password(dsn: str) -> str | None:
    """The raw text between ``user:`` and the last ``@`` of a URI DSN, if it has one."""
    match = _URI_PASSWORD.match(dsn.strip())
    return None if match is None else match["secret"]


def misplaced_at(dsn: str) -> bool:
    """True when a URI's password holds an unescaped ``@`` (libpq would misread the host)."""
    secret = _uri_password(dsn)
    return secret is not None and "@" in secret and not _PORT_LIKE.match(secret)


def uri_password_unencoded(dsn: str) -> bool:
    """True when a URI's password holds a character libpq misreads or refuses there (``@``,
    ``/``, whitespace, a ``%`` that starts no escape): it has to be percent-encoded."""
    secret = _uri_password(dsn)
    if secret is None or _PORT_LIKE.match(secret):
        return False
    return _URI_RESERVED.search(secret) is not None


# libpq's parse errors quote the text they stumbled on, which may be the password: each is
# said again in words that quote nothing.
_PROBLEMS = (
    ("unexpected spaces", "a space that is not percent-encoded (a URI spells it %20)"),
    (
        'missing "=" after',
        "a word that is not key=value (single-quote a value with spaces or quotes, "
        "escaping inner ones with a backslash: password='it\\'s a b')",
    ),
    ("unterminated quoted string", "a quoted value with no closing quote"),
    ("invalid percent-encoded", "a '%' that starts no %XX escape (a URI spells '%' as %25)"),
    ("forbidden value %00", "an encoded NUL (%00)"),
    ("not utf-8", "a %XX escape that does not decode to UTF-8 text"),
    ("key/value separator", "a query parameter that is not key=value"),
    ("invalid uri query parameter", "an unknown query parameter"),
    ("ipv6", "an IPv6 host address not closed by ']'"),
    ("unexpected character", "an unexpected character in the host part"),
)


def dsn_problem(dsn: str) -> str | None:
    """What is wrong with a DSN libpq cannot parse, in words that quote none of it (it may
    hold a password); None when it parses."""
    parsed = _parsed(dsn)
    if not isinstance(parsed, str):
        return None
    message = parsed.lower()
    if "invalid connection option" in message:
        name = re.search(r'option "([^"]*)"', message)
        # only a known keyword is ever named, never the text that was there
        close = difflib.get_close_matches(name[1] if name else "", _keywords(), n=1, cutoff=0.75)
        return "an unknown option name" + (f' (did you mean "{close[0]}"?)' if close else "")
    for needle, said in _PROBLEMS:
        if needle in message:
            return said
    return "text libpq cannot read as key=value pairs or as a URI"


@functools.cache
def _keywords() -> tuple[str, ...]:
    """libpq's connection option names."""
    return tuple(sorted({option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults()}))


def dsn_secrets(dsn: str) -> tuple[str, ...]:
    """The secret values inside a DSN, for :func:`scrub`: libpq's password, and for a DSN it
    misreads or cannot read, every password-like span the patterns above find."""
    found: list[str] = []
    parts = _parsed(dsn)
    parsed = not isinstance(parts, str)
    if not isinstance(parts, str) and parts.get("password"):
        found.append(str(parts["password"]))
    uri = _uri_password(dsn)
    if uri and (not parsed or uri_password_unencoded(dsn)):
        found += [uri, urllib.parse.unquote(uri)]
    for match in _kv_password().finditer(dsn) if not parsed else ():
        value = (match["secret"] + match["tail"]).strip()
        found += [value, value.strip("'")]
    return tuple(dict.fromkeys(s for s in found if s))
