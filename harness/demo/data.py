"""The demo data set behind ``cutover demo``: a small banking-style application in SQLite.

:func:`build_demo_sqlite` writes a database shaped like one a real application accumulates:
declared types chosen by an ORM (``VARCHAR(255)``, ``NUMERIC(12,2)``, ``BOOLEAN``), money kept
as SQLite REAL/INTEGER, NULLs next to empty strings, names outside ASCII, binary hashes, and
timestamps as text with and without fractional seconds. Those are the things migrations get
wrong, so the demo exercises them. One large fact table (``events``) makes row-count and
checksum checks do real work.

:data:`DRIFT` is what ``cutover demo --drift`` does to the PostgreSQL copy afterwards: four
changes a hurried cutover really makes, each with the phrase the verifier must report.

Everything is deterministic for a given seed, so two builds compare equal and a report can be
reproduced.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Only for the annotation: building the SQLite file must not need a PostgreSQL driver loaded.
    import psycopg

FACT_ROWS_DEFAULT = 200_000

GROUP_ROWS = 50
USER_ROWS = 5_000
PEOPLE_ROWS = 5_000
ACCOUNT_ROWS = 8_000
MEMBERSHIPS_PER_USER = 2
PROGRESS_EVERY = 20_000

# Money that no longer fits numeric(10,2) (at least 10^8), placed on fixed account ids so the
# narrowing drift always has something to lose, whatever the seed.
_OVERFLOW_BALANCES: tuple[float | int, ...] = (
    100_000_000,
    123_456_789.5,
    987_654_321.99,
    2_500_000_000,
)
_CAP_BALANCE = 99_999_999.99
"""The largest value numeric(10,2) holds; some accounts sit exactly on it."""

_SCHEMA = """
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    name VARCHAR(80) NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    display_name VARCHAR(120),
    password_hash BLOB NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    group_id INTEGER REFERENCES groups(id),
    created_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP NULL
);
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    first_name VARCHAR(60) NOT NULL,
    last_name VARCHAR(60) NOT NULL,
    nickname VARCHAR(40) NULL,
    birth_date DATE NULL,
    phone VARCHAR(24) NULL
);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    currency CHAR(3) NOT NULL DEFAULT 'USD',
    balance NUMERIC(12,2) NOT NULL DEFAULT 0,
    credit_limit NUMERIC(12,2) NULL CHECK (credit_limit >= 0),
    is_frozen BOOLEAN NOT NULL DEFAULT 0,
    opened_at TIMESTAMP NOT NULL
);
CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    user_id INTEGER REFERENCES users(id),
    kind VARCHAR(32) NOT NULL,
    amount NUMERIC(12,2) NULL,
    occurred_at TIMESTAMP NOT NULL,
    payload TEXT NULL,
    flagged BOOLEAN NOT NULL DEFAULT 0,
    checksum BLOB NULL
);
CREATE VIEW active_users AS SELECT id, email, display_name FROM users WHERE is_active;
"""

# Created after the bulk load: maintaining them row by row would roughly double the build time.
_INDEXES = """
CREATE INDEX ix_users_group_id ON users (group_id);
CREATE INDEX ix_accounts_user_id ON accounts (user_id);
CREATE INDEX ix_events_account_id_occurred_at ON events (account_id, occurred_at);
CREATE INDEX ix_events_kind ON events (kind);
"""

# Word lists stay packed; one word per line would bury the module.
# fmt: off
_FIRST_NAMES = (
    "James", "Mary", "José", "Zoë", "Søren", "Jürgen", "Łukasz", "Anaïs", "Björn", "Chloé",
    "Ingrid", "Mohammed", "Aoife", "Priya", "Wei", "太郎", "花子", "Ólafur", "François", "Renée",
    "Dmitri", "Fatima", "Kwame", "Sofía", "Noah", "Emma", "Liam", "Olivia", "Mette", "Gößl",
)
# Turkish dotless i is spelled as an escape: ruff (RUF001) rightly flags it as look-alike text.
_LAST_NAMES = (
    "Smith", "Johnson", "Müller", "Strauß", "Ødegaard", "García", "O'Brien", "Nguyễn", "山田",
    "佐藤", "日本橋", "Kowalski", "Dubois", "Rossi", "Andersson", "Y\u0131lmaz", "Papadopoulos",
    "Brown", "Jones", "Lefèvre", "Håkansson", "Weiß", "Novák", "Silva", "Kim", "Chen", "Patel",
)
_ASCII_SPELLINGS = str.maketrans(
    {"ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "\u0131": "i"}
)
_NICKNAMES = ("Jo", "Zo", "Bjö", "Taro-chan", "Mo", "Liv", "Ché", "Ace", "Dee", "Sunny", "Øyvind")
_DEPARTMENTS = ("Sales", "Support", "Engineering", "Finance", "Marketing", "Operations",
                "Legal", "Research")
_REGIONS = ("EMEA", "Île-de-France", "Nordics (Øresund)", "DACH (Großraum)", "日本",
            "North America", "LATAM")
_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example")
_CURRENCIES = ("USD",) * 6 + ("EUR",) * 2 + ("GBP", "JPY", "CHF")
_ROLES = ("member",) * 16 + ("admin",) * 2 + ("viewer", "owner")
_PHONE_FORMATS = ("+1 555-{a:03d}-{b:04d}", "(555) {a:03d}-{b:04d}", "+44 20 7{a:03d} {b:04d}",
                  "+81 3-{a:03d}-{b:04d}", "555{a:03d}{b:04d}")
_MEMOS = ("café", "rent", "Überweisung", "", "日本 trip", 'refund "dup"', "groceries", "øl")
# fmt: on

# One entry per percent, so a kind is drawn with a single random() (the fact loop is hot).
_KIND_TABLE = tuple(
    itertools.chain.from_iterable(
        (kind,) * weight
        for kind, weight in (
            ("login", 14),
            ("logout", 6),
            ("card_payment", 30),
            ("transfer", 15),
            ("deposit", 12),
            ("withdrawal", 10),
            ("fee", 6),
            ("interest", 3),
            ("refund", 4),
        )
    )
)
_NO_AMOUNT = frozenset({"login", "logout"})
_AGENTS = ("ios/17.4", "android/14", "web/firefox", "web/safari", "cli")
# JSON-encoded once here rather than with json.dumps per row; includes quotes and non-ASCII.
_MEMOS_JSON = tuple(json.dumps(m, ensure_ascii=False) for m in _MEMOS)

_APP_EPOCH = datetime(2019, 1, 1)
_EVENTS_EPOCH = datetime(2023, 1, 1)
_EVENT_DAYS = 731
_DAY_TEXT = tuple(
    (_EVENTS_EPOCH + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(_EVENT_DAYS)
)


@dataclass(frozen=True)
class Drift:
    """One change seeded into the PostgreSQL target that verification must catch."""

    name: str
    """Stable identifier (``dropped_column``)."""
    description: str
    """What happened, in the words of the person who did it."""
    statements: tuple[str, ...]
    """PostgreSQL statements, run in order, inside one transaction with the other drifts."""
    expect: str
    """A short phrase the verifier's report must contain, e.g. ``people.nickname``."""


