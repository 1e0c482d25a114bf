"""Opt-in cross-check with AWS's dsql-lint (skipped when it is not installed).

Every statement dsql-lint flags must be flagged (or deliberately suppressed) here too, apart
from the disagreements resolved in docs/lint-vs-dsql-lint.md.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.lint import lint_paths
from harness.lint.split import split

DATA = Path(__file__).parent / "data" / "lint"
DSQL_LINT = shutil.which("dsql-lint")
pytestmark = pytest.mark.skipif(DSQL_LINT is None, reason="dsql-lint is not installed")

# Rules of dsql-lint that are not rejections, or whose disagreement is resolved in the doc.
RESOLVED = {
    "parse_error",  # we analyse those statements (see the doc's table)
    "serial_sequence_idiom",
    "identity_add_generated_collapse",
    "alter_add_primary_key_collapse",
    "alter_add_unique_collapse",
    "mixed_ddl_dml_transaction",  # anchored on BEGIN there, on the mixing statement here
}


def _statement_index(path: Path, line: int) -> int:
    script = split(path.read_text(encoding="utf-8"))
    for i, st in enumerate(script.statements):
        first, last = script.position(st.start)[0], script.position(max(st.start, st.end - 1))[0]
        if first <= line <= last:
            return i
    return -1


@pytest.mark.parametrize(
    "path",
    sorted([*DATA.rglob("*.sql")]),
    ids=lambda p: str(p.relative_to(DATA)),
)
def test_we_flag_every_statement_dsql_lint_rejects(path: Path) -> None:
    assert DSQL_LINT is not None
    out = subprocess.run(
        [DSQL_LINT, "--format", "json", str(path)], capture_output=True, text=True, check=False
    ).stdout
    theirs = {
        (_statement_index(path, d["line"]), d["rule"])
        for f in json.loads(out)["files"]
        for d in f["diagnostics"]
        if d["rule"] not in RESOLVED
    }
    (report,) = lint_paths([path], jobs=1).files
    ours = {f.statement for f in report.findings}
    missing = sorted((i, rule) for i, rule in theirs if i not in ours)
    assert missing == []
