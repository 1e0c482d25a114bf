"""Specification of harness.rows.canon: PostgreSQL's and Python's canonical text agree.

Every test draws a batch of logical values, gives PostgreSQL each one as its own typed value
(a query parameter, cast by the server) and gives Python each one as SQLite would hold it
(REAL or INTEGER money, ISO text with or without ``T``, 0/1 booleans, UUID text or blobs),
then demands the same canonical text, value by value. One query per batch keeps the whole
file fast; a failure names the value and both outputs.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql

from harness.db.typemap import parse
from harness.embedded.provision import PostgresCluster
from harness.rows import canon
from harness.rows.canon import CanonOptions
from harness.rows.encode import FieldForm

# One batch per example: 40 examples of up to 40 values is ~1,600 values a family, enough to
# reach the rounding and escaping corners, and the whole file stays well under 30 s.
CANON = settings(max_examples=40, deadline=None)
BATCH = {"min_size": 1, "max_size": 40}
DEFAULT = CanonOptions()

# The families SQLite's fast paths take (harness.rows.sqlite_fields): their canonical texts,
# stored in SQLite as text, must canonise to themselves. (Not so for every family: a float
# rounded to one digit can round up to 2e+308, which reads back as Infinity.)
FIXED_POINT_FAMILIES = {"integer", "numeric", "text", "timestamp", "boolean"}

# PostgreSQL text and jsonb cannot hold NUL; surrogates are not UTF-8.
TEXT_CHARS = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


@pytest.fixture(scope="module")
def conn(pg_cluster: PostgresCluster) -> Iterator[psycopg.Connection[Any]]:
    """One session for the module; canon needs no tables, only the server's casts."""
    with psycopg.connect(pg_cluster.conninfo(), autocommit=True) as connection:
        yield connection


def pg_canon(
    conn: psycopg.Connection[Any],
    pg_type: str,
    values: Sequence[Any],
    *,
    array: str = "text",
    options: CanonOptions = DEFAULT,
    field: bool = False,
) -> list[str]:
    """canon.sql for ``pg_type``, evaluated by PostgreSQL on each of ``values`` (or, with
    ``field``, the fields encoding's field of it: harness.rows.encode.FieldForm.sql).

    The values travel as one ``array[]`` parameter and are cast to ``pg_type`` by the server,
    exactly as a loader's parameters would be.
    """
    target = parse(pg_type, "postgres")
    expression = canon.sql("v", target, options)
    if field:
        expression = FieldForm.of(target).sql("v", expression)
    query = sql.SQL(
        "SELECT {canon} FROM (SELECT raw::{type} AS v, n"
        " FROM unnest(%s::{array}[]) WITH ORDINALITY AS u(raw, n)) AS s ORDER BY n"
    ).format(canon=sql.SQL(expression), type=sql.SQL(pg_type), array=sql.SQL(array))
    return [row[0] for row in conn.execute(query, (list(values),)).fetchall()]


def py_canon(pg_type: str, values: Sequence[Any], *, options: CanonOptions = DEFAULT) -> list[str]:
    """canon.python for ``pg_type`` applied to each of ``values``."""
    convert = canon.python(parse(pg_type, "postgres"), options)
    return [convert(value) for value in values]


def assert_agree(
    pg_values: Sequence[Any],
    sqlite_values: Sequence[Any],
    pg: Sequence[str],
    py: Sequence[str],
) -> None:
    """Fail with every value whose two canonical texts differ."""
    assert len(pg) == len(py) == len(pg_values)
    wrong = [
        f"{pg_value!r} (python got {sqlite_value!r}): sql={a!r} python={b!r}"
        for pg_value, sqlite_value, a, b in zip(pg_values, sqlite_values, pg, py, strict=True)
        if a != b
    ]
    assert not wrong, "canon.sql and canon.python disagree:\n" + "\n".join(wrong)


def check(
    conn: psycopg.Connection[Any],
    pg_type: str,
    pairs: Sequence[tuple[Any, Any]],
    *,
    array: str = "text",
    options: CanonOptions = DEFAULT,
) -> None:
    """Each pair is (what PostgreSQL is given, what SQLite would hold) for one logical value."""
    pg_values = [p for p, _ in pairs]
    sqlite_values = [s for _, s in pairs]
    pg = pg_canon(conn, pg_type, pg_values, array=array, options=options)
    assert_agree(pg_values, sqlite_values, pg, py_canon(pg_type, sqlite_values, options=options))
    fields = pg_canon(conn, pg_type, pg_values, array=array, options=options, field=True)
    assert_fields_ready(pg_type, pg, fields, options)


