"""The linting engine: split, pre-scan, parse, detect, then transaction and script rules.

Every statement ends with exactly one :class:`~harness.lint.report.Verdict`: clean, finding,
or unanalysed (which always carries a DSQL000 finding). The per-statement stage
(:func:`analyse_statement`) is pure and picklable, so :mod:`harness.lint.api` can fan it out
to worker processes; the stages that need order (transactions, the script's schema,
suppressions) run afterwards in one place.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from harness.lint import analysis as A
from harness.lint.analysis import Analysis, Hit
from harness.lint.detect import detect
from harness.lint.pack import RULES_BY_ID
from harness.lint.prescan import Prepared, prescan, words
from harness.lint.recover import read_in_parts
from harness.lint.report import FileReport, LintFinding, StatementVerdict, Suppression, Verdict
from harness.lint.split import Script, Statement, split
from harness.lint.suppress import Directive, parse_directives
from harness.lint.txn import Schema, script_hits, transaction_hits


class _QuietFallback(logging.Filter):
    """sqlglot logs a warning for every statement it reads as a generic Command; the engine
    classifies those itself (DSQL000 when nothing else does), so the log line is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_QuietFallback())

_DIALECTS: dict[str, Dialect] = {}


def _dialect(name: str) -> Dialect:
    if name not in _DIALECTS:
        _DIALECTS[name] = Dialect.get_or_raise(name)
    return _DIALECTS[name]


def analyse_statement(
    text: str, dialect: str, *, meta: bool = False, copy_rows: int = -1, reuse: bool = True
) -> Analysis:
    """Classify one statement and run the statement-level rules on it.

    ``reuse=False`` parses a query even when one of the same shape was analysed already
    (see :func:`query_shape`); the result is the same, only slower.
    """
    if meta:
        return Analysis(kind=text.split(None, 1)[0], category=A.CLIENT, method="client")
    outcome = prescan(text, dialect, copy_rows)
    if isinstance(outcome, Analysis):
        if not outcome.kind:
            outcome.kind = " ".join(words(text, 2))
        return outcome
    shape = query_shape(text) if reuse and outcome.analysis.kind in ("SELECT", "WITH") else None
    if shape is None:
        return _parse_and_detect(outcome, dialect)
    key = (shape, dialect)
    known = _SHAPES.get(key)
    if known is not None:
        return copy_analysis(known)
    a = _parse_and_detect(outcome, dialect)
    if a.category == A.QUERY and not a.unanalysed:
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        _SHAPES[key] = copy_analysis(a)
    return a


# A query's analysis never depends on the value of a bare number in it: the query rules
# (detect._on_query) look at locks, functions, collations, TABLESAMPLE, GROUP BY ALL, SELECT
# INTO, the tables read and a whole-table COUNT(*), never at a numeric literal (a DML's
# LIMIT and payload do, which is why only an analysis whose category is ``query`` is
# reused, and a parse failure, whose message may quote the number, never is). Application
# query files repeat one query with different ids (``… WHERE id = 42``), so a query already
# analysed with other numbers is not parsed again. Strings, quoted names and comments are
# kept as written; a statement with a dollar quote or a backslash (an E'' string) gets no
# shape, since this scan could misread where its strings end.
_NUMBERS = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|(?<![\w$.])\d+(?![\w.$])",
    re.DOTALL,
)
_SHAPES: dict[tuple[str, str], Analysis] = {}
_SHAPES_MAX = 4096


def query_shape(text: str) -> str | None:
    """The query with every bare number written as 0, or None when it cannot be scanned
    safely (dollar quotes, backslashes)."""
    if "$" in text or "\\" in text:
        return None
    return _NUMBERS.sub(lambda m: "0" if m.group()[0].isdigit() else m.group(), text)


def copy_analysis(a: Analysis) -> Analysis:
    """A copy whose hits the script passes may edit without touching the original."""
    return replace(a, hits=[replace(h) for h in a.hits])


