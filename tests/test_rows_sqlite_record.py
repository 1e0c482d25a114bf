"""SQLite's fast record fields give exactly the Python canon's bytes, for any stored value.

The row hash of a SQLite row is built by SQLite (harness.rows.sqlite_record) and compared
with PostgreSQL's; the Python canon (harness.rows.canon.python, itself held to PostgreSQL by
test_rows_canon.py) is the definition. Values of every storage class go into a column
without affinity, so SQLite keeps them as given — as it does in real application files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.rows import sqlite_record
from harness.rows.canon import CanonOptions, python
from harness.rows.encode import record_field, record_text
from harness.types import TypeInfo

TYPES = {
    "bigint": TypeInfo("integer", "bigint", bits=64),
    "integer": TypeInfo("integer", "integer", bits=32),
    "numeric(12,2)": TypeInfo("numeric", "numeric(12,2)", precision=12, scale=2),
    "numeric(10,0)": TypeInfo("numeric", "numeric(10,0)", precision=10, scale=0),
    "numeric(20,6)": TypeInfo("numeric", "numeric(20,6)", precision=20, scale=6),
    "numeric(30,14)": TypeInfo("numeric", "numeric(30,14)", precision=30, scale=14),
    "numeric": TypeInfo("numeric", "numeric"),
    "text": TypeInfo("text", "text"),
    "char(8)": TypeInfo("text", "char(8)", length=8, fixed_length=True),
    "timestamp": TypeInfo("timestamp", "timestamp"),
    "timestamptz": TypeInfo("timestamptz", "timestamptz"),
    "date": TypeInfo("date", "date"),
    "boolean": TypeInfo("boolean", "boolean"),
    "float8": TypeInfo("float", "double precision", bits=53),
    "uuid": TypeInfo("uuid", "uuid"),
    "bytea": TypeInfo("bytes", "bytea"),
}
OPTIONS = {"default": CanonOptions(), "rtrim": CanonOptions(rtrim=True)}

digits = st.integers(0, 9).map(str)
stamps = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac: (
        f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}" + frac
    ),
    st.integers(0, 9999),
    st.integers(0, 19),
    st.integers(0, 39),
    st.sampled_from([" ", "T", "t", "_"]),
    st.integers(0, 29),
    st.integers(0, 69),
    st.integers(0, 69),
    st.sampled_from(["", ".5", ".123456", ".1234567", ".000000"]),
)
cents = st.integers(-(10**13), 10**13).map(lambda k: k / 100)
scaled = st.builds(lambda k, s: k / 10**s, st.integers(-(10**15), 10**15), st.integers(0, 16))
values = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),  # SQLite stores NaN as NULL
    cents,
    scaled,
    st.text(),
    st.text(alphabet=' \t\n\r\v\f"\\(),ab0.-:T٣'),
    stamps,
    st.binary(max_size=20),
    st.sampled_from([0, 1, 2, -1, 0.0, -0.0, 1.0, 0.125, 2.675, 1e15, "t", "", " ", "1"]),
)


@pytest.fixture(scope="module")
def conn() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE v (x)")  # no declared type: no affinity, values kept as given
    yield conn
    conn.close()


def sql_field(
    conn: sqlite3.Connection, value: object, target: TypeInfo, options: CanonOptions
) -> str:
    sqlite_record.register(conn, "fallback", target, options)
    expr = sqlite_record.field_sql('"x"', target, options, "fallback")
    conn.execute("DELETE FROM v")
    conn.execute("INSERT INTO v VALUES (?)", (value,))
    ((field,),) = conn.execute(f"SELECT {expr} FROM v").fetchall()  # noqa: S608
    return str(field)


def python_field(
    conn: sqlite3.Connection, value: object, target: TypeInfo, options: CanonOptions
) -> str:
    # What SQLite hands back for the stored value: the canon sees that, not the input.
    ((stored,),) = conn.execute("SELECT x FROM v").fetchall()
    return record_field(None if stored is None else python(target, options)(stored))


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("type_name", sorted(TYPES))
@settings(max_examples=150, deadline=None)
@given(value=values)
@example(value=0.125)
@example(value=2.675)
@example(value=-0.0)
@example(value=-0.07)
@example(value=9999999999.99)
@example(value="2020-01-01 00:00:01.000007")
@example(value="2020-01-01T00:00:01")
@example(value="2020-13-45 25:61:61.999999")
@example(value="٢٠٢٠-01-01 00:00:01")
@example(value="a b")
@example(value='say "hi"\\')
def test_sqlite_field_is_the_python_canon(
    conn: sqlite3.Connection, type_name: str, option: str, value: object
) -> None:
    target, options = TYPES[type_name], OPTIONS[option]
    fast = sql_field(conn, value, target, options)
    assert fast == python_field(conn, value, target, options)


def test_record_text_joins_fields() -> None:
    texts = ("1", None, "", "a b", '"q"', "12.30")
    assert record_text(texts) == '(1,,"","a b","""q""",12.30)'
    assert sqlite_record.record_sql(["'1'", "''"]) == "'(' || '1' || ',' || '' || ')'"


def test_fast_paths_take_the_common_shapes(conn: sqlite3.Connection) -> None:
    """Guard against a fast path that silently never fires (everything via Python)."""

    def refuse(_value: object) -> str:
        raise AssertionError("fallback called")

    conn.create_function("refuse", 1, refuse)
    cases = [
        (TYPES["bigint"], 42, "42"),
        (TYPES["numeric(12,2)"], 12.3, "12.30"),
        (TYPES["numeric(12,2)"], -0.07, "-0.07"),
        (TYPES["numeric(12,2)"], 7, "7.00"),
        (TYPES["text"], "a b", '"a b"'),
        (TYPES["text"], "plain", "plain"),
        (TYPES["timestamp"], "2020-01-01T00:00:01.000007", '"2020-01-01 00:00:01.000007"'),
        (TYPES["timestamp"], "2020-01-01 00:00:01", '"2020-01-01 00:00:01.000000"'),
        (TYPES["boolean"], 1, "t"),
    ]
    for target, value, expected in cases:
        expr = sqlite_record.field_sql('"x"', target, CanonOptions(), "refuse")
        conn.execute("DELETE FROM v")
        conn.execute("INSERT INTO v VALUES (?)", (value,))
        assert conn.execute(f"SELECT {expr} FROM v").fetchone() == (expected,)  # noqa: S608