def assert_fields_ready(
    pg_type: str, pg: Sequence[str], fields: Sequence[str], options: CanonOptions
) -> None:
    """What the fields encoding and SQLite's fast paths rely on (harness.rows.encode,
    harness.rows.sqlite_fields): PostgreSQL writes each field as Python writes its canonical
    text; a bare family's text is never empty, never ``~`` and never holds a comma; and every
    canonical text, read back as SQLite text, canonises to itself."""
    target = parse(pg_type, "postgres")
    form = FieldForm.of(target)
    assert list(fields) == [form.write(text) for text in pg]
    if form.bare:
        assert all(text and text != "~" and "," not in text for text in pg), pg
    if target.family in FIXED_POINT_FAMILIES:
        assert py_canon(pg_type, pg, options=options) == list(pg)


def as_sqlite(draw: st.DrawFn, forms: Sequence[Any]) -> Any:
    """One of the forms SQLite may hold for the same value."""
    return draw(st.sampled_from(forms))


# -- numbers ---------------------------------------------------------------------------------


@st.composite
def integer_pair(draw: st.DrawFn, bits: int) -> tuple[str, Any]:
    n = draw(st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))
    forms: list[Any] = [n, str(n), f" {n} "]
    if abs(n) < 2**53:  # an INTEGER column may still hold the exact REAL
        forms.append(float(n))
    return str(n), as_sqlite(draw, forms)


@st.composite
def numeric_pair(draw: st.DrawFn, precision: int | None, scale: int | None) -> tuple[str, Any]:
    """A decimal the column can hold; SQLite has it as TEXT, INTEGER or REAL."""
    if precision is None:  # unscaled: up to 40 digits each side, past Decimal's 28 digits
        whole, places = 40, 40
    else:  # what the column holds exactly (tests/test_rows_lossy.py: the places it rounds)
        assert scale is not None
        whole, places = precision - scale, scale
    integer = draw(st.text("0123456789", min_size=1, max_size=whole))
    fraction = draw(st.text("0123456789", max_size=places))
    value = Decimal(draw(st.sampled_from(["", "-"])) + integer + "." + fraction + "0")
    kept = Decimal(1).scaleb(-(scale or 0))
    if precision is not None and abs(value.quantize(kept)) >= 10 ** (precision - (scale or 0)):
        value = Decimal(0)  # rounding up would overflow the column
    forms: list[Any] = [str(value)]
    if value == value.to_integral_value() and abs(value) < 2**63:
        forms.append(int(value))
    as_float = float(value)
    if Decimal(repr(as_float)) == value:  # money as REAL: the double prints as the number
        forms.append(as_float)
    return str(value), as_sqlite(draw, forms)


@pytest.mark.parametrize("pg_type", ["smallint", "integer", "bigint"])
@CANON
@given(data=st.data())
def test_integers_agree(conn: psycopg.Connection[Any], pg_type: str, data: st.DataObject) -> None:
    bits = parse(pg_type, "postgres").bits
    assert bits is not None
    check(conn, pg_type, data.draw(st.lists(integer_pair(bits), **BATCH)))


@pytest.mark.parametrize(
    ("pg_type", "precision", "scale"),
    [
        ("numeric(12,2)", 12, 2),
        ("numeric(20,6)", 20, 6),
        ("numeric(5,0)", 5, 0),
        ("numeric", None, None),
    ],
)
@CANON
@given(data=st.data())
def test_numerics_agree(
    conn: psycopg.Connection[Any],
    pg_type: str,
    precision: int | None,
    scale: int | None,
    data: st.DataObject,
) -> None:
    check(conn, pg_type, data.draw(st.lists(numeric_pair(precision, scale), **BATCH)))


FLOAT4_MAX = struct.unpack("f", b"\xff\xff\x7f\x7f")[0]


def fits_float4(value: float) -> bool:
    """Whether PostgreSQL's float8 → real cast accepts it (no overflow, no underflow to 0)."""
    if not math.isfinite(value) or value == 0:
        return True
    return abs(value) <= FLOAT4_MAX and struct.unpack("f", struct.pack("f", value))[0] != 0


SPECIAL_FLOATS = st.sampled_from([float("nan"), float("inf"), float("-inf"), 0.0, -0.0])


@pytest.mark.parametrize("pg_type", ["double precision", "real"])
@CANON
@given(
    values=st.lists(st.floats(allow_nan=False, allow_infinity=False) | SPECIAL_FLOATS, **BATCH),
    digits=st.integers(1, 17),
)
def test_floats_agree(
    conn: psycopg.Connection[Any], pg_type: str, values: list[float], digits: int
) -> None:
    if pg_type == "real":  # a loader sends the double; the server rounds it to float4
        values = [v for v in values if fits_float4(v)]
    pairs = [(v, v) for v in values]
    # float8[] keeps every bit; the server's float8 → real cast is the insert's rounding.
    check(conn, pg_type, pairs, array="float8", options=CanonOptions(float_digits=digits))


