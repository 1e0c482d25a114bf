"""Specification of the query-shape reuse: a query analysed once is not parsed again for other
numbers, and what it reports is exactly what a full parse of each statement reports."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from harness.lint import engine
from harness.lint.engine import analyse_statement, query_shape
from harness.lint.pack import RULES_BY_ID
from harness.lint.sources import discover, kind_of, read_fragments
from harness.lint.split import split

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "lint"

# Queries that differ only in numbers, written so that a wrong reuse would show: the number
# in a LIMIT of a write, a repeat() size, SELECT INTO, a quoted name, a string, a comment,
# dollar quotes, E'' strings, decimals and exponents, a parse failure that quotes a number.
VARIANTS = [
    "SELECT * FROM t WHERE id = {n} FOR UPDATE;",
    "SELECT * FROM t WHERE id = {n} FOR SHARE;",
    "SELECT count(*) FROM t LIMIT {n};",
    "WITH x AS (DELETE FROM t WHERE id = {n} RETURNING *) SELECT * FROM x;",
    "WITH x AS (INSERT INTO t SELECT * FROM u LIMIT {n} RETURNING *) SELECT * FROM x;",
    "WITH x AS (INSERT INTO t VALUES (repeat('x', {n})) RETURNING *) SELECT * FROM x;",
    "SELECT repeat('x', {n}) FROM t;",
    "SELECT * INTO t{n} FROM u;",
    "SELECT * INTO tx FROM u LIMIT {n};",
    "SELECT pg_advisory_lock({n});",
    "SELECT 1.{n}e5, .{n}, {n}.5 FROM t;",
    "SELECT * FROM t TABLESAMPLE SYSTEM ({n});",
    'SELECT a COLLATE "x{n}" FROM t;',
    "SELECT * FROM t{n} WHERE a = {n};",
    "SELECT E'\\\\{n}' FROM t;",
    "SELECT $${n}$$ FROM t WHERE id = ${n};",
    "SELECT /* {n} */ a -- {n}\n FROM t WHERE b = '{n}';",
    "SELECT * FROM t WHERE id = {n} GROUP BY ALL;",
    "SELECT uuidv7() + {n};",
    "SELECT 1 {n} 2;",
    "SELECT * FROM generate_series(1, {n}) AS g(i) WHERE i > {n} ORDER BY 1 LIMIT {n};",
    "SELECT pg_catalog.set_config('search_path', '', false), {n};",
]


def _corpus_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lint_bench", REPO / "benchmarks" / "lint.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _statements(tmp_path: Path) -> list[tuple[str, str, bool, int]]:
    """(dialect, text, meta, copy rows) of the pack's examples, the variants, the lint
    fixtures and a slice of the benchmark's corpus, in file order."""
    out: list[tuple[str, str, bool, int]] = []
    for rule in RULES_BY_ID.values():
        for text in (rule.bad, rule.good):
            out += [(rule.dialect, s.text, s.meta, s.copy_rows) for s in split(text).statements]
    out += [("postgres", v.format(n=n), False, -1) for v in VARIANTS for n in (1, 42, 7)]
    _corpus_module().generate(tmp_path / "corpus", 0.4)
    for path in [*discover([DATA]), *discover([tmp_path / "corpus"])]:
        kind = kind_of(path) or "sql"
        for fragment in read_fragments(path, kind):
            if fragment.analysis is None:
                for s in split(fragment.text).statements:
                    out.append(("postgres", s.text, s.meta, s.copy_rows))
    return out


def test_reused_query_analyses_equal_full_parses(tmp_path: Path) -> None:
    engine._SHAPES.clear()
    statements = _statements(tmp_path)
    reused = 0
    for dialect, text, meta, copy_rows in statements:
        shape = query_shape(text)
        before = len(engine._SHAPES)
        seen = (shape, dialect) in engine._SHAPES
        fast = analyse_statement(text, dialect, meta=meta, copy_rows=copy_rows)
        full = analyse_statement(text, dialect, meta=meta, copy_rows=copy_rows, reuse=False)
        assert fast == full, text
        reused += seen and len(engine._SHAPES) == before
    # The corpus's query files repeat each query with other ids: most of them are reused.
    assert reused > 500


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("SELECT * FROM t1 WHERE id = 42 LIMIT 10;", "SELECT * FROM t1 WHERE id = 0 LIMIT 0;"),
        ("SELECT '42', \"x42\", 4.2, 1e5 -- 42\n;", "SELECT '42', \"x42\", 4.2, 1e5 -- 42\n;"),
        ("SELECT $1 FROM t WHERE id = 2;", None),
        ("SELECT E'\\'' , 2;", None),
    ],
)
def test_only_bare_numbers_outside_strings_names_and_comments_are_folded(
    text: str, shape: str | None
) -> None:
    assert query_shape(text) == shape


def test_a_reused_analysis_is_a_copy_the_script_passes_may_edit() -> None:
    engine._SHAPES.clear()
    first = analyse_statement("SELECT * FROM t WHERE id = 1 FOR SHARE;", "postgres")
    first.hits[0].message = "edited"
    second = analyse_statement("SELECT * FROM t WHERE id = 2 FOR SHARE;", "postgres")
    assert second.hits[0].message == "FOR SHARE is not supported"
