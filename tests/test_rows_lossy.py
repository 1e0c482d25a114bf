"""A move that changes a value is a difference; one that keeps it is not (issue 16, case 1).

For every pair of a SQLite column (its declared type decides its storage class) and a
PostgreSQL target type the canon supports, hypothesis draws values as SQLite holds them,
PostgreSQL itself stores each one into the target type (as a loader sending text does, so
with the server's own rounding, truncation and offset dropping), and the test demands:

- cutover's value canon (:func:`canon.domain` of the pair) calls the stored value equal to
  the source value exactly when an independent oracle says the target holds what the source
  held — within ``float_digits`` for floats, exactly for everything else;
- the narrowing check's model of PostgreSQL's input (:mod:`harness.rows.stored`) predicts
  the stored value.

One query per batch: a failure names the value, what PostgreSQL stored and both verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql

from harness.db.typemap import parse
from harness.embedded.provision import PostgresCluster
from harness.rows import canon, stored

LOSSY = settings(max_examples=25, deadline=None)
BATCH = {"min_size": 1, "max_size": 30}
DIGITS = canon.DEFAULT_FLOAT_DIGITS


@pytest.fixture(scope="module")
def conn(pg_cluster: PostgresCluster) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_cluster.conninfo(), autocommit=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")  # as every cutover session pins it
        yield connection


# -- oracles: whether the stored value is the source value, written apart from the canon -----


def significant(number: Decimal, digits: int = DIGITS) -> Decimal:
    """``number`` rounded to ``digits`` significant digits (half to even, as C's printf)."""
    if number == 0:
        return Decimal(0)
    return number.quantize(Decimal(1).scaleb(number.adjusted() - digits + 1), "ROUND_HALF_EVEN")


def same_float(source: Any, kept: Any) -> bool:
    """Floats on either side: equal at ``float_digits`` significant digits."""
    return significant(Decimal(float(source))) == significant(Decimal(float(kept)))


def same_decimal(source: Any, kept: Any) -> bool:
    """Exact decimals: a REAL in a NUMERIC column means the decimal that prints as it."""
    value = Decimal(repr(source)) if isinstance(source, float) else Decimal(str(source))
    return value == Decimal(str(kept))


def same_text(source: Any, kept: Any) -> bool:
    return bool(source == kept)


def same_padded(source: Any, kept: Any) -> bool:
    """CHAR(n): trailing spaces are padding, on both sides."""
    return bool(source.rstrip(" ") == kept.rstrip(" "))


STAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(Z|[+-]\d\d:\d\d)?"
)


def instant(text: str) -> tuple[datetime, Decimal]:
    """The moment a SQLite timestamp text names, in UTC (no offset: UTC), split into whole
    seconds and an exact fraction."""
    m = STAMP.fullmatch(text)
    assert m, text
    whole = datetime(*(int(m[i]) for i in range(1, 6)), int(m[6] or 0))
    zone = m[8]
    if zone and zone != "Z":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        whole -= offset if zone[0] == "+" else -offset
    return whole, Decimal("0." + (m[7] or "0"))


def same_moment(source: Any, kept: Any) -> bool:
    whole, fraction = instant(source)
    if kept.tzinfo is not None:
        kept = kept.astimezone(UTC).replace(tzinfo=None)
    held = kept.replace(microsecond=0), Decimal(kept.microsecond) / 1_000_000
    return (whole, fraction) == held


def same_day(source: Any, kept: Any) -> bool:
    """A date keeps a moment only at midnight (in the text's own zone)."""
    m = STAMP.fullmatch(source)
    assert m
    midnight = (int(m[4]), int(m[5]), int(m[6] or 0), Decimal("0." + (m[7] or "0"))) == (
        0,
        0,
        0,
        0,
    )
    return midnight and kept == date(int(m[1]), int(m[2]), int(m[3]))


def same_clock(source: Any, kept: Any) -> bool:
    h, mi, s, *frac = re.split(r"[:.]", source)
    fraction = Decimal("0." + (frac[0] if frac else "0"))
    return (time(int(h), int(mi), int(s)), fraction) == (
        kept.replace(microsecond=0),
        Decimal(kept.microsecond) / 1_000_000,
    )


# -- values as SQLite holds them ----------------------------------------------------------------

FLOATS = st.floats(-1e7, 1e7, allow_nan=False, allow_infinity=False, width=64)
# Smaller magnitudes underflow a real: PostgreSQL refuses them, no loader stores one.
REAL_SIZED = FLOATS.filter(lambda v: v == 0 or abs(v) > 1e-37)
AWKWARD_FLOATS = st.sampled_from(
    [19.999, 0.125, 2.675, 1 / 3, 16777217.0, 16777216.0, 0.1, 0.5, 19.99, 0.0, -0.0]
)


@st.composite
def decimals(draw: st.DrawFn, places: int = 5) -> Any:
    """A decimal with up to ``places`` places, as SQLite's NUMERIC affinity holds it: an
    INTEGER when whole, else the REAL that prints as it."""
    whole = draw(st.integers(-9_999_999, 9_999_999))
    fraction = draw(st.text("0123456789", max_size=places))
    value = Decimal(f"{whole}.{fraction}0")
    if value == value.to_integral_value():
        return int(value)
    return float(value)