# -- text ------------------------------------------------------------------------------------


@st.composite
def padded_text(draw: st.DrawFn, max_size: int = 30) -> str:
    body = draw(st.text(TEXT_CHARS, max_size=max_size))
    return body + " " * draw(st.integers(0, 3))


@CANON
@given(values=st.lists(padded_text(), **BATCH), rtrim=st.booleans())
def test_text_agrees(conn: psycopg.Connection[Any], values: list[str], rtrim: bool) -> None:
    check(conn, "text", [(v, v) for v in values], options=CanonOptions(rtrim=rtrim))


@CANON
@given(values=st.lists(padded_text(max_size=8), **BATCH))
def test_char_n_compares_without_its_padding(
    conn: psycopg.Connection[Any], values: list[str]
) -> None:
    values = [v[:12] for v in values]  # what fits char(12); SQLite holds it unpadded
    check(conn, "char(12)", [(v, v) for v in values])


def test_text_keeps_trailing_spaces_unless_asked(conn: psycopg.Connection[Any]) -> None:
    assert pg_canon(conn, "text", ["a ", ""]) == py_canon("text", ["a ", ""]) == ["a ", ""]
    trimmed = CanonOptions(rtrim=True)
    assert pg_canon(conn, "text", ["a  "], options=trimmed) == ["a"]
    assert py_canon("text", ["a  "], options=trimmed) == ["a"]


# -- dates and times -------------------------------------------------------------------------

# Years 2..9998: an offset or a rounded fraction must not carry the value outside what
# Python's datetime can hold (PostgreSQL's range is wider; SQLite text never gets there).
MOMENTS = st.datetimes(datetime(2, 1, 1), datetime(9998, 12, 31))


@st.composite
def clock_text(draw: st.DrawFn, moment: datetime) -> str:
    """``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.f`` with 1-6 fraction digits (or 7-9 ending in
    zeros: what a timestamp holds exactly)."""
    text = f"{moment.hour:02d}:{moment.minute:02d}"
    if draw(st.booleans()):
        text += f":{moment.second:02d}"
        fraction = draw(st.text("0123456789", min_size=0, max_size=6))
        fraction += "0" * draw(st.integers(0, 3)) if fraction else ""
        if fraction:
            text += "." + fraction
    return text


@st.composite
def zone_text(draw: st.DrawFn) -> str:
    """``Z``, ``+HH``, ``+HHMM`` or ``+HH:MM`` within PostgreSQL's accepted offsets."""
    if draw(st.booleans()):
        return draw(st.sampled_from(["Z", "z"])) if draw(st.booleans()) else "+00:00"
    sign = draw(st.sampled_from("+-"))
    hours, minutes = draw(st.integers(0, 14)), draw(st.sampled_from([0, 15, 30, 45, 59]))
    return draw(
        st.sampled_from(
            [
                f"{sign}{hours:02d}",
                f"{sign}{hours:02d}{minutes:02d}",
                f"{sign}{hours:02d}:{minutes:02d}",
            ]
        )
    )


@st.composite
def timestamp_text(draw: st.DrawFn, *, zone: bool | None) -> str:
    """ISO text as SQLite holds it: ``T`` or space, optional seconds and fraction, optional
    offset (``zone=None``: sometimes)."""
    moment = draw(MOMENTS)
    text = moment.date().isoformat() + draw(st.sampled_from("T ")) + draw(clock_text(moment))
    if zone or (zone is None and draw(st.booleans())):
        text += draw(zone_text())
    return text


@CANON
@given(values=st.lists(timestamp_text(zone=False), **BATCH))
def test_timestamps_agree(conn: psycopg.Connection[Any], values: list[str]) -> None:
    # (An offset in the text is dropped by a timestamp without time zone: a lossy move,
    # tests/test_rows_lossy.py.)
    check(conn, "timestamp", [(v, v) for v in values])


@CANON
@given(values=st.lists(timestamp_text(zone=True), **BATCH))
def test_timestamptz_with_offsets_agree_in_any_session_zone(
    conn: psycopg.Connection[Any], values: list[str]
) -> None:
    conn.execute("SET TimeZone = 'America/St_Johns'")  # a half-hour zone with DST
    try:
        check(conn, "timestamptz", [(v, v) for v in values])
    finally:
        conn.execute("SET TimeZone = 'UTC'")


@CANON
@given(values=st.lists(timestamp_text(zone=False), **BATCH))
def test_timestamptz_without_offset_is_utc(
    conn: psycopg.Connection[Any], values: list[str]
) -> None:
    # canon takes offset-less SQLite text as UTC; a loader must then write it in a UTC session.
    conn.execute("SET TimeZone = 'UTC'")
    check(conn, "timestamptz", [(v, v) for v in values])


