"""Reading a statement sqlglot cannot parse: its known forms rewritten, else its parts one by one.

One clause sqlglot 30 does not know (a ``NO INHERIT``, a PostgreSQL 18 ``VIRTUAL`` column, a
view's ``WITH CHECK OPTION``) must not hide the rest of the statement's findings: the types
of its other columns, its functions, its enums. So a statement that fails to parse (or
parses only as a generic ``Command``) is read again in three steps:

1. **Known forms.** :data:`READINGS` lists what real schema files hold that sqlglot cannot
   read, each with DSQL's stance: accepted (DSQL's grammar [S27] or a recording [S23] —
   stripped so the rest parses, no finding) or not (a finding under its rule).
2. **Parts.** A ``CREATE TABLE`` is read element by element (each column or constraint
   parsed alone; a column that still fails has its type checked from the text) and its
   trailing clauses apart; a view's query is read without its head.
3. What is still unread is named in a DSQL000 finding (the element, or the token where the
   parser stopped), with every finding of the parts that were read.

A token pre-scan in the sense of the style guide: the parts are cut at top-level commas and
parentheses (quotes respected) and each is handed back to sqlglot; no SQL is interpreted by
regex beyond the keywords of :data:`READINGS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from harness.lint import analysis as A
from harness.lint.analysis import Analysis
from harness.lint.datatypes import check_type_text

_I = re.IGNORECASE


@dataclass(frozen=True)
class Reading:
    """A form sqlglot cannot read, what the linter reads instead, and DSQL's stance on it."""

    pattern: re.Pattern[str]
    replacement: str
    rule: str | None
    """The rule it fires; None when DSQL accepts it (then it is only stripped)."""
    message: str
    anchor: str


READINGS: tuple[Reading, ...] = (
    Reading(re.compile(r"\)\s*VIRTUAL\b", _I), ") STORED", "DSQL118",
            "a VIRTUAL generated column (PostgreSQL 18); DSQL has only STORED", r"\bVIRTUAL\b"),
    Reading(re.compile(r"\bNOT\s+NULL\s+NO\s+INHERIT\b", _I), "NOT NULL", "DSQL119",
            "NOT NULL … NO INHERIT is PostgreSQL 18 syntax", r"\bNO\s+INHERIT\b"),
    Reading(re.compile(r"\bNOT\s+ENFORCED\b", _I), "", "DSQL119",
            "NOT ENFORCED constraints are PostgreSQL 18 syntax", r"\bNOT\s+ENFORCED\b"),
    Reading(re.compile(r",\s*(\w+|\"[^\"]+\")\s+WITHOUT\s+OVERLAPS\b", _I), r", \1", "DSQL119",
            "a temporal key (WITHOUT OVERLAPS) is PostgreSQL 18 syntax", r"\bWITHOUT\s+OVERLAPS\b"),
    Reading(re.compile(r"\bPERIOD\s+(?=\w|\")", _I), "", "DSQL119",
            "a temporal foreign key (PERIOD) is PostgreSQL 18 syntax", r"\bPERIOD\b"),
    # DSQL's grammar: ConstraintAttributeElem holds NO INHERIT [S27].
    Reading(re.compile(r"\bNO\s+INHERIT\b", _I), "", None, "", ""),
    # DSQL's grammar: ViewStmt ends in opt_check_option, and has RECURSIVE views [S27].
    Reading(re.compile(r"\bWITH\s+(?:LOCAL\s+|CASCADED\s+)?CHECK\s+OPTION\b", _I), "", None, "",
            ""),
    Reading(re.compile(r"\bRECURSIVE\s+VIEW\b", _I), "VIEW", None, "", ""),
    # Recorded: ADD COLUMN … STORAGE PLAIN is accepted (alters/alter_add_column_storage) [S23].
    Reading(re.compile(r"\bSTORAGE\s+(?:PLAIN|EXTERNAL|EXTENDED|MAIN|DEFAULT)\b", _I), "", None,
            "", ""),
    Reading(re.compile(r"\bCOMPRESSION\s+(?:\w+|\"[^\"]+\")", _I), "", "DSQL086",
            "a column COMPRESSION clause", r"\bCOMPRESSION\b"),
    # Identity options: the sequence's name is only a name; NO MINVALUE … are the defaults.
    Reading(re.compile(r"\bNO\s+(?:MINVALUE|MAXVALUE|CYCLE)\b", _I), "", None, "", ""),
    Reading(re.compile(r"\bSEQUENCE\s+NAME\s+(?:[\w$]+|\"[^\"]+\")(?:\s*\.\s*(?:[\w$]+|\"[^\"]+\"))?",
                       _I), "", None, "", ""),
)  # fmt: skip


def _parse(text: str, dialect: str) -> exp.Expr | None:
    """The one statement ``text`` parses to, or None (an error, a Command, or several)."""
    try:
        nodes = [n for n in Dialect.get_or_raise(dialect).parse(text) if n is not None]
    except SqlglotError:
        return None
    if len(nodes) != 1 or isinstance(nodes[0], exp.Command):
        return None
    return nodes[0]


