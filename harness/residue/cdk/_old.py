"""AWS CDK apps in TypeScript/JavaScript and Python: RDS constructs and the Aurora engine.

A name counts only when it comes from the RDS module: the scanners first learn how the file
imported ``aws-rds`` (``import * as rds``, ``import { DatabaseCluster as Db }``,
``from aws_cdk import aws_rds as rds``…), so a ``DatabaseCluster`` of some other library is
not a finding. TypeScript is matched on the file with its comments blanked out (a regex pass
over tokens: there is no TypeScript parser in the standard library); Python is walked with
:mod:`ast`, which already ignores comments.
"""

from __future__ import annotations

import ast
import re

from harness.residue.hits import Context, Hit
from harness.residue.lexers import Locator

CONSTRUCTS = frozenset(
    {
        "DatabaseCluster",
        "DatabaseClusterFromSnapshot",
        "ServerlessCluster",
        "ServerlessClusterFromSnapshot",
        "ServerlessClusterV2",
        "CfnDBCluster",
        "CfnGlobalCluster",
        "DatabaseProxy",
        "CfnDBProxy",
        "ClusterInstance",
    }
)
"""RDS module members that build an RDS cluster or a part that only a cluster has."""
ENGINE_CLASSES = frozenset({"AuroraPostgresEngineVersion", "AuroraMysqlEngineVersion"})
ENGINE_MEMBERS = frozenset(
    {
        "auroraPostgres",
        "auroraMysql",
        "aurora_postgres",
        "aurora_mysql",
        "AURORA_POSTGRESQL",
        "AURORA_MYSQL",
        "AURORA",
    }
)
"""``DatabaseClusterEngine.<member>``: TypeScript, Python and constant spellings."""

_TS_MODULE = r"""['"](?:aws-cdk-lib/aws-rds|@aws-cdk/aws-rds)['"]"""
_TS_NAMESPACE = re.compile(
    r"import\s+\*\s+as\s+(\w+)\s+from\s*"
    + _TS_MODULE
    + r"|(?:const|let|var)\s+(\w+)\s*=\s*require\(\s*"
    + _TS_MODULE
    + r"\s*\)"
)
_TS_NAMED = re.compile(r"import\s*\{([^}]*)\}\s*from\s*" + _TS_MODULE)
_TS_FROM_LIB = re.compile(r"""import\s*\{([^}]*)\}\s*from\s*['"]aws-cdk-lib['"]""")
_TS_LIB_NAMESPACE = re.compile(r"""import\s+\*\s+as\s+(\w+)\s+from\s*['"]aws-cdk-lib['"]""")


def scan_typescript(code: str, where: Locator) -> list[Hit]:
    """RES201 to RES203 in TypeScript/JavaScript; ``code`` has its comments blanked."""
    namespaces: set[str] = set()
    members: dict[str, str] = {}  # local name -> RDS member name
    hits: list[Hit] = []
    for match in _TS_NAMESPACE.finditer(code):
        namespaces.add(match.group(1) or match.group(2))
        hits.append(_import_hit(match.start(), match.group(0), where))
    for match in _TS_NAMED.finditer(code):
        members.update(_ts_names(match.group(1)))
        hits.append(_import_hit(match.start(), match.group(0), where))
    for match in _TS_FROM_LIB.finditer(code):
        for local, member in _ts_names(match.group(1)).items():
            if member == "aws_rds":
                namespaces.add(local)
                hits.append(_import_hit(match.start(), match.group(0), where))
    for match in _TS_LIB_NAMESPACE.finditer(code):
        namespaces.add(f"{match.group(1)}.aws_rds")  # cdk.aws_rds.DatabaseCluster
    if not namespaces and not members:
        return hits
    prefixes = [re.escape(ns) + r"\s*\.\s*" for ns in sorted(namespaces)]
    locals_ = "|".join(re.escape(name) for name in sorted(members))
    heads = [p + r"(\w+)" for p in prefixes] + ([rf"\b({locals_})\b"] if locals_ else [])
    for head in heads:
        for match in re.finditer(r"(?<![\w.])" + head + r"(?:\s*\.\s*(\w+))?", code):
            name = members.get(match.group(1), match.group(1))
            hit = _member_hit(name, match.group(2), match.start(), match.group(0), where)
            if hit is not None:
                hits.append(hit)
    hits += _ts_variable_uses(code, [h for h in hits if h.rule == "RES201"], where)
    return _without_import_lines(hits)


# Quoted strings (not template literals, whose ${…} is code) are blanked before looking for
# a variable's uses, so 'lexicon-aurora' is not a use of a variable named aurora.
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_TS_DECLARATION = r"(?:const|let|var)\s+(\w+)\s*(?::[^=;]+)?=\s*new\s+$"