def test_fractions_past_microseconds_never_match_what_postgresql_rounded_them_to(
    conn: psycopg.Connection[Any],
) -> None:
    # PostgreSQL rounds a 7-digit fraction away (as a double: .0001255 → 125 µs); SQLite's
    # text still holds it, so the value changed and the two texts must differ.
    fractions = [f"{n:06d}5" for n in range(0, 1_000_000, 99_991)] + ["9999995", "0001255"]
    stamps = [f"2024-02-29T23:59:59.{fraction}" for fraction in fractions]
    for pg_type, values in (("timestamp", stamps), ("time", [v[11:] for v in stamps])):
        stored, kept = pg_canon(conn, pg_type, values), py_canon(pg_type, values)
        assert all(a != b and b.startswith("!") for a, b in zip(stored, kept, strict=True))
    check(conn, "timestamp", [("2024-02-29T23:59:59.1234560", "2024-02-29T23:59:59.1234560")])


@st.composite
def date_pair(draw: st.DrawFn) -> tuple[str, str]:
    day = draw(st.dates(date(1, 1, 1), date(9999, 12, 31)))
    text = day.isoformat()
    if draw(st.booleans()):  # a DATE column holding a timestamp's text, at midnight
        text += draw(st.sampled_from("T ")) + draw(st.sampled_from(["00:00", "00:00:00.000"]))
    return text, text


@CANON
@given(pairs=st.lists(date_pair(), **BATCH))
def test_dates_agree(conn: psycopg.Connection[Any], pairs: list[tuple[str, str]]) -> None:
    check(conn, "date", pairs)


@st.composite
def time_text(draw: st.DrawFn) -> str:
    return draw(clock_text(draw(MOMENTS))) if draw(st.integers(0, 20)) else "24:00:00"


@CANON
@given(values=st.lists(time_text(), **BATCH))
def test_times_agree(conn: psycopg.Connection[Any], values: list[str]) -> None:
    check(conn, "time", [(v, v) for v in values])


# -- boolean, bytes, uuid, json --------------------------------------------------------------

BOOLEAN_FORMS = {
    True: [1, "1", "t", "true", "TRUE", "y", "yes", "on", " True "],
    False: [0, "0", "f", "false", "FALSE", "n", "no", "off", " False "],
}


@st.composite
def boolean_pair(draw: st.DrawFn) -> tuple[bool, Any]:
    value = draw(st.booleans())
    return value, as_sqlite(draw, BOOLEAN_FORMS[value])


@CANON
@given(pairs=st.lists(boolean_pair(), **BATCH))
def test_booleans_agree(conn: psycopg.Connection[Any], pairs: list[tuple[bool, Any]]) -> None:
    check(conn, "boolean", pairs, array="boolean")


@CANON
@given(values=st.lists(st.binary(max_size=64), **BATCH))
def test_bytes_agree(conn: psycopg.Connection[Any], values: list[bytes]) -> None:
    check(conn, "bytea", [(v, v) for v in values], array="bytea")


@st.composite
def uuid_pair(draw: st.DrawFn) -> tuple[str, Any]:
    value = draw(st.uuids())
    return str(value), as_sqlite(draw, [str(value), str(value).upper(), value.bytes])


@CANON
@given(pairs=st.lists(uuid_pair(), **BATCH))
def test_uuids_agree(conn: psycopg.Connection[Any], pairs: list[tuple[str, Any]]) -> None:
    check(conn, "uuid", pairs)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(TEXT_CHARS, max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(TEXT_CHARS, max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def json_text(draw: st.DrawFn) -> str:
    """The JSON text SQLite would hold, however the writer spaced and escaped it."""
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]))
    return json.dumps(draw(JSON_VALUES), ensure_ascii=draw(st.booleans()), separators=separators)


@pytest.mark.parametrize("pg_type", ["json", "jsonb"])
@CANON
@given(values=st.lists(json_text(), **BATCH))
def test_json_agrees(conn: psycopg.Connection[Any], pg_type: str, values: list[str]) -> None:
    check(conn, pg_type, [(v, v) for v in values])


@pytest.mark.parametrize("pg_type", ["timestamp", "timestamptz", "date"])
def test_infinite_and_bc_moments_keep_their_own_text(
    conn: psycopg.Connection[Any], pg_type: str
) -> None:
    # to_char gives NULL for infinity (which would then meet a NULL) and drops the era.
    values = ["infinity", "-infinity", "0044-03-15 BC", "0044-03-15"]
    texts = pg_canon(conn, pg_type, values)
    assert None not in texts
    assert len(set(texts)) == 4, texts
    assert texts[:2] == py_canon(pg_type, ["infinity", "-Infinity"]) == ["infinity", "-infinity"]
    assert texts[2].endswith(" BC" + ("Z" if pg_type == "timestamptz" else ""))