def _parse_and_detect(p: Prepared, dialect: str) -> Analysis:
    a = p.analysis
    try:
        nodes = [n for n in _dialect(dialect).parse(p.sql) if n is not None]
    except SqlglotError as exc:
        errors = getattr(exc, "errors", None)
        detail = str(errors[0].get("description")) if errors else str(exc).splitlines()[0]
        if errors and errors[0].get("highlight"):
            detail += f" near `{errors[0]['highlight']}`"
        nodes = []
        node = read_in_parts(p.sql, dialect, a, detail)
        if node is None:
            a.method = "parsed"
            return a
        nodes = [node]
    if (
        len(nodes) == 1
        and isinstance(nodes[0], exp.Command)
        and p.sql.lstrip()[:6].upper()
        in (
            "CREATE",
            "ALTER ",
        )
    ):
        node = read_in_parts(p.sql, dialect, a, f"{nodes[0].name} … is not understood")
        if node is None:
            a.method = "parsed"
            return a
        nodes = [node]
    if len(nodes) != 1:
        a.hit("DSQL000", f"expected one statement, the parser read {len(nodes)}")
        a.unanalysed = True
        return a
    unanalysed = a.unanalysed
    detect(nodes[0], a, p)
    a.unanalysed = a.unanalysed or unanalysed
    return a


# ----------------------------------------------------------------------------- assembly
@dataclass(frozen=True)
class Fragment:
    """SQL text and where its first character sits in the file (1-based line and column)."""

    text: str
    line: int = 1
    col: int = 1
    directives: tuple[Directive, ...] = ()
    """Suppressions written in the host language next to the fragment (``# cutover: …``)."""
    analysis: Analysis | None = None
    """Set for a migration tool's operation written in code (``add_index :users, :email``):
    the text is the call, one statement already classified (:mod:`harness.lint.orm`)."""


def script_of(fragment: Fragment) -> Script:
    """The fragment split into statements; a tool operation is one statement, never split."""
    if fragment.analysis is None:
        return split(fragment.text)
    text = fragment.text
    lines = (0, *(m.end() for m in re.finditer("\n", text)))
    return Script(text, (Statement(text, 0, len(text), meta=True),), (), lines)


