"""SQLite's fast fields agree with the Python canon wherever PostgreSQL could agree with them.

A SQLite segment's text is built by SQLite (harness.rows.sqlite_fields) and its digest
compared with PostgreSQL's; the Python canon (harness.rows.canon.python, itself held to
PostgreSQL by test_rows_canon.py) is the definition. A fast field must either be the Python
canon's field, or be one no PostgreSQL row can produce: it holds a NUL, or it is not a fixed
point of the Python canon (every PostgreSQL canonical text is one: test_rows_canon.py). And it
must always be readable, or the rows after it would shift. Values of every storage class go
into a column without affinity, so SQLite keeps them as given — as in real application files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.db.typemap import TypeInfo
from harness.rows import sqlite_fields
from harness.rows.canon import CanonOptions, python
from harness.rows.encode import FieldForm, fields_text, parse_fields

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
    sqlite_fields.register(conn, "fallback", target, options)
    expr = sqlite_fields.field_sql('"x"', target, options, "fallback")
    conn.execute("DELETE FROM v")
    conn.execute("INSERT INTO v VALUES (?)", (value,))
    ((fast,),) = conn.execute(f"SELECT {expr} FROM v").fetchall()  # noqa: S608
    return str(fast)


def python_field(
    conn: sqlite3.Connection, value: object, target: TypeInfo, options: CanonOptions
) -> str:
    # What SQLite hands back for the stored value: the canon sees that, not the input.
    ((stored,),) = conn.execute("SELECT x FROM v").fetchall()
    text = None if stored is None else python(target, options)(stored)
    return FieldForm.of(target).write(text)


def could_be_postgres(fast: str, target: TypeInfo, options: CanonOptions) -> bool:
    """Whether ``fast`` could be a PostgreSQL row's field; fails if it is not readable."""
    if "\x00" in fast:
        return False  # PostgreSQL text never holds a NUL
    form = FieldForm.of(target)
    assert parse_fields(fast, [form]) is not None  # readable: raises otherwise
    text = form.read(fast)
    return text is None or python(target, options)(text) == text


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
@example(value="2020-01-01X00:00:00.00000T")
@example(value="2020-01-01 00:00:0T")
@example(value="٢٠٢٠-01-01 00:00:01")
@example(value="a b")
@example(value='say "hi"\\')
def test_sqlite_field_is_the_python_canon(
    conn: sqlite3.Connection, type_name: str, option: str, value: object
) -> None:
    target, options = TYPES[type_name], OPTIONS[option]
    fast = sql_field(conn, value, target, options)
    slow = python_field(conn, value, target, options)
    assert fast == slow or not could_be_postgres(fast, target, options), (fast, slow)


# What each form's canonical texts look like: a bare family's is never empty and never holds
# a comma, a scaled numeric's has exactly its scale's places; free text may be anything.
FORMS = {
    FieldForm(bare=True): st.text(min_size=1).filter(lambda t: "," not in t and t != "~"),
    FieldForm(bare=False): st.text(),
    FieldForm(bare=True, scale=2): st.integers(-(10**14), 10**14).map(
        lambda k: f"{'-' if k < 0 else ''}{abs(k) // 100}.{abs(k) % 100:02d}"
    ),
    FieldForm(bare=True, scale=0): st.integers(-(10**14), 10**14).map(str),
}


@given(forms=st.lists(st.sampled_from(sorted(FORMS, key=repr)), max_size=6), data=st.data())
def test_fields_text_reads_back(forms: list[FieldForm], data: st.DataObject) -> None:
    texts = [data.draw(st.none() | FORMS[form]) for form in forms]
    assert parse_fields(fields_text(texts, forms), forms) == texts


def test_fields_text_keeps_null_empty_and_commas_apart() -> None:
    bare, free, cents = FieldForm(bare=True), FieldForm(bare=False), FieldForm(True, 2)
    forms = [bare, free, free, free, bare, cents, cents]
    text = fields_text(["12", None, "", "a,b", None, "-0.07", "12.30"], forms)
    assert text == "12,~,0:,3:a,b,~,-7,1230"
    assert parse_fields(text, forms) == ["12", None, "", "a,b", None, "-0.07", "12.30"]
    assert sqlite_fields.row_sql(["'1'", "'~'"]) == "'1' || ',' || '~'"
    # A bare value PostgreSQL never writes (the canon's mark for an unusable SQLite value).
    assert bare.write("!'a,b'") == "!!'a;b'"
    assert bare.write("~") == "!~"


def test_fast_paths_take_the_common_shapes(conn: sqlite3.Connection) -> None:
    """Guard against a fast path that silently never fires (everything via Python)."""

    def refuse(_value: object) -> str:
        raise AssertionError("fallback called")

    conn.create_function("refuse", 1, refuse)
    cases = [
        (TYPES["bigint"], 42, "42"),
        (TYPES["numeric(12,2)"], 12.3, "1230"),
        (TYPES["numeric(12,2)"], -0.07, "-7"),
        (TYPES["numeric(12,2)"], 7, "700"),
        (TYPES["numeric(10,0)"], 7.0, "7"),
        (TYPES["text"], "a b", "3:a b"),
        (TYPES["text"], "", "0:"),
        (TYPES["char(8)"], "ab  ", "2:ab"),
        (TYPES["timestamp"], "2020-01-01T00:00:01.000007", "2020-01-01 00:00:01.000007"),
        (TYPES["timestamp"], "2020-01-01 00:00:01", "2020-01-01 00:00:01.000000"),
        (TYPES["boolean"], 1, "t"),
        (TYPES["boolean"], 0, "f"),
    ]
    for target, value, expected in cases:
        expr = sqlite_fields.field_sql('"x"', target, CanonOptions(), "refuse")
        conn.execute("DELETE FROM v")
        conn.execute("INSERT INTO v VALUES (?)", (value,))
        assert str(conn.execute(f"SELECT {expr} FROM v").fetchone()[0]) == expected  # noqa: S608
