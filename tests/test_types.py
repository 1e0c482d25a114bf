"""Specification of harness.db.typemap: declared types in one normal form, and how two relate."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.db import typemap as types
from harness.db.typemap import MATRIX_EXAMPLES, Compat, TypeInfo, compare, parse, sqlite_affinity

REPO = Path(__file__).resolve().parents[1]

E, W, N, X = Compat.EQUIVALENT, Compat.WIDENING, Compat.NARROWING, Compat.INCOMPATIBLE

# The class each documented example must have, stated here independently of the code.
EXPECTED_CLASS: dict[tuple[str, str, str, str], Compat] = {
    # The examples from the issue:
    ("sqlite", "NVARCHAR(160)", "postgres", "character varying(160)"): E,
    ("sqlite", "DATETIME", "postgres", "timestamp without time zone"): E,
    ("postgres", "numeric(12,2)", "postgres", "numeric(10,2)"): N,
    ("postgres", "text", "postgres", "character varying(20)"): N,
    ("postgres", "integer", "postgres", "bigint"): W,
    ("postgres", "boolean", "postgres", "timestamp without time zone"): X,
    # The rest of the documented matrix:
    ("sqlite", "NUMERIC(10,2)", "postgres", "numeric(10,2)"): E,
    ("sqlite", "BLOB", "postgres", "bytea"): E,
    ("sqlite", "BOOLEAN", "postgres", "boolean"): E,
    ("sqlite", "INTEGER", "postgres", "bigint"): E,
    ("sqlite", "INTEGER", "postgres", "integer"): N,  # SQLite integers are 64-bit
    ("sqlite", "TEXT", "postgres", "character varying(20)"): N,
    ("sqlite", "REAL", "postgres", "double precision"): E,
    ("sqlite", "CHAR(3)", "postgres", "character(3)"): E,
    ("sqlite", "TEXT", "postgres", "uuid"): N,
    ("sqlite", "TEXT", "postgres", "integer"): X,
    ("postgres", "character varying(40)", "postgres", "character varying(80)"): W,
    ("postgres", "numeric(10,2)", "postgres", "numeric(12,2)"): W,
    ("postgres", "date", "postgres", "timestamp without time zone"): W,
    ("postgres", "timestamp without time zone", "postgres", "timestamp with time zone"): W,
    ("postgres", "json", "postgres", "jsonb"): W,
    ("postgres", "bigint", "postgres", "double precision"): N,  # doubles are exact to 2**53
    ("sqlite", "DATETIME", "postgres", "timestamp(0) without time zone"): N,  # drops fractions
    ("sqlite", "REAL", "postgres", "real"): N,  # float4 rounds a double
}


def example_id(example: tuple[str, str, str, str]) -> str:
    s_dialect, s_type, t_dialect, t_type = example
    return f"{s_dialect}:{s_type}->{t_dialect}:{t_type}"


class TestTypeMatrix:
    def test_the_documented_matrix_is_generated_from_the_examples(self) -> None:
        checked_in = (REPO / "docs" / "type-matrix.md").read_text(encoding="utf-8")
        assert checked_in == types.matrix_markdown(), (
            "docs/type-matrix.md is stale; regenerate it with "
            "`python -m harness.db.typemap > docs/type-matrix.md`"
        )

    @pytest.mark.parametrize("example", MATRIX_EXAMPLES, ids=example_id)
    def test_each_documented_example_has_its_stated_class(
        self, example: tuple[str, str, str, str]
    ) -> None:
        assert example in EXPECTED_CLASS, f"state the expected class of {example} in this test"
        s_dialect, s_type, t_dialect, t_type = example
        assert (
            compare(parse(s_type, s_dialect), parse(t_type, t_dialect)) is EXPECTED_CLASS[example]
        )

    def test_every_stated_class_is_documented(self) -> None:
        assert set(EXPECTED_CLASS) <= set(MATRIX_EXAMPLES)


class TestNormalForms:
    @pytest.mark.parametrize(
        ("declared", "dialect", "name"),
        [
            ("NVARCHAR(160)", "sqlite", "varchar(160)"),
            ("character varying(160)", "postgres", "varchar(160)"),
            ("DATETIME", "sqlite", "timestamp"),
            ("timestamp without time zone", "postgres", "timestamp"),
            ("timestamp with time zone", "postgres", "timestamptz"),
            ("int4", "postgres", "integer"),
            ("int8", "postgres", "bigint"),
            ("smallint", "postgres", "smallint"),
            ("numeric(10, 2)", "postgres", "numeric(10,2)"),
            ("numeric", "postgres", "numeric"),
            ("character(3)", "postgres", "char(3)"),
            ("text", "postgres", "text"),
            ("bytea", "postgres", "bytea"),
            ("double precision", "postgres", "double precision"),
            ("real", "postgres", "real"),
        ],
    )
    def test_aliases_fold_into_one_normal_form(
        self, declared: str, dialect: str, name: str
    ) -> None:
        assert parse(declared, dialect).name == name

    def test_an_unknown_postgres_type_is_kept_as_other(self) -> None:
        info = parse("tsvector", "postgres")
        assert (info.family, info.name) == ("other", "tsvector")

    def test_two_unknown_types_are_incompatible_even_with_equal_families(self) -> None:
        assert compare(parse("tsvector", "postgres"), parse("point", "postgres")) is X


# https://www.sqlite.org/datatype3.html §3.1.1, the example table and the notes under it.
AFFINITY_EXAMPLES = {
    "INTEGER": [
        "INT",
        "INTEGER",
        "TINYINT",
        "SMALLINT",
        "MEDIUMINT",
        "BIGINT",
        "UNSIGNED BIG INT",
        "INT2",
        "INT8",
    ],
    "TEXT": [
        "CHARACTER(20)",
        "VARCHAR(255)",
        "VARYING CHARACTER(255)",
        "NCHAR(55)",
        "NATIVE CHARACTER(70)",
        "NVARCHAR(100)",
        "TEXT",
        "CLOB",
    ],
    "BLOB": ["BLOB", ""],
    "REAL": ["REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT"],
    "NUMERIC": ["NUMERIC", "DECIMAL(10,5)", "BOOLEAN", "DATE", "DATETIME"],
}


class TestSqliteAffinity:
    @pytest.mark.parametrize(
        ("declared", "affinity"),
        [(d, a) for a, names in AFFINITY_EXAMPLES.items() for d in names],
    )
    def test_the_documented_examples_get_their_affinity(self, declared: str, affinity: str) -> None:
        assert sqlite_affinity(declared) == affinity

    @pytest.mark.parametrize(
        ("declared", "affinity", "why"),
        [
            ("FLOATING POINT", "INTEGER", "the INT in POINT matches rule 1 before rule 4"),
            ("STRING", "NUMERIC", "no rule matches"),
            ("CHARINT", "INTEGER", "rule 1 comes before rule 2"),
            ("varchar(10)", "TEXT", "matching ignores case"),
            ("BLOBBY TEXT", "TEXT", "rule 2 comes before rule 3"),
        ],
    )
    def test_the_rules_apply_in_order(self, declared: str, affinity: str, why: str) -> None:
        assert sqlite_affinity(declared) == affinity, why

    @pytest.mark.parametrize("declared", [*AFFINITY_EXAMPLES["INTEGER"], "FLOATING POINT"])
    def test_every_integer_affinity_declaration_is_a_64_bit_integer(self, declared: str) -> None:
        assert parse(declared, "sqlite") == TypeInfo("integer", "bigint", bits=64)

    @pytest.mark.parametrize("declared", AFFINITY_EXAMPLES["REAL"])
    def test_every_real_affinity_declaration_is_a_double(self, declared: str) -> None:
        assert parse(declared, "sqlite").name == "double precision"

    @pytest.mark.parametrize("declared", AFFINITY_EXAMPLES["BLOB"])
    def test_blob_affinity_and_no_type_at_all_are_bytes(self, declared: str) -> None:
        assert parse(declared, "sqlite").name == "bytea"

    def test_declared_widths_are_kept_for_comparison(self) -> None:
        assert parse("NVARCHAR(100)", "sqlite") == TypeInfo("text", "varchar(100)", length=100)

    @pytest.mark.parametrize("declared", ['odd"type', "a'b", "wei`rd"])
    def test_a_declared_type_sqlglot_cannot_tokenize_falls_back_to_its_affinity(
        self, declared: str
    ) -> None:
        # SQLite accepts these, e.g. CREATE TABLE t (x [odd"type]).
        assert parse(declared, "sqlite") == TypeInfo("numeric", "numeric")

    @given(st.text())
    def test_any_declared_type_sqlite_accepts_parses(self, declared: str) -> None:
        assert parse(declared, "sqlite").family


POSTGRES_TYPES = st.one_of(
    st.sampled_from(
        [
            "smallint",
            "integer",
            "bigint",
            "numeric",
            "text",
            "boolean",
            "date",
            "timestamp without time zone",
            "timestamp with time zone",
            "time without time zone",
            "bytea",
            "uuid",
            "json",
            "jsonb",
            "real",
            "double precision",
            "interval",
            "tsvector",
        ]
    ),
    st.builds("character varying({})".format, st.integers(1, 10_000)),
    st.builds("character({})".format, st.integers(1, 100)),
    st.builds(lambda p, s: f"numeric({p},{min(s, p)})", st.integers(1, 38), st.integers(0, 38)),
)
SQLITE_TYPES = st.from_regex(
    r"[A-Za-z][A-Za-z ]{0,20}(\([0-9]{1,4}(, ?[0-9]{1,2})?\))?", fullmatch=True
)
PARSED = st.one_of(
    POSTGRES_TYPES.map(lambda t: parse(t, "postgres")),
    SQLITE_TYPES.map(lambda t: parse(t, "sqlite")),
)

INTEGERS = st.sampled_from(["smallint", "integer", "bigint"]).map(lambda t: parse(t, "postgres"))
VARCHARS = st.one_of(
    st.just(parse("text", "postgres")),
    st.integers(1, 10_000).map(lambda n: parse(f"character varying({n})", "postgres")),
)
NUMERICS = st.builds(
    lambda p, s: parse(f"numeric({p},{min(s, p)})", "postgres"),
    st.integers(1, 38),
    st.integers(0, 10),
)
SAME_SCALE_NUMERIC_PAIRS = st.builds(
    lambda p1, p2, s: (
        parse(f"numeric({p1 + s},{s})", "postgres"),
        parse(f"numeric({p2 + s},{s})", "postgres"),
    ),
    st.integers(1, 28),
    st.integers(1, 28),
    st.integers(0, 10),
)


class TestCompareProperties:
    @given(PARSED)
    def test_every_type_is_equivalent_to_itself(self, info: TypeInfo) -> None:
        assert compare(info, info) is E

    @given(
        st.one_of(
            st.tuples(INTEGERS, INTEGERS), st.tuples(VARCHARS, VARCHARS), SAME_SCALE_NUMERIC_PAIRS
        )
    )
    def test_widening_one_way_is_narrowing_the_other_way(
        self, pair: tuple[TypeInfo, TypeInfo]
    ) -> None:
        a, b = pair
        assume(a != b)
        assert (compare(a, b) is W) == (compare(b, a) is N)
        assert {compare(a, b), compare(b, a)} == {W, N}

    @given(NUMERICS, NUMERICS)
    def test_between_numerics_widening_one_way_implies_narrowing_the_other(
        self, a: TypeInfo, b: TypeInfo
    ) -> None:
        # Unlike integers and varchars, numerics are not totally ordered: numeric(10,2) and
        # numeric(12,5) each hold values the other cannot, so both directions narrow.
        assume(a != b)
        if compare(a, b) is W:
            assert compare(b, a) is N
        assert compare(a, b) in (W, N)

    @given(st.one_of(INTEGERS, VARCHARS, NUMERICS), st.one_of(INTEGERS, VARCHARS, NUMERICS))
    def test_never_widening_both_ways(self, a: TypeInfo, b: TypeInfo) -> None:
        assert not (compare(a, b) is W and compare(b, a) is W)

    @given(st.integers(1, 10_000))
    def test_unbounded_text_holds_any_varchar(self, length: int) -> None:
        varchar = parse(f"varchar({length})", "postgres")
        text = parse("text", "postgres")
        assert (compare(varchar, text), compare(text, varchar)) == (W, N)

    @given(st.integers(1, 100))
    def test_char_to_varchar_of_equal_length_widens_and_back_narrows(self, length: int) -> None:
        # varchar -> char pads, so trailing spaces a value had can no longer be told apart.
        char = parse(f"character({length})", "postgres")
        varchar = parse(f"character varying({length})", "postgres")
        assert (compare(char, varchar), compare(varchar, char)) == (W, N)
