"""Migration tools whose migrations are code: Rails, Django, Alembic, knex and Kysely.

Each of these runs a migration in one transaction unless the migration (or the tool's
configuration) says otherwise, so a migration that creates a table and then an index fails
on DSQL (one DDL per transaction; DSQL090), and one that also writes rows fails for mixing
DDL and DML (DSQL091). The SQL such a migration holds (``execute``, ``RunSQL``,
``op.execute``, ``knex.raw``, Kysely's ``sql`````) is linted like any SQL; the schema
operations of the tool's own API (``add_index``, ``migrations.AddField``,
``op.create_table``, ``knex.schema.createTable``, ``db.schema.createIndex``…) become
:class:`~harness.lint.engine.Fragment` s of their own — one DDL (or DML) statement each,
written as the call — so the transaction pass counts them, and the few whose SQL is certain
to be rejected are reported: an index built without ``ASYNC`` (DSQL050), a foreign key
validated at once (DSQL029), an extension (DSQL067), a user-defined type (DSQL044).

This reads host code, not SQL: the operations are found by the tool's method names (Python
through :mod:`ast`; Ruby and JavaScript by a scan of calls outside comments), which is what
the tools' documentation names. docs/lint.md lists the layouts and conventions.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.lint import analysis as A
from harness.lint.analysis import Analysis, Hit
from harness.lint.engine import Fragment

TOOLS = (
    ("Rails", "db/migrate/<timestamp>_<name>.rb", "each migration runs in one transaction "
     "unless it calls `disable_ddl_transaction!`"),
    ("Django", "<app>/migrations/<nnnn>_<name>.py (a `Migration` class)", "each migration "
     "runs in one transaction unless the class sets `atomic = False`"),
    ("Alembic", "versions/<rev>_<name>.py beside alembic.ini or env.py", "the whole upgrade "
     "runs in one transaction (per migration with `transaction_per_migration=True`); "
     "`autocommit_block()` opts out"),
    ("knex", "migrations/<timestamp>_<name>.js|ts exporting up()", "each migration runs in "
     "one transaction unless it exports `config = { transaction: false }` (or the knexfile "
     "sets `disableTransactions`)"),
    ("Kysely", "migrations/*.ts exporting up(db: Kysely<…>)", "the Migrator runs pending "
     "migrations in one transaction on PostgreSQL"),
)  # fmt: skip
"""(tool, layout, what it does): the documented list."""


@dataclass(frozen=True)
class Operation:
    """One schema (or data) operation of a tool's API, where it is written and what it is."""

    line: int
    col: int
    text: str
    category: str = A.DDL
    rule: str | None = None
    message: str = ""


def operation_fragment(op: Operation, tool: str) -> Fragment:
    analysis = Analysis(kind=f"{tool} {op.text.split('(')[0].split()[0]}", category=op.category,
                        method="tool")  # fmt: skip
    if op.rule is not None:
        analysis.hits.append(Hit(op.rule, op.message))
    return Fragment(op.text, op.line, op.col, analysis=analysis)


# ----------------------------------------------------------------------------- recognising
def _up(path: Path, names: tuple[str, ...]) -> bool:
    return any((parent / name).exists() for parent in path.parents for name in names)


def tool_of(path: Path, text: str) -> str | None:
    """The code-based migration tool whose layout ``path`` follows, or None."""
    parts = path.parts
    if path.suffix == ".rb" and parts[-3:-1] == ("db", "migrate"):
        return "Rails"
    if path.suffix == ".py" and "migrations" in parts[-2:-1] and "class Migration(" in text:
        return "Django"
    alembic = "alembic" in text or _up(path, ("alembic.ini", "env.py"))
    if path.suffix == ".py" and "versions" in parts[-2:-1] and "def upgrade(" in text and alembic:
        return "Alembic"
    if path.suffix in (".js", ".ts", ".mjs", ".cjs") and "migrations" in parts[:-1]:
        if re.search(r"\bup\s*\(\s*db\s*:\s*Kysely\b", text):
            return "Kysely"
        if re.search(r"\bknex\.schema\b|\bup\s*\(\s*knex\b|exports\.up\b", text):
            return "knex"
    return None


_OFF = {
    "Rails": re.compile(r"^\s*disable_ddl_transaction!", re.M),
    "Django": re.compile(r"^\s*atomic\s*=\s*False\b", re.M),
    "Alembic": re.compile(r"\bautocommit_block\s*\("),
    "knex": re.compile(r"\bconfig\s*=\s*\{[^}]*\btransaction\s*:\s*false"),
}