@st.composite
def timestamp_texts(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1)))
    if draw(st.booleans()):
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    text = moment.strftime("%Y-%m-%d") + draw(st.sampled_from("T ")) + moment.strftime("%H:%M")
    if draw(st.booleans()):
        text += moment.strftime(":%S")
        fraction = draw(st.sampled_from(["", "0", "25", "123", "123456", "1234565", "000000000"]))
        text += "." + fraction if fraction else ""
    zone = draw(st.sampled_from(["", "", "Z", "+00:00", "+02:00", "-05:30"]))
    return text + zone


@st.composite
def time_texts(draw: st.DrawFn) -> str:
    h, m, s = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    fraction = draw(st.sampled_from(["", "5", "499999", "5000001", "25"]))
    return f"{h:02d}:{m:02d}:{s:02d}" + (f".{fraction}" if fraction else "")


TEXTS = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=7).map(
    lambda t: t + " " * (len(t) % 3)
)


@dataclass(frozen=True)
class Pair:
    sqlite: str
    postgres: str
    values: st.SearchStrategy[Any]
    same: Callable[[Any, Any], bool]
    via: str = ""
    """A type the text goes through first (PostgreSQL reads '2.5' as no integer)."""
    read: str = "v"
    """How the oracle reads the stored value back (a real's exact value needs float8)."""

    @property
    def id(self) -> str:
        return f"{self.sqlite}->{self.postgres}"


PAIRS = [
    Pair("REAL", "real", REAL_SIZED | AWKWARD_FLOATS, same_float, read="v::float8"),
    Pair("REAL", "double precision", FLOATS | AWKWARD_FLOATS, same_float),
    Pair("REAL", "numeric(10,2)", FLOATS | AWKWARD_FLOATS, same_float),
    Pair("REAL", "bigint", FLOATS | AWKWARD_FLOATS, same_float, via="numeric"),
    Pair("NUMERIC", "numeric(10,2)", decimals() | AWKWARD_FLOATS, same_decimal),
    Pair("NUMERIC", "numeric", decimals(), same_decimal),
    Pair("NUMERIC", "integer", decimals(2), same_decimal, via="numeric"),
    Pair("NUMERIC", "real", decimals(), same_float, read="v::float8"),
    Pair("INTEGER", "real", st.integers(-(2**31), 2**31), same_float, read="v::float8"),
    Pair("INTEGER", "double precision", st.integers(-(2**62), 2**62), same_float),
    Pair("INTEGER", "numeric(12,0)", st.integers(-(10**11), 10**11), same_decimal),
    Pair("TEXT", "varchar(5)", TEXTS, same_text),
    Pair("TEXT", "char(5)", TEXTS, same_padded),
    Pair("DATETIME", "timestamp", timestamp_texts(), same_moment),
    Pair("DATETIME", "timestamp(0)", timestamp_texts(), same_moment),
    Pair("DATETIME", "timestamp(3)", timestamp_texts(), same_moment),
    Pair("DATETIME", "timestamptz", timestamp_texts(), same_moment),
    Pair("DATETIME", "timestamptz(0)", timestamp_texts(), same_moment),
    Pair("DATE", "date", timestamp_texts(), same_day),
    Pair("TIME", "time", time_texts(), same_clock),
    Pair("TIME", "time(0)", time_texts(), same_clock),
]


def as_loader_sends(value: Any) -> str:
    """The text a loader writes for a SQLite value (pgloader: the shortest exact form)."""
    return repr(value) if isinstance(value, float) else str(value)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
@LOSSY
@given(data=st.data())
def test_a_difference_is_reported_exactly_when_postgresql_stored_another_value(
    conn: psycopg.Connection[Any], pair: Pair, data: st.DataObject
) -> None:
    values = data.draw(st.lists(pair.values, **BATCH))
    source, target = parse(pair.sqlite, "sqlite"), parse(pair.postgres, "postgres")
    compared = canon.domain(source, target)
    via = sql.SQL(f"::{pair.via}" if pair.via else "")
    query = sql.SQL(
        "SELECT {canon}, {read} FROM (SELECT raw{via}::{type} AS v, n"
        " FROM unnest(%s::text[]) WITH ORDINALITY AS u(raw, n)) AS s ORDER BY n"
    ).format(
        canon=sql.SQL(canon.sql("v", compared)),
        read=sql.SQL(pair.read),
        via=via,
        type=sql.SQL(pair.postgres),
    )
    rows = conn.execute(query, ([as_loader_sends(v) for v in values],)).fetchall()
    ours = canon.python(compared)
    model = stored.model(target)
    wrong = []
    for value, (pg_text, kept) in zip(values, rows, strict=True):
        reported = ours(value) != pg_text
        changed = not pair.same(value, kept)
        if reported != changed:
            wrong.append(f"{value!r} stored as {kept!r}: changed={changed}, reported={reported}")
        if pair.via:
            continue  # the model is of what PostgreSQL takes as input, which '2.5' is not
        try:
            predicted = ours(model(value))
        except stored.Unstorable:  # an insert would refuse it (a cast cuts it short)
            if not changed:
                wrong.append(f"{value!r}: kept by PostgreSQL, refused by the model")
            continue
        if predicted != pg_text:
            wrong.append(f"{value!r}: stored {pg_text!r}, the model predicts {predicted!r}")
    assert not wrong, "\n".join(wrong)
