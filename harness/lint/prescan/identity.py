"""Identity columns and sequences: the ``CACHE`` rules (CREATE/ALTER SEQUENCE, identity
columns), and the identity ``(CACHE n)`` sqlglot cannot parse (recorded, then stripped)."""

from __future__ import annotations

import re

from harness.lint import analysis as A
from harness.lint.analysis import Analysis
from harness.lint.prescan.tokens import Prepared, qualified, words

IDENTITY = re.compile(r"\bAS\s+IDENTITY\b(\s*\(([^()]*)\))?", re.IGNORECASE)
CACHE = re.compile(r"\bCACHE\s+(\d+)", re.IGNORECASE)
_SEQ_AS = re.compile(r"\bAS\s+(\w+)", re.IGNORECASE)


def strip_identity_caches(p: Prepared) -> None:
    """Record and remove ``CACHE n`` inside identity options: sqlglot cannot parse it."""

    def repl(m: re.Match[str]) -> str:
        opts = m.group(2)
        if opts is None:
            p.identity_caches.append(None)
            return m.group(0)
        cache = CACHE.search(opts)
        p.identity_caches.append(int(cache.group(1)) if cache else None)
        rest = CACHE.sub("", opts).strip()
        return "AS IDENTITY" + (f" ({rest})" if rest else "")

    p.sql = IDENTITY.sub(repl, p.sql)


def cache_hits(a: Analysis, cache: int | None, what: str, missing: str, invalid: str) -> None:
    """The CACHE rules shared by identity columns and sequences."""
    if cache is None:
        a.hit(missing, f"{what} has no explicit CACHE", r"\bIDENTITY\b|\bSEQUENCE\b")
    elif cache != 1 and cache < 65536:
        a.hit(invalid, f"{what} has CACHE {cache}; DSQL needs 1 or >= 65536", r"\bCACHE\b")
    elif cache >= 65536:
        a.hit("DSQL027", f"{what} with CACHE {cache} is unique but not ordered", r"\bCACHE\b")


def sequence(plain: str, a: Analysis, *, create: bool) -> Analysis:
    a.category = A.DDL
    cache = CACHE.search(plain)
    value = int(cache.group(1)) if cache else None
    if create:
        w = words(plain, 12)
        at = next((k + 1 for k, x in enumerate(w) if x == "SEQUENCE"), len(w))
        if w[at : at + 3] == ["IF", "NOT", "EXISTS"]:
            at += 3
        a.creates = (("sequence", qualified(w, at)),)
        cache_hits(a, value, "sequence", "DSQL024", "DSQL025")
        typ = _SEQ_AS.search(plain)
        if typ and typ.group(1).upper() not in ("BIGINT", "INT8"):
            a.hit(
                "DSQL025",
                f"sequence AS {typ.group(1)}; DSQL sequences are BIGINT"
                " (pg_dump writes this for SERIAL columns: use an identity column)",
                r"\bAS\b",
            )
    elif value is not None:
        if value != 1 and value < 65536:
            a.hit("DSQL026", f"ALTER SEQUENCE … CACHE {value}; DSQL needs 1 or >= 65536", "CACHE")
        elif value >= 65536:
            a.hit("DSQL027", f"sequence with CACHE {value} is unique but not ordered", "CACHE")
    return a