def convention_of(path: Path, text: str, tool: str) -> str | None:
    """The tool's convention as a phrase for findings, or None when this migration (or the
    tool's configuration) turns the transaction off."""
    off = _OFF.get(tool)
    if off is not None and off.search(text):
        return None
    if tool == "Alembic" and _alembic_env_per_migration(path):
        return "Alembic: each migration runs in one transaction (transaction_per_migration)"
    if tool == "knex" and _knexfile_off(path):
        return None
    return next(f"{name}: {does}" for name, _, does in TOOLS if name == tool)


def _alembic_env_per_migration(path: Path) -> bool:
    env = path.parent.parent / "env.py"
    return env.is_file() and "transaction_per_migration=True" in env.read_text(errors="replace")


def _knexfile_off(path: Path) -> bool:
    for parent in path.parents:
        for name in ("knexfile.js", "knexfile.ts"):
            config = parent / name
            if config.is_file():
                return re.search(r"disableTransactions\s*:\s*true", config.read_text(
                    errors="replace")) is not None  # fmt: skip
    return False


# ----------------------------------------------------------------------------- operations
def operations(tool: str, text: str) -> list[Operation]:
    """The tool-API operations of one migration, in file order."""
    if tool == "Django":
        return list(_django(text))
    if tool == "Alembic":
        return list(_alembic(text))
    return list(_calls(text, _RUBY if tool == "Rails" else _JS[tool]))


_INDEX = ("DSQL050", "builds the index with CREATE INDEX, which DSQL rejects without ASYNC "
          "(create it with CREATE INDEX ASYNC in SQL, in a migration of its own)")  # fmt: skip
_FOREIGN = ("DSQL029", "adds the foreign key validated at once; DSQL needs NOT VALID (then "
            "VALIDATE CONSTRAINT with ALTER TABLE ASYNC)")  # fmt: skip
_EXTENSION = ("DSQL067", "enables an extension; DSQL has none")
_TYPE = ("DSQL044", "creates a user-defined type; DSQL has none")
_CONCURRENT = ("DSQL051", "builds the index CONCURRENTLY; DSQL needs CREATE INDEX ASYNC")

# (regex of the call, category, finding) — Ruby: Rails' migration DSL.
_RUBY = (
    (r"\badd_index\b[^\n]*algorithm:\s*:concurrently", A.DDL, _CONCURRENT),
    (r"\b(?:add_index|t\.index)\b", A.DDL, _INDEX),
    (r"\badd_reference\b(?![^\n]*index:\s*false)", A.DDL, _INDEX),
    (r"\badd_foreign_key\b(?![^\n]*validate:\s*false)", A.DDL, _FOREIGN),
    (r"\benable_extension\b", A.DDL, _EXTENSION),
    (r"\bcreate_enum\b", A.DDL, _TYPE),
    (r"\b(?:create_table|drop_table|rename_table|create_join_table|drop_join_table|add_column"
     r"|remove_column|remove_columns|rename_column|change_column|change_column_null"
     r"|change_column_default|remove_index|remove_reference|add_timestamps|remove_timestamps"
     r"|remove_foreign_key|add_check_constraint|remove_check_constraint|change_table"
     r"|rename_index|disable_extension|drop_enum)\b", A.DDL, None),
    (r"\b[A-Z]\w*\.(?:create!?|insert_all!?|upsert_all|update_all|delete_all|find_or_create_by!?)"
     r"\b", A.DML, None),
)  # fmt: skip
_JS = {
    "knex": (
        (r"\.(?:index|unique)\s*\(", A.DDL, _INDEX),
        (r"\.foreign\s*\(", A.DDL, _FOREIGN),
        (r"\bknex\.schema\.(?:createTable|createTableIfNotExists|alterTable|table|dropTable"
         r"|dropTableIfExists|renameTable|createSchema|createView|dropView)\b", A.DDL, None),
        (r"\bknex\s*\(\s*['\"`][^'\"`]+['\"`]\s*\)\s*\.(?:insert|update|del|delete)\b", A.DML,
         None),
    ),
    "Kysely": (
        (r"\.schema\s*\.\s*createIndex\b", A.DDL, _INDEX),
        (r"\.schema\s*\.\s*createType\b", A.DDL, _TYPE),
        (r"\.schema\s*\.\s*(?:createTable|alterTable|dropTable|createView|dropView|dropIndex"
         r"|createSchema|dropSchema|dropType)\b", A.DDL, None),
        (r"\.(?:insertInto|updateTable|deleteFrom)\s*\(", A.DML, None),
    ),
}  # fmt: skip
_COMMENT_OR_STRING = re.compile(
    r"#[^\n]*|//[^\n]*|/\*.*?\*/|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|`(?:[^`\\]|\\.)*`"
    r"|<<[~-]?(['\"]?)(\w+)\1.*?^\s*\2\b",
    re.DOTALL | re.MULTILINE,
)