DRIFT: tuple[Drift, ...] = (
    Drift(
        name="dropped_column",
        description=(
            "people.nickname was dropped on the target as 'unused'; the application still "
            "reads it, so the column and its data are gone."
        ),
        statements=("ALTER TABLE people DROP COLUMN nickname",),
        expect="people.nickname",
    ),
    Drift(
        name="narrowed_numeric",
        description=(
            "accounts.balance was narrowed from numeric(12,2) to numeric(10,2); balances of "
            "10^8 or more were capped to 99999999.99 first so the ALTER would go through."
        ),
        statements=(
            # Without the cap PostgreSQL refuses the ALTER (numeric field overflow); capping is
            # what people do to make it pass, and it silently changes data.
            "UPDATE accounts SET balance = LEAST(GREATEST(balance, -99999999.99), 99999999.99)"
            " WHERE abs(balance) >= 100000000",
            "ALTER TABLE accounts ALTER COLUMN balance TYPE numeric(10,2)",
        ),
        expect="accounts.balance",
    ),
    Drift(
        name="missing_rows",
        description=(
            "A batch of the events load was lost: every event whose id is a multiple of 1000 "
            "(about 0.1%) is missing on the target."
        ),
        # mod() rather than '%', so the text survives any driver that treats '%' as a placeholder.
        statements=("DELETE FROM events WHERE mod(id, 1000) = 0",),
        expect="events",
    ),
    Drift(
        name="dropped_check",
        description=(
            "accounts.credit_limit lost its CHECK (credit_limit >= 0): the load tool copies no "
            "CHECK constraints, so the target now takes a negative limit the source refused."
        ),
        statements=("ALTER TABLE accounts DROP CONSTRAINT accounts_credit_limit_check",),
        expect="accounts.credit_limit",
    ),
)


def apply_drift(conn: psycopg.Connection[Any]) -> list[Drift]:
    """Run every :data:`DRIFT` statement on ``conn`` in one transaction; return the drifts.

    Either all drifts land or none do. If ``conn`` already has a transaction open, this runs
    inside a savepoint and the caller's commit makes it durable.
    """
    with conn.transaction():
        for drift in DRIFT:
            for statement in drift.statements:
                conn.execute(statement)
    return list(DRIFT)


