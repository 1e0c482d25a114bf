"""Token pre-scan: classify what sqlglot cannot (or need not) parse, and prepare the rest.

sqlglot 30.30.0 mis-reads several DSQL and PostgreSQL forms (dsql-compat.md §8):
``CREATE INDEX ASYNC`` parses as an index *named* ASYNC, identity ``(CACHE n)`` raises,
``SAVEPOINT``/``LISTEN``/``DISCARD`` parse as column aliases, and dozens of statements
(extensions, domains, triggers, ``ALTER TABLE … OWNER TO``, ``ALTER SEQUENCE``…) fall back to
a generic ``Command``. Those are decided here from their leading keywords and a few regexes
over the statement text — a deliberate token pre-scan, not a regex SQL parser: anything
whose meaning depends on structure (columns, types, constraints, expressions) is handed to
sqlglot after the mis-read parts are stripped.

The pre-scan also decides when a full parse can be skipped safely: a plain ``INSERT …
VALUES`` that mentions none of the functions any rule looks for is classified from its
tuple count alone. That is what makes megabytes of data dumps cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.lint import analysis as A
from harness.lint.analysis import Analysis
from harness.lint.datatypes import check_type_text

_WORD = re.compile(r'[A-Za-z_][A-Za-z_0-9$]*|"(?:[^"]|"")*"|\S')
_QUOTED = re.compile(r"'(?:[^']|'')*'|\$([A-Za-z_]*)\$.*?\$\1\$", re.DOTALL)


def words(text: str, n: int = 10) -> list[str]:
    """The first ``n`` words (identifiers upper-cased, punctuation as itself)."""
    out: list[str] = []
    for m in _WORD.finditer(text, 0, min(len(text), 400)):
        out.append(m.group().upper())
        if len(out) == n:
            break
    return out


def qualified(w: list[str], i: int) -> str:
    """The possibly schema-qualified name starting at ``w[i]``, as its bare lower-case name."""
    if i >= len(w):
        return ""
    if i + 2 < len(w) and w[i + 1] == ".":
        return A.bare(w[i + 2])
    return A.bare(w[i])


def strip_literals(text: str) -> str:
    """The text with string and dollar-quoted literals emptied (for keyword searches)."""
    return _QUOTED.sub("''", text)


@dataclass
class Prepared:
    """A statement to hand to sqlglot: the text to parse and what the pre-scan already knows."""

    sql: str
    analysis: Analysis
    identity_caches: list[int | None] = field(default_factory=list)
    """CACHE of each ``AS IDENTITY`` in order (None when absent), stripped from ``sql``."""
    using_index: bool = False


Outcome = Analysis | Prepared

# ---------------------------------------------------------------------------------------
# Regexes over the literal-free text.
_IDENTITY = re.compile(r"\bAS\s+IDENTITY\b(\s*\(([^()]*)\))?", re.IGNORECASE)
_CACHE = re.compile(r"\bCACHE\s+(\d+)", re.IGNORECASE)
_SEQ_AS = re.compile(r"\bAS\s+(\w+)", re.IGNORECASE)
_LANGUAGE = re.compile(r"\bLANGUAGE\s+'?\"?([A-Za-z_0-9]+)", re.IGNORECASE)
_ISOLATION = re.compile(r"\bISOLATION\s+LEVEL\s+(\w+(?:\s+(?:READ|COMMITTED|UNCOMMITTED))?)", re.I)
_MATCH_PARTIAL = re.compile(r"\bMATCH\s+PARTIAL\b", re.IGNORECASE)
_ON_COMMIT = re.compile(r"\bON\s+COMMIT\b", re.IGNORECASE)
_WITHOUT_ROWID = re.compile(r"\bWITHOUT\s+ROWID\b", re.IGNORECASE)
_INDEX_HEAD = re.compile(
    r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(ASYNC\s+)?(CONCURRENTLY\s+)?(IF\s+NOT\s+EXISTS\s+)?"
    r"(?:(\"(?:[^\"]|\"\")*\"|[A-Za-z_][\w$]*)(\s*\.\s*(\"(?:[^\"]|\"\")*\"|[A-Za-z_][\w$]*))?\s+)?ON\s+(ONLY\s+)?",
    re.IGNORECASE,
)
_NULLS_DISTINCT = re.compile(r"\bNULLS\s+(?:NOT\s+)?DISTINCT\b", re.IGNORECASE)
_COPY_FILE = re.compile(r"\b(?:FROM|TO)\s+(?:PROGRAM\b|')", re.IGNORECASE)
_VALUES = re.compile(r"\bVALUES\b", re.IGNORECASE)
# Any function a statement-level rule looks for; an INSERT … VALUES without these is clean.
RISKY_CALLS = re.compile(
    r"\b(?:pg_(?:try_)?advisory|pg_notify|to_tsvector|to_tsquery|plainto_tsquery|"
    r"phraseto_tsquery|websearch_to_tsquery|ts_rank|ts_headline|setweight|uuid_generate_|"
    r"crypt|gen_salt|digest|hmac|pgp_|similarity|word_similarity|levenshtein|soundex|"
    r"metaphone|dmetaphone|earth_distance|ll_to_earth|unaccent|st_\w+|repeat|select|collate)\s*\(?",
    re.IGNORECASE,
)


def _strip_at(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


# ---------------------------------------------------------------------------------------
def _create_index(text: str, a: Analysis) -> Outcome:
    a.category = A.DDL
    m = _INDEX_HEAD.match(text)
    if m is None:
        a.hit("DSQL000", "CREATE INDEX could not be read")
        a.unanalysed = True
        return a
    if m.group(2) is None and m.group(3) is None:
        a.hit("DSQL050", "CREATE INDEX without ASYNC is rejected", r"\bINDEX\b")
    if m.group(3):
        a.hit("DSQL051", "CONCURRENTLY is not supported; use ASYNC", r"\bCONCURRENTLY\b")
    if m.group(6):
        a.hit("DSQL052", "index name is schema-qualified", re.escape(m.group(5)))
    sql = text
    for g in (8, 3, 2):  # strip ONLY, CONCURRENTLY, ASYNC (right to left keeps offsets)
        if m.group(g):
            sql = _strip_at(sql, m.start(g), m.end(g))
    # NULLS [NOT] DISTINCT is supported by DSQL but not by sqlglot's parser: blank it out.
    sql = _NULLS_DISTINCT.sub(lambda n: " " * len(n.group()), sql)
    if m.group(6):  # parse the unqualified name
        sql = _strip_at(sql, m.start(5), m.end(6))
        sql = sql[: m.start(5)] + (m.group(7) or "") + sql[m.start(5) + len(m.group(7) or "") :]
    return Prepared(sql, a)


def _create_table(text: str, plain: str, a: Analysis, dialect: str) -> Outcome:
    a.category = A.DDL
    w = words(plain, 6)
    if any(x in ("TEMP", "TEMPORARY") for x in w[1:4]):
        a.hit("DSQL001", "temporary table", r"\bTEMP(ORARY)?\b")
        if _ON_COMMIT.search(plain):
            a.hit("DSQL003", "ON COMMIT clause", r"\bON\s+COMMIT\b")
        return a  # sqlglot falls back to Command with ON COMMIT; the verdict is already made
    if _ON_COMMIT.search(plain):
        a.hit("DSQL003", "ON COMMIT clause", r"\bON\s+COMMIT\b")
    if "UNLOGGED" in w[1:3]:
        a.hit("DSQL002", "UNLOGGED table", r"\bUNLOGGED\b")
    sql = text
    if _ON_COMMIT.search(plain):
        sql = re.sub(r"\bON\s+COMMIT\s+(DROP|DELETE\s+ROWS|PRESERVE\s+ROWS)", "", sql, flags=re.I)
    if dialect == "sqlite" and _WITHOUT_ROWID.search(plain):
        a.hit("DSQL130", "WITHOUT ROWID is SQLite-only", r"\bWITHOUT\s+ROWID\b")
        sql = _WITHOUT_ROWID.sub("", sql)
    if _MATCH_PARTIAL.search(plain):
        a.hit("DSQL028", "MATCH PARTIAL foreign key", r"\bMATCH\s+PARTIAL\b")
        sql = _MATCH_PARTIAL.sub("MATCH FULL", sql)
    prepared = Prepared(sql, a)
    _strip_identity_caches(prepared)
    return prepared


def _strip_identity_caches(p: Prepared) -> None:
    """Record and remove ``CACHE n`` inside identity options: sqlglot cannot parse it."""

    def repl(m: re.Match[str]) -> str:
        opts = m.group(2)
        if opts is None:
            p.identity_caches.append(None)
            return m.group(0)
        cache = _CACHE.search(opts)
        p.identity_caches.append(int(cache.group(1)) if cache else None)
        rest = _CACHE.sub("", opts).strip()
        return "AS IDENTITY" + (f" ({rest})" if rest else "")

    p.sql = _IDENTITY.sub(repl, p.sql)


def cache_hits(a: Analysis, cache: int | None, what: str, missing: str, invalid: str) -> None:
    """The CACHE rules shared by identity columns and sequences."""
    if cache is None:
        a.hit(missing, f"{what} has no explicit CACHE", r"\bIDENTITY\b|\bSEQUENCE\b")
    elif cache != 1 and cache < 65536:
        a.hit(invalid, f"{what} has CACHE {cache}; DSQL needs 1 or >= 65536", r"\bCACHE\b")
    elif cache >= 65536:
        a.hit("DSQL027", f"{what} with CACHE {cache} is unique but not ordered", r"\bCACHE\b")


def _sequence(plain: str, a: Analysis, *, create: bool) -> Analysis:
    a.category = A.DDL
    cache = _CACHE.search(plain)
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


def _function(plain: str, a: Analysis, *, procedure: bool) -> Analysis:
    a.category = A.DDL
    if procedure:
        a.hit("DSQL064", "CREATE PROCEDURE is not supported", r"\bPROCEDURE\b")
        return a
    lang = _LANGUAGE.search(plain)
    language = lang.group(1).lower() if lang else "sql"  # SQL-standard bodies have no LANGUAGE
    if language != "sql":
        a.hit("DSQL063", f"function in LANGUAGE {language}", r"\bLANGUAGE\b")
    return a


# Object kinds that are not in DSQL's supported DDL at all (CREATE/ALTER/DROP/COMMENT ON).
_REJECTED_OBJECTS: dict[str, tuple[str, str]] = {
    "TYPE": ("DSQL044", "user-defined types are not supported"),
    "EXTENSION": ("DSQL067", "extensions are not supported"),
    "TRIGGER": ("DSQL066", "triggers are not supported"),
    "POLICY": ("DSQL069", "row-level security policies are not supported"),
    "RULE": ("DSQL068", "rewrite rules are not supported"),
    "PUBLICATION": ("DSQL070", "publications are not supported"),
    "SUBSCRIPTION": ("DSQL070", "subscriptions are not supported"),
    "SERVER": ("DSQL012", "foreign servers are not supported"),
    "TABLESPACE": ("DSQL007", "tablespaces are not supported"),
    "DATABASE": ("DSQL011", "a DSQL cluster has one database"),
    "PROCEDURE": ("DSQL064", "procedures are not supported"),
    "AGGREGATE": ("DSQL075", "user-defined aggregates are not in DSQL's supported DDL"),
    "OPERATOR": ("DSQL075", "user-defined operators are not in DSQL's supported DDL"),
    "CAST": ("DSQL075", "user-defined casts are not in DSQL's supported DDL"),
    "COLLATION": ("DSQL075", "collations other than C do not exist on DSQL"),
    "CONVERSION": ("DSQL075", "encoding conversions are not in DSQL's supported DDL"),
    "LANGUAGE": ("DSQL075", "procedural languages are not supported"),
    "TEXT": ("DSQL048", "text search objects are not supported"),
    "ACCESS": ("DSQL075", "access methods are not in DSQL's supported DDL"),
    "EVENT": ("DSQL066", "event triggers are not supported"),
}
_MULTIWORD = {
    ("MATERIALIZED", "VIEW"): ("DSQL062", "materialized views are not supported"),
    ("FOREIGN", "TABLE"): ("DSQL012", "foreign tables are not supported"),
    ("FOREIGN", "DATA"): ("DSQL012", "foreign data wrappers are not supported"),
    ("USER", "MAPPING"): ("DSQL012", "user mappings are not supported"),
}


def _rejected_object(w: list[str], at: int) -> tuple[str, str] | None:
    """The rule for the object kind named at ``w[at]`` if DSQL rejects that kind outright."""
    if at < len(w) - 1 and (w[at], w[at + 1]) in _MULTIWORD:
        return _MULTIWORD[(w[at], w[at + 1])]
    if at < len(w) and w[at] in _REJECTED_OBJECTS:
        return _REJECTED_OBJECTS[w[at]]
    return None


def _object_word(w: list[str]) -> int:
    """Index of the object-kind word after CREATE/ALTER/DROP and its modifiers."""
    i = 1
    while i < len(w) and w[i] in (
        "OR", "REPLACE", "TEMP", "TEMPORARY", "GLOBAL", "LOCAL", "UNLOGGED", "UNIQUE",
        "CONSTRAINT", "TRUSTED", "PROCEDURAL", "RECURSIVE", "DEFAULT",
    ):  # fmt: skip
        i += 1
    return i


def _create(text: str, plain: str, w: list[str], a: Analysis, dialect: str) -> Outcome:
    i = _object_word(w)
    kind = w[i] if i < len(w) else ""
    a.kind = " ".join(["CREATE", *w[1 : i + 1]]) if i < len(w) else "CREATE"
    a.category = A.DDL
    if kind == "INDEX":
        return _create_index(text, a)
    if kind == "TABLE":
        return _create_table(text, plain, a, dialect)
    if kind in ("VIEW",) and ("TEMP" in w[1:i] or "TEMPORARY" in w[1:i]):
        a.hit("DSQL061", "temporary view", r"\bTEMP(ORARY)?\b")
        return a
    rejected = _rejected_object(w, i)
    if rejected:
        if i + 1 < len(w) and (w[i], w[i + 1]) in _MULTIWORD:
            a.kind += " " + w[i + 1]
        if kind == "TYPE" and i + 1 < len(w):
            a.creates = (("type", qualified(w, i + 1)),)
        a.hit(rejected[0], rejected[1], re.escape(kind))
        return a
    if kind == "SEQUENCE":
        return _sequence(plain, a, create=True)
    if kind == "FUNCTION":
        return _function(plain, a, procedure=False)
    if kind == "DOMAIN":
        a.creates = (("domain", qualified(w, i + 1)),)
        m = re.search(r"\bAS\s+(.+?)(?:\s+(?:COLLATE|DEFAULT|CONSTRAINT|NOT|NULL|CHECK)\b|$)",
                      plain, re.IGNORECASE | re.DOTALL)  # fmt: skip
        if m:
            for rule, message in check_type_text(m.group(1), dialect):
                a.hit(rule, f"domain over {message}", r"\bAS\b")
        return a
    if kind in ("ROLE", "USER", "GROUP"):
        if re.search(r"\bPASSWORD\b|\bSUPERUSER\b", plain, re.IGNORECASE):
            a.hit("DSQL071", "role passwords and attributes are not supported", "PASSWORD")
        return a
    if kind == "VIRTUAL" and dialect == "sqlite":
        a.hit("DSQL130", "CREATE VIRTUAL TABLE (FTS) is SQLite-only", r"\bVIRTUAL\b")
        return a
    if kind == "STATISTICS":
        return a
    return Prepared(text, a)  # VIEW, SCHEMA, DATABASE … : sqlglot reads these


def _alter(text: str, plain: str, w: list[str], a: Analysis) -> Outcome:
    a.category = A.DDL
    kind = w[1] if len(w) > 1 else ""
    a.kind = f"ALTER {kind}"
    if kind == "SYSTEM":
        a.hit("DSQL107", "ALTER SYSTEM is not supported", r"\bSYSTEM\b")
        return a
    if kind in ("ROLE", "USER", "GROUP"):
        if re.search(r"\bOWNER\s+TO\b|\bRENAME\s+TO\b", plain, re.IGNORECASE):
            return a
        a.hit("DSQL071", "ALTER ROLE/USER options are not supported", r"\bALTER\b")
        return a
    if kind == "SEQUENCE":
        return _sequence(plain, a, create=False)
    if kind == "INDEX":
        if re.search(r"\bATTACH\s+PARTITION\b", plain, re.IGNORECASE):
            a.hit("DSQL005", "index partitions are not supported", r"\bATTACH\b")
        else:
            a.hit("DSQL058", "ALTER INDEX is not supported", r"\bINDEX\b")
        return a
    rejected = _rejected_object(w, 1)
    if rejected:
        a.hit(rejected[0], rejected[1], re.escape(kind))
        return a
    if kind == "TABLE":
        return _alter_table(text, plain, a)
    # FUNCTION, VIEW, SCHEMA, DOMAIN, STATISTICS, DEFAULT PRIVILEGES …: supported forms.
    return a


# ALTER TABLE forms sqlglot leaves as Command, decided from keywords (rule, message, regex).
_ALTER_TABLE_FORMS: tuple[tuple[str | None, str, str], ...] = (
    ("DSQL005", "partitions are not supported", r"\b(?:ATTACH|DETACH)\s+PARTITION\b"),
    ("DSQL069", "row-level security is not supported", r"\b(?:ENABLE|FORCE|DISABLE|NO\s+FORCE)\s+ROW\s+LEVEL\s+SECURITY\b"),  # noqa: E501
    ("DSQL070", "REPLICA IDENTITY is not supported", r"\bREPLICA\s+IDENTITY\b"),
    ("DSQL086", "SET COMPRESSION is not supported", r"\bSET\s+COMPRESSION\b"),
    ("DSQL068", "rules are not supported", r"\b(?:ENABLE|DISABLE)\s+(?:ALWAYS\s+|REPLICA\s+)?RULE\b"),  # noqa: E501
    ("DSQL006", "inheritance is not supported", r"\b(?:NO\s+)?INHERIT\b"),
    ("DSQL058", "CLUSTER is not supported", r"\bCLUSTER\s+ON\b|\bSET\s+WITHOUT\s+CLUSTER\b"),
    (None, "supported", r"\bOWNER\s+TO\b|\b(?:ENABLE|DISABLE)\s+TRIGGER\b|\bSET\s+STORAGE\b"
     r"|\bALTER\s+CONSTRAINT\b|\bSET\s+STATISTICS\b|\bDROP\s+EXPRESSION\b|\bDROP\s+IDENTITY\b"
     r"|\bRESTART\b|\bSET\s+GENERATED\b|\bSET\s+SCHEMA\b|\bRENAME\s+CONSTRAINT\b"
     r"|\bOF\b|\bNOT\s+OF\b"),
)  # fmt: skip
_ADD_GENERATED = re.compile(r"\bADD\s+GENERATED\b", re.IGNORECASE)
_VALIDATE = re.compile(r"\bVALIDATE\s+CONSTRAINT\b", re.IGNORECASE)
_USING_INDEX = re.compile(r"\bUSING\s+INDEX\b", re.IGNORECASE)


def _alter_table(text: str, plain: str, a: Analysis) -> Outcome:
    w = words(plain, 8)
    is_async = len(w) > 2 and w[2] == "ASYNC"
    if _VALIDATE.search(plain):
        if not is_async:
            a.hit("DSQL030", "VALIDATE CONSTRAINT must use ALTER TABLE ASYNC", r"\bVALIDATE\b")
        return a
    if _ADD_GENERATED.search(plain):
        m = _IDENTITY.search(plain)
        cache = _CACHE.search(m.group(2) or "") if m and m.group(2) else None
        cache_hits(a, int(cache.group(1)) if cache else None, "identity", "DSQL085", "DSQL085")
        for h in a.hits:
            if h.rule == "DSQL085":
                h.message = "ADD GENERATED AS IDENTITY needs BIGINT and CACHE 1 or >= 65536"
        return a
    if _USING_INDEX.search(plain):
        if re.search(r"\bPRIMARY\s+KEY\b", plain, re.IGNORECASE):
            a.hit("DSQL034", "PRIMARY KEY … USING INDEX is not supported", r"\bPRIMARY\b")
        return a  # UNIQUE … USING INDEX is the supported way to add a unique constraint
    for rule, message, pattern in _ALTER_TABLE_FORMS:
        if re.search(pattern, plain, re.IGNORECASE):
            if rule is not None:
                a.hit(rule, message, pattern)
            return a
    sql = text
    if is_async:
        sql = re.sub(r"\bASYNC\b", "", sql, count=1, flags=re.IGNORECASE)
    if _MATCH_PARTIAL.search(plain):
        a.hit("DSQL028", "MATCH PARTIAL foreign key", r"\bMATCH\s+PARTIAL\b")
        sql = _MATCH_PARTIAL.sub("MATCH FULL", sql)
    prepared = Prepared(sql, a)
    _strip_identity_caches(prepared)
    return prepared


def _drop(plain: str, w: list[str], a: Analysis) -> Analysis:
    a.category = A.DDL
    i = 1
    kind = w[i] if i < len(w) else ""
    a.kind = f"DROP {kind}"
    if kind == "TRIGGER":
        if re.match(r"\s*DROP\s+TRIGGER\s+IF\s+EXISTS\s+\S+\s+ON\b", plain, re.IGNORECASE):
            return a
        a.hit("DSQL066", "DROP TRIGGER is only accepted as DROP TRIGGER IF EXISTS … ON …")
        return a
    rejected = _rejected_object(w, i)
    if rejected:
        a.hit(rejected[0], rejected[1], re.escape(kind))
    return a


def _comment(w: list[str], a: Analysis) -> Analysis:
    a.category = A.DDL
    rejected = _rejected_object(w, 2)
    if rejected:
        a.hit(rejected[0], f"comment on an object DSQL rejects ({rejected[1]})", r"\bON\b")
    return a


def _transaction(plain: str, w: list[str], a: Analysis) -> Analysis:
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
    return a


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


def _copy(text: str, plain: str, a: Analysis, copy_rows: int) -> Analysis:
    a.category = A.DML if re.search(r"\bFROM\b", plain, re.IGNORECASE) else A.QUERY
    if _COPY_FILE.search(text):
        a.hit("DSQL108", "COPY to/from a server file or program", r"\bFROM\b|\bTO\b")
    if copy_rows > 0:
        a.rows = copy_rows
        m = re.match(r"\s*COPY\s+([^\s(]+)", plain, re.IGNORECASE)
        a.writes = (A.bare(m.group(1)),) if m else ()
    return a


def _insert(text: str, plain: str, a: Analysis, dialect: str) -> Outcome:
    a.category = A.DML
    w = words(plain, 4)
    if dialect == "sqlite" and len(w) > 1 and w[1] == "OR":
        a.hit("DSQL130", f"INSERT OR {w[2] if len(w) > 2 else ''} is SQLite-only", r"\bOR\b")
        text = re.sub(r"\bOR\s+\w+", "", text, count=1, flags=re.IGNORECASE)
    values = _VALUES.search(plain)
    if values and not RISKY_CALLS.search(plain, values.end()) and "RETURNING" not in plain.upper():
        # Fast path: count top-level tuples without a parse (see the module docstring).
        a.rows = _count_tuples(plain, values.end())
        m = re.match(r"\s*INSERT\s+INTO\s+([^\s(]+)", plain, re.IGNORECASE)
        a.writes = (A.bare(m.group(1)),) if m else ()
        a.payload = len(text)
        return a
    return Prepared(text, a)


def _count_tuples(plain: str, start: int) -> int:
    depth = 0
    tuples = 0
    for ch in plain[start:]:
        if ch == "(":
            if depth == 0:
                tuples += 1
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch.isalpha():
            break  # ON CONFLICT …
    return tuples


_SIMPLE_WRITE = re.compile(
    r"\s*(?:UPDATE\s+(?:ONLY\s+)?([\w.\"]+)(?:\s+(?:AS\s+)?\w+)?\s+SET\b|DELETE\s+FROM\s+(?:ONLY\s+)?([\w.\"]+))",
    re.IGNORECASE,
)
_NOT_SIMPLE = re.compile(r"\b(?:SELECT|RETURNING|FROM\s+\w+\s*,|USING|WITH)\b|\(\s*SELECT", re.I)


def _bounded_write(plain: str, first: str, a: Analysis) -> Analysis | None:
    """UPDATE/DELETE with a WHERE, no subquery and no function a rule looks for: classified
    without a parse (the rules that apply need only the table and the WHERE)."""
    m = _SIMPLE_WRITE.match(plain)
    if m is None or " WHERE " not in f" {' '.join(plain.upper().split())} ":
        return None
    rest = plain[m.end() :]
    if _NOT_SIMPLE.search(rest) or RISKY_CALLS.search(rest) or "COLLATE" in rest.upper():
        return None
    a.category = A.DML
    a.kind = first
    a.obj = (m.group(1) or m.group(2)).strip('"')
    a.writes = (A.bare(a.obj),)
    return a


_BY_FIRST: dict[str, Callable[[str, list[str], Analysis], Analysis]] = {
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
_TXN_WORDS = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"}
_PARSE_FIRST = {"SELECT", "WITH", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE", "EXPLAIN", "("}


def prescan(text: str, dialect: str, copy_rows: int = -1) -> Outcome:
    """Classify ``text`` from its keywords, or prepare it for sqlglot."""
    plain = strip_literals(text) if ("'" in text or "$" in text) else text
    w = words(plain)
    first = w[0] if w else ""
    a = Analysis(kind=first)
    if first == "CREATE":
        return _create(text, plain, w, a, dialect)
    if first == "ALTER":
        return _alter(text, plain, w, a)
    if first == "DROP":
        return _drop(plain, w, a)
    if first == "INSERT" or (first == "REPLACE" and dialect == "sqlite"):
        if first == "REPLACE":
            a.hit("DSQL130", "REPLACE INTO is SQLite-only")
            return Prepared(text, a)
        return _insert(text, plain, a, dialect)
    if first in _TXN_WORDS:
        a.kind = first
        return _transaction(plain, w, a)
    if first == "COMMENT":
        a.kind = "COMMENT ON"
        return _comment(w, a)
    if first in ("GRANT", "REVOKE"):
        a.category = A.DDL
        return a
    if first == "AWS":  # AWS IAM GRANT/REVOKE: DSQL's own syntax, raises in sqlglot
        a.kind = "AWS IAM"
        return a
    if first == "COPY":
        return _copy(text, plain, a, copy_rows)
    if first in _BY_FIRST:
        return _BY_FIRST[first](plain, w, a)
    if first in ("UPDATE", "DELETE"):
        fast = _bounded_write(plain, first, a)
        if fast is not None:
            return fast
    if first == "SELECT" and re.search(r"\bINTO\b", plain, re.IGNORECASE) is None:
        a.category = A.QUERY
    return Prepared(text, a)