def _ts_variable_uses(code: str, constructs: list[Hit], where: Locator) -> list[Hit]:
    """Uses of a variable holding an RDS construct (``aurora.connections…``), after it."""
    starts = [0, *(i + 1 for i, ch in enumerate(code) if ch == "\n")]
    hits: list[Hit] = []
    for construct in constructs:
        offset = starts[construct.line - 1] + construct.column - 1
        declared = re.search(_TS_DECLARATION, code[max(0, offset - 200) : offset])
        if declared is None:
            continue
        name = declared.group(1)
        tail = _QUOTED.sub(lambda m: " " * len(m.group(0)), code[offset:])
        for use in re.finditer(rf"(?<![\w.$]){re.escape(name)}\b(?!\s*[:=][^=])", tail):
            line, column = where.position(offset + use.start())
            hits.append(
                Hit("RES201", line, column, name, Context.CODE, f"uses the RDS construct {name!r}")
            )
    return hits


def _ts_names(block: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for part in block.split(","):
        words = part.split()
        if len(words) == 3 and words[1] == "as":
            names[words[2]] = words[0]
        elif len(words) == 1:
            names[words[0]] = words[0]
    return names


def _without_import_lines(hits: list[Hit]) -> list[Hit]:
    """A named import lists the members it imports; report the import once, not each name."""
    import_lines = {h.line for h in hits if h.rule == "RES203"}
    return [h for h in hits if h.rule == "RES203" or h.line not in import_lines]


def _member_hit(
    member: str, attribute: str | None, offset: int, text: str, where: Locator
) -> Hit | None:
    line, column = where.position(offset)
    text = " ".join(text.split())
    if member in CONSTRUCTS:
        return Hit("RES201", line, column, text, Context.CODE, f"RDS construct {member}")
    if member in ENGINE_CLASSES or (
        member == "DatabaseClusterEngine" and attribute in ENGINE_MEMBERS
    ):
        return Hit("RES202", line, column, text, Context.CODE, f"Aurora engine {text}")
    return None


def _import_hit(offset: int, text: str, where: Locator) -> Hit:
    line, column = where.position(offset)
    return Hit(
        "RES203", line, column, " ".join(text.split()), Context.CODE, "imports the RDS module"
    )


_PY_MODULES = ("aws_cdk.aws_rds",)


def scan_python(source: str) -> list[Hit]:
    """RES201 to RES203 in a Python CDK app; [] when the file does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    namespaces: set[str] = set()
    members: dict[str, str] = {}
    hits: list[Hit] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _PY_MODULES:
                    namespaces.add(alias.asname or alias.name)
                    hits.append(_py_import(node, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if node.module == "aws_cdk" and alias.name == "aws_rds":
                    namespaces.add(alias.asname or alias.name)
                    hits.append(_py_import(node, "from aws_cdk import aws_rds"))
                elif node.module in _PY_MODULES:
                    members[alias.asname or alias.name] = alias.name
                    hits.append(_py_import(node, f"from {node.module} import {alias.name}"))
    parents = {id(child): p for p in ast.walk(tree) for child in ast.iter_child_nodes(p)}
    held: set[str] = set()  # variables assigned an RDS construct: cluster = rds.DatabaseCluster(…)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            member_name = (
                func.attr
                if isinstance(func, ast.Attribute) and _dotted(func.value) in namespaces
                else members.get(func.id)
                if isinstance(func, ast.Name)
                else None
            )
            if member_name in CONSTRUCTS:
                held.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in held and isinstance(node.ctx, ast.Load):
            hits.append(_py_hit("RES201", node, node.id, f"uses the RDS construct {node.id!r}"))
            continue
        member: str | None = None
        if isinstance(node, ast.Attribute) and _dotted(node.value) in namespaces:
            member = node.attr
        elif isinstance(node, ast.Name) and node.id in members:
            member = members[node.id]
        if member is None or not isinstance(node, ast.expr):
            continue
        parent = parents.get(id(node))
        attribute = parent.attr if isinstance(parent, ast.Attribute) else None
        text = ast.unparse(parent if isinstance(parent, ast.Attribute) else node)
        if member in CONSTRUCTS:
            hits.append(_py_hit("RES201", node, text, f"RDS construct {member}"))
        elif member in ENGINE_CLASSES or (
            member == "DatabaseClusterEngine" and attribute in ENGINE_MEMBERS
        ):
            hits.append(_py_hit("RES202", node, text, f"Aurora engine {text}"))
    return hits


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _py_hit(rule: str, node: ast.expr, text: str, message: str) -> Hit:
    return Hit(rule, node.lineno, node.col_offset + 1, text, Context.CODE, message)


def _py_import(node: ast.stmt, text: str) -> Hit:
    return Hit(
        "RES203", node.lineno, node.col_offset + 1, text, Context.CODE, "imports the RDS module"
    )