_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Statement text for fingerprints: comments kept out, whitespace and case folded."""
    return _SPACE.sub(" ", text).strip().lower()


def fingerprint(rule_id: str, statement: str, occurrence: int) -> str:
    key = f"{rule_id}\0{normalise(statement)}\0{occurrence}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def _preview(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 100 else first[:97] + "..."


@dataclass
class _Located:
    statement: Statement
    script: Script
    fragment: Fragment
    analysis: Analysis

    def position(self, offset: int) -> tuple[int, int]:
        line, col = self.script.position(offset)
        if line == 1:
            col += self.fragment.col - 1
        return self.fragment.line + line - 1, col


def lint_fragments(
    fragments: Sequence[Fragment],
    *,
    path: str,
    source: str = "sql",
    dialect: str = "postgres",
    assume_in_transaction: bool = False,
    convention: str | None = None,
    scripts: Sequence[Script] | None = None,
    analyses: Sequence[Sequence[Analysis]] | None = None,
    schema: Schema | None = None,
) -> FileReport:
    """Lint the SQL fragments of one file as one script, in order.

    ``convention``: the migration tool that runs the file in one transaction
    (:mod:`harness.lint.conventions`); assumed, and named in the transaction findings.
    ``scripts`` and ``analyses`` may hold the split fragments and the per-statement results
    already computed (by worker processes), in which case only the ordered passes run here.
    ``schema``: the domains, types and keys the run's earlier files created; this file's are
    added to it (:class:`~harness.lint.txn.Schema`).
    """
    located: list[_Located] = []
    directives: dict[int, list[Directive]] = {}
    file_directives: list[Directive] = []
    for f_index, fragment in enumerate(fragments):
        script = scripts[f_index] if scripts is not None else script_of(fragment)
        done = analyses[f_index] if analyses is not None else None
        base = len(located)
        for s_index, statement in enumerate(script.statements):
            a = (
                fragment.analysis
                if fragment.analysis is not None
                else done[s_index]
                if done is not None
                else analyse_statement(
                    statement.text, dialect, meta=statement.meta, copy_rows=statement.copy_rows
                )
            )
            located.append(_Located(statement, script, fragment, a))
        for comment in script.comments:
            for d in parse_directives(comment.text, comment.start):
                if d.whole_file:
                    file_directives.append(d)
                else:
                    target = _owner(script, d.offset)
                    if target is not None:
                        directives.setdefault(base + target, []).append(d)
        for d in fragment.directives:
            if d.whole_file:
                file_directives.append(d)
            else:
                for index in range(base, len(located)):
                    directives.setdefault(index, []).append(d)
    return _assemble(
        located,
        directives,
        file_directives,
        path,
        source,
        assume_in_transaction,
        convention,
        Schema() if schema is None else schema,
    )


_WHOLE_FILE_TRANSACTION = frozenset({"DSQL090", "DSQL091"})
"""Findings that exist only because the whole file is one transaction."""


def _owner(script: Script, offset: int) -> int | None:
    """The statement a comment at ``offset`` belongs to: the one containing it, the one that
    ends on the same line before it, or else the next one."""
    starts = [s.start for s in script.statements]
    i = bisect.bisect_right(starts, offset) - 1
    if i >= 0:
        s = script.statements[i]
        if offset < s.end or script.position(s.end)[0] == script.position(offset)[0]:
            return i
    return i + 1 if i + 1 < len(script.statements) else (i if i >= 0 else None)


def _assemble(
    located: list[_Located],
    directives: dict[int, list[Directive]],
    file_directives: list[Directive],
    path: str,
    source: str,
    assume_in_transaction: bool,
    convention: str | None,
    schema: Schema,
) -> FileReport:
    analyses = [loc.analysis for loc in located]
    extra: dict[int, list[Hit]] = {}
    assumed = assume_in_transaction or convention is not None
    for index, hit in transaction_hits(analyses, assume_in_transaction=assumed):
        if convention is not None and hit.rule in _WHOLE_FILE_TRANSACTION:
            hit = replace(hit, message=f"{hit.message} (assumed: {convention})")
        extra.setdefault(index, []).append(hit)
    for index, hit in script_hits(analyses, schema):
        extra.setdefault(index, []).append(hit)

    findings: list[LintFinding] = []
    verdicts: list[StatementVerdict] = []
    occurrences: Counter[tuple[str, str]] = Counter()
    for index, loc in enumerate(located):
        hits = [*loc.analysis.hits, *extra.get(index, [])]
        own = directives.get(index, []) + file_directives
        hits += _directive_hits(directives.get(index, []))
        line, col = loc.position(loc.statement.start)
        seen: set[tuple[str, str]] = set()
        for hit in hits:
            if (hit.rule, hit.message) in seen:
                continue
            seen.add((hit.rule, hit.message))
            findings.append(_finding(hit, index, loc, own, path, occurrences))
        if loc.analysis.unanalysed:
            verdict = Verdict.UNANALYSED
        else:
            verdict = Verdict.FINDING if seen else Verdict.CLEAN
        kind = loc.analysis.kind or " ".join(words(loc.statement.text, 2))
        verdicts.append(StatementVerdict(index, line, col, kind, verdict, loc.analysis.method))
    return FileReport(path, source, tuple(verdicts), tuple(findings))


def _directive_hits(own: list[Directive]) -> list[Hit]:
    hits = []
    for d in own:
        if not d.reason:
            hits.append(Hit("LINT001", f"ignore[{', '.join(d.rules)}] has no reason"))
        for rule_id in d.unknown:
            hits.append(Hit("LINT002", f"ignore[{rule_id}]: no such rule"))
    return hits


def _finding(
    hit: Hit,
    index: int,
    loc: _Located,
    directives: list[Directive],
    path: str,
    occurrences: Counter[tuple[str, str]],
) -> LintFinding:
    rule = RULES_BY_ID[hit.rule]
    offset = loc.statement.start
    if hit.anchor:
        m = re.search(hit.anchor, loc.statement.text, re.IGNORECASE)
        if m:
            offset += m.start()
    line, col = loc.position(offset)
    key = (hit.rule, normalise(loc.statement.text))
    occurrence = occurrences[key]
    occurrences[key] += 1
    suppressed = None
    if not hit.rule.startswith("LINT"):
        for d in directives:
            if d.reason and hit.rule in d.rules:
                suppressed = Suppression("inline", d.reason)
                break
    return LintFinding(
        rule_id=rule.id,
        name=rule.name,
        severity=rule.severity,
        message=hit.message,
        fix=rule.fix,
        fix_kind=rule.fix_kind,
        path=path,
        line=line,
        col=col,
        statement=index,
        preview=_preview(loc.statement.text),
        fingerprint=fingerprint(rule.id, loc.statement.text, occurrence),
        object=loc.analysis.obj,
        suppressed_by=suppressed,
    )


def lint_sql(
    text: str,
    *,
    path: str = "<sql>",
    dialect: str = "postgres",
    assume_in_transaction: bool = False,
) -> FileReport:
    """Lint one SQL script."""
    return lint_fragments(
        [Fragment(text)], path=path, dialect=dialect, assume_in_transaction=assume_in_transaction
    )


def with_suppression(finding: LintFinding, suppression: Suppression) -> LintFinding:
    return replace(finding, suppressed_by=suppression)