def _rewrite(text: str) -> tuple[str, list[Reading]]:
    found = []
    for reading in READINGS:
        text, count = reading.pattern.subn(reading.replacement, text)
        if count:
            found.append(reading)
    return text, found


def read_in_parts(sql: str, dialect: str, a: Analysis, failure: str) -> exp.Expr | None:
    """A node to run the statement rules on, read from what of ``sql`` can be read; the
    forms rewritten are reported, and anything left unread becomes a DSQL000 naming it
    (``failure``: what the whole-statement parse said). None when nothing could be read."""
    text, found = _rewrite(sql)
    for reading in found:
        if reading.rule is not None:
            a.hit(reading.rule, reading.message, reading.anchor)
    node = _parse(text, dialect)
    if node is not None:
        return node
    unread: list[str] = []
    head = re.match(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:\w+\s+)*?(TABLE|VIEW)\b", text, _I)
    if head is not None and head.group(1).upper() == "TABLE":
        node = _table_in_parts(text, dialect, a, unread)
    elif head is not None:
        node = _view_in_parts(text, dialect, unread)
    if node is None and not unread:
        a.hit("DSQL000", f"could not parse: {failure}")
    for part in unread:
        shown = " ".join(part.split())
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        a.hit("DSQL000", f"could not read `{shown}`; the rest of the statement was analysed",
              _anchor(part))  # fmt: skip
    a.unanalysed = a.unanalysed or bool(unread) or node is None
    return node


def _anchor(part: str) -> str:
    return r"\s+".join(re.escape(w) for w in part.split()[:4])


# ----------------------------------------------------------------------------- parts
def _close(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start`` (quotes respected), or -1."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            end = text.find(ch, i + 1)
            while end >= 0 and text[end + 1 : end + 2] == ch:
                end = text.find(ch, end + 2)
            if end < 0:
                return -1
            i = end
        elif ch == "$":
            tag = re.match(r"\$[A-Za-z_]*\$", text[i:])
            if tag:
                end = text.find(tag.group(), i + len(tag.group()))
                i = end + len(tag.group()) - 1 if end >= 0 else len(text)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _split_top(body: str) -> list[str]:
    """``body`` cut at commas outside parentheses and quotes."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch in "'\"":
            end = body.find(ch, i + 1)
            i = end if end >= 0 else len(body)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    parts.append(body[start:])
    return [p for p in parts if p.strip()]


_COLUMN = re.compile(
    r'\s*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s+(.+?)'
    r"(?=\s+(?:COLLATE|DEFAULT|CONSTRAINT|NOT|NULL|CHECK|PRIMARY|UNIQUE|REFERENCES|GENERATED)\b|$)",
    _I | re.DOTALL,
)
_TABLE_CONSTRAINT = re.compile(r"\s*(?:CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE|LIKE)\b", _I)


def _table_in_parts(text: str, dialect: str, a: Analysis, unread: list[str]) -> exp.Expr | None:
    """A CREATE TABLE read element by element: the elements and clauses that parse, and
    the type of each column that does not (checked from its text)."""
    opening = text.find("(")
    closing = _close(text, opening) if opening >= 0 else -1
    if closing < 0:
        return None
    head, tail = text[:opening], text[closing + 1 :]
    kept = []
    for element in _split_top(text[opening + 1 : closing]):
        if _parse(f"CREATE TABLE cutover_part ({element})", dialect) is not None:
            kept.append(element)
            continue
        unread.append(element.strip())
        column = None if _TABLE_CONSTRAINT.match(element) else _COLUMN.match(element)
        if column is not None:
            for rule, message in check_type_text(column.group(1), dialect):
                a.hit(rule, f"column {element.split()[0]}: {message}", _anchor(element))
                if rule == "DSQL040":  # perhaps a domain: the script pass decides
                    a.hits[-1].subject = A.bare(column.group(1).split()[0].split("(")[0])
    body = f"{head}({', '.join(kept)})"
    node = _parse(body + tail, dialect)
    if node is None and tail.strip():
        node = _parse(body, dialect)
        if node is not None:
            unread.append(tail.strip())
    return node


_VIEW_QUERY = re.compile(r"\bAS\s+(?=\(|SELECT\b|WITH\b|VALUES\b|TABLE\b)", _I)
_VIEW_NAME = re.compile(r"\bVIEW\s+((?:[\w$]+|\"[^\"]+\")(?:\s*\.\s*(?:[\w$]+|\"[^\"]+\"))?)", _I)


def _view_in_parts(text: str, dialect: str, unread: list[str]) -> exp.Expr | None:
    """A view read as ``CREATE VIEW name AS <query>``, its options left out and named."""
    query, name = _VIEW_QUERY.search(text), _VIEW_NAME.search(text)
    if query is None or name is None:
        return None
    materialized = (
        "MATERIALIZED " if re.search(r"\bMATERIALIZED\b", text[: name.start()], _I) else ""
    )
    node = _parse(f"CREATE {materialized}VIEW {name.group(1)} AS {text[query.end() :]}", dialect)
    if node is None:
        return None
    options = text[name.end() : query.start()].strip()
    if options and not re.fullmatch(r"\([^()]*\)", options):  # a column list is read fine
        unread.append(options)
    return node