def _calls(text: str, patterns: tuple[tuple[str, str, tuple[str, str] | None], ...]) -> Iterator[
        Operation]:  # fmt: skip
    """The calls matching ``patterns`` outside comments and strings, one operation each."""
    blank = _COMMENT_OR_STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    taken: set[int] = set()
    found: list[Operation] = []
    for pattern, category, finding in patterns:
        for m in re.finditer(pattern, blank):
            line = text.count("\n", 0, m.start()) + 1
            if line in taken:
                continue
            taken.add(line)
            start = m.start() + (1 if blank[m.start()] == "." else 0)
            call = text[start : text.find("\n", start) if "\n" in text[start:] else len(text)]
            rule, message = finding if finding else (None, "")
            found.append(Operation(line, start - starts[line - 1] + 1, call.strip(), category,
                                   rule, message))  # fmt: skip
    yield from sorted(found, key=lambda o: (o.line, o.col))


# ----------------------------------------------------------------------------- Python tools
def _django(text: str) -> Iterator[Operation]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "operations" for t in node.targets
        )):  # fmt: skip
            continue
        if not isinstance(node.value, ast.List | ast.Tuple):
            continue
        for item in node.value.elts:
            if isinstance(item, ast.Call):
                yield from _django_operation(item, text)


def _source(node: ast.AST, text: str) -> str:
    first = (ast.get_source_segment(text, node) or "").splitlines()
    return first[0].strip() if first else ""


def _django_operation(call: ast.Call, text: str) -> Iterator[Operation]:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    where = (call.lineno, call.col_offset + 1, _source(call, text))
    if name in ("RunSQL", "RunPython"):
        if name == "RunPython":
            yield Operation(*where, A.DML)
        return  # RunSQL's SQL is linted as SQL (its string literals)
    if name == "AddIndex":
        yield Operation(*where, A.DDL, *_INDEX)
        return
    yield Operation(*where)
    fields: list[ast.expr] = []
    if name == "CreateModel":
        for keyword in call.keywords:
            if keyword.arg == "fields" and isinstance(keyword.value, ast.List):
                fields = [e.elts[1] for e in keyword.value.elts
                          if isinstance(e, ast.Tuple) and len(e.elts) == 2]  # fmt: skip
    elif name == "AddField":
        fields = [k.value for k in call.keywords if k.arg == "field"]
    for field in fields:
        yield from _django_field(field, text)


def _django_field(field: ast.expr, text: str) -> Iterator[Operation]:
    """The deferred statements Django's schema editor adds for a field: an index for a
    foreign key or ``db_index=True``, and the foreign key constraint itself."""
    if not isinstance(field, ast.Call) or not isinstance(field.func, ast.Attribute):
        return
    kind = field.func.attr
    options = {k.arg: k.value for k in field.keywords}
    indexed = options.get("db_index")
    foreign = kind in ("ForeignKey", "OneToOneField")
    where = (field.lineno, field.col_offset + 1, _source(field, text))
    explicit = isinstance(indexed, ast.Constant) and indexed.value is True
    if (foreign and kind == "ForeignKey" and not (
        isinstance(indexed, ast.Constant) and indexed.value is False
    )) or explicit:  # fmt: skip
        yield Operation(*where, A.DDL, *_INDEX)
    constraint = options.get("db_constraint")
    if foreign and not (isinstance(constraint, ast.Constant) and constraint.value is False):
        yield Operation(*where, A.DDL, *_FOREIGN)


_ALEMBIC = {
    "create_index": _INDEX,
    "create_foreign_key": _FOREIGN,
}
_ALEMBIC_DDL = {
    "create_table", "drop_table", "rename_table", "add_column", "drop_column", "alter_column",
    "drop_index", "drop_constraint", "create_unique_constraint", "create_primary_key",
    "create_check_constraint", "create_exclude_constraint", "create_table_comment",
    "batch_alter_table",
}  # fmt: skip


def _alembic(text: str) -> Iterator[Operation]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return
    upgrade = next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                    and n.name == "upgrade"), None)  # fmt: skip
    if upgrade is None:
        return
    found = []
    for node in ast.walk(upgrade):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Name) and owner.id in ("op", "batch_op")):
            continue
        name = node.func.attr
        where = (node.lineno, node.col_offset + 1, _source(node, text))
        if name == "create_index":
            concurrent = any(k.arg == "postgresql_concurrently" for k in node.keywords)
            found.append(Operation(*where, A.DDL, *(_CONCURRENT if concurrent else _INDEX)))
        elif name in _ALEMBIC:
            found.append(Operation(*where, A.DDL, *_ALEMBIC[name]))
        elif name in _ALEMBIC_DDL:
            found.append(Operation(*where))
        elif name == "bulk_insert":
            found.append(Operation(*where, A.DML))
        # op.execute(...): its SQL string is linted as SQL
    yield from sorted(found, key=lambda o: (o.line, o.col))