def build_demo_sqlite(
    path: Path,
    *,
    fact_rows: int = FACT_ROWS_DEFAULT,
    seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Create the demo SQLite file at path (overwrite if exists); return {table: row_count}.

    ``progress(done, total)`` is called after every ~20,000 ``events`` rows and once at the end.
    The file is built under a temporary name and renamed into place, so an interrupted build
    never leaves a half-written database at ``path``.
    """
    if fact_rows < 0:
        raise ValueError(f"fact_rows must be zero or more, got {fact_rows}")
    rng = random.Random(seed)
    path = Path(path)
    building = path.with_name(path.name + ".building")
    building.unlink(missing_ok=True)

    conn = sqlite3.connect(building, isolation_level=None)
    try:
        # No rollback journal and no fsync: a failed build is thrown away, never repaired.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        _run_script(conn, _SCHEMA)

        groups = _groups(rng)
        conn.executemany("INSERT INTO groups VALUES (?, ?, ?)", groups)
        users = _users(rng)
        conn.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)", users)
        conn.executemany("INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?)", _people(rng))
        accounts = _accounts(rng)
        conn.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)", accounts)
        memberships = _memberships(rng, [u[5] for u in users])
        conn.executemany("INSERT INTO group_members VALUES (?, ?, ?)", memberships)

        owners = [a[1] for a in accounts]
        events = _events(rng, fact_rows, owners)
        done = 0
        while done < fact_rows:
            chunk = min(PROGRESS_EVERY, fact_rows - done)
            conn.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                itertools.islice(events, chunk),
            )
            done += chunk
            if progress is not None and done < fact_rows:
                progress(done, fact_rows)
        _run_script(conn, _INDEXES)
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        building.unlink(missing_ok=True)  # without a journal a half-built file is useless
        raise
    conn.close()
    if progress is not None:
        progress(fact_rows, fact_rows)

    # A WAL or journal left by an older file at path would be replayed into the new one.
    for suffix in ("-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    os.replace(building, path)
    return {
        "groups": len(groups),
        "users": len(users),
        "people": PEOPLE_ROWS,
        "accounts": len(accounts),
        "group_members": len(memberships),
        "events": fact_rows,
    }


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated statements inside the open transaction.

    ``executescript`` would COMMIT first; the build must stay one transaction.
    """
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


_Row = tuple[Any, ...]


def _timestamp(moment: datetime, rng: random.Random) -> str:
    """ISO text as apps write it: mostly whole seconds, some with micro- or milliseconds."""
    r = rng.random()
    if r < 0.15:
        return moment.replace(microsecond=rng.randrange(1, 1_000_000)).isoformat(" ")
    if r < 0.25:
        millis = rng.randrange(1, 1000) * 1000
        return moment.replace(microsecond=millis).isoformat(" ", timespec="milliseconds")
    return moment.isoformat(" ", timespec="seconds")


def _moment(rng: random.Random, start: datetime, days: int) -> datetime:
    """A whole-second moment in the ``days`` after ``start``."""
    return start + timedelta(seconds=rng.randrange(days * 86_400))


def _groups(rng: random.Random) -> list[_Row]:
    names = [f"{dept} — {region}" for dept in _DEPARTMENTS for region in _REGIONS]
    chosen = rng.sample(names, GROUP_ROWS)
    return [
        (i, name, _timestamp(_moment(rng, _APP_EPOCH, 180), rng))
        for i, name in enumerate(chosen, start=1)
    ]


def _slug(name: str) -> str:
    """ASCII local-part for an e-mail address; names with no Latin letters give ''."""
    # NFKD splits off accents (é → e) but has no decomposition for these letters.
    spelled = name.translate(_ASCII_SPELLINGS)
    folded = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _users(rng: random.Random) -> list[_Row]:
    rows: list[_Row] = []
    for i in range(1, USER_ROWS + 1):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        local = ".".join(part for part in (_slug(first), _slug(last)) if part) or "user"
        email = f"{local}{i}@{rng.choice(_DOMAINS)}"
        r = rng.random()
        if r < 0.15:
            display_name: str | None = None
        elif r < 0.22:
            display_name = ""  # the sign-up form submitted an empty field
        elif r < 0.35:
            display_name = first
        else:
            display_name = f"{first} {last}"
        created = _moment(rng, _APP_EPOCH, 4 * 365)
        last_login = (
            None
            if rng.random() < 0.25
            else _timestamp(created + timedelta(seconds=rng.randrange(400 * 86_400)), rng)
        )
        rows.append(
            (
                i,
                email,
                display_name,
                rng.randbytes(32),
                int(rng.random() < 0.9),
                None if rng.random() < 0.12 else rng.randrange(1, GROUP_ROWS + 1),
                _timestamp(created, rng),
                last_login,
            )
        )
    return rows


def _people(rng: random.Random) -> Iterator[_Row]:
    for i in range(1, PEOPLE_ROWS + 1):
        r = rng.random()
        if r < 0.25:
            nickname: str | None = None
        elif r < 0.32:
            nickname = ""
        else:
            nickname = rng.choice(_NICKNAMES)
        birth = (
            None
            if rng.random() < 0.15
            else (datetime(1940, 1, 1) + timedelta(days=rng.randrange(65 * 365))).date().isoformat()
        )
        r = rng.random()
        if r < 0.18:
            phone: str | None = None
        elif r < 0.22:
            phone = ""
        else:
            phone = rng.choice(_PHONE_FORMATS).format(
                a=rng.randrange(1000), b=rng.randrange(10_000)
            )
        yield (
            i,
            None if rng.random() < 0.12 else i,  # contacts without a login have no user
            rng.choice(_FIRST_NAMES),
            rng.choice(_LAST_NAMES),
            nickname,
            birth,
            phone,
        )


def _balance(account_id: int, rng: random.Random) -> float | int:
    """Money as an app stores it in SQLite: REAL with cents, or INTEGER when whole."""
    if account_id % 1000 == 500:
        return _OVERFLOW_BALANCES[(account_id // 1000) % len(_OVERFLOW_BALANCES)]
    if account_id % 1000 == 999:
        return _CAP_BALANCE
    r = rng.random()
    if r < 0.10:
        return 0
    if r < 0.20:
        return rng.randrange(1, 50_000)
    if r < 0.25:
        return round(-rng.uniform(0.01, 2_000), 2)  # overdrawn
    return round(rng.uniform(0.01, 25_000), 2)


def _accounts(rng: random.Random) -> list[_Row]:
    rows: list[_Row] = []
    for i in range(1, ACCOUNT_ROWS + 1):
        # Every user has a first account; the rest are second accounts of random users.
        user_id = i if i <= USER_ROWS else rng.randrange(1, USER_ROWS + 1)
        limit: float | int | None = (
            None if rng.random() < 0.3 else rng.choice((500, 1000, 2500.0, 5000, 10_000.5))
        )
        rows.append(
            (
                i,
                user_id,
                rng.choice(_CURRENCIES),
                _balance(i, rng),
                limit,
                int(rng.random() < 0.03),
                _timestamp(_moment(rng, _APP_EPOCH, 4 * 365), rng),
            )
        )
    return rows


def _memberships(rng: random.Random, primary_groups: list[int | None]) -> list[_Row]:
    """Two groups per user; the user's own ``group_id`` is one of them when set."""
    rows: list[_Row] = []
    all_groups = range(1, GROUP_ROWS + 1)
    for user_id, primary in enumerate(primary_groups, start=1):
        picks = rng.sample(all_groups, MEMBERSHIPS_PER_USER + 1)
        if primary is not None:
            picks = [primary, *(g for g in picks if g != primary)]
        for group_id in picks[:MEMBERSHIPS_PER_USER]:
            rows.append((group_id, user_id, rng.choice(_ROLES)))
    return rows


def _events(rng: random.Random, count: int, owners: list[int]) -> Iterator[_Row]:
    """The fact rows, in time order with jitter; written for speed (one pass, few calls)."""
    rand = rng.random
    randbytes = rng.randbytes
    kinds = _KIND_TABLE
    n_kinds = len(kinds)
    n_accounts = len(owners)
    span = _EVENT_DAYS * 86_400 - 3_600
    step = span / max(count, 1)
    for i in range(1, count + 1):
        account_id = int(rand() * n_accounts) + 1
        kind = kinds[int(rand() * n_kinds)]
        r = rand()
        if kind in _NO_AMOUNT:
            amount: float | int | None = None
        elif r < 0.15:
            amount = int(r * 1000) + 1  # whole amounts land as INTEGER
        else:
            amount = round(r * 1200 - 150, 2)
        seconds = int(i * step + rand() * 3_600)
        day, rest = divmod(seconds, 86_400)
        hour, rest = divmod(rest, 3_600)
        occurred = f"{_DAY_TEXT[day]} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}"
        if rand() < 0.1:
            occurred += f".{int(rand() * 1000):03d}"
        r = rand()
        if r < 0.25:
            payload: str | None = None
        elif kind in _NO_AMOUNT:
            payload = (
                f'{{"ip": "10.{int(r * 256)}.{i % 256}.{account_id % 256}", '
                f'"agent": "{_AGENTS[i % len(_AGENTS)]}"}}'
            )
        else:
            memo = _MEMOS_JSON[account_id % len(_MEMOS_JSON)]
            payload = f'{{"ref": "TX-{i:08d}", "memo": {memo}}}'
        yield (
            i,
            account_id,
            None if rand() < 0.15 else owners[account_id - 1],  # system events have no user
            kind,
            amount,
            occurred,
            payload,
            int(rand() < 0.02),
            None if rand() < 0.2 else randbytes(16),
        )
