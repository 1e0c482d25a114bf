"""Read a CDK app's Python into an :class:`~harness.residue.cdk.model.Extract`, with :mod:`ast`.

A name counts only when it comes from the module it was imported from (``from aws_cdk import
aws_rds as rds``, ``import aws_cdk.aws_rds as rds``, ``from aws_cdk.aws_rds import
DatabaseCluster``, ``import aws_cdk as cdk`` then ``cdk.aws_rds``). Variables are plain names
and ``self.x`` attributes; a function parameter annotated with an RDS cluster type holds the
retired database too.
"""

from __future__ import annotations

import ast

from harness.residue.cdk.model import (
    CONSTRUCTS,
    ENGINE_CLASSES,
    ENGINE_MEMBERS,
    INSTANCES,
    MODULES,
    Call,
    Extract,
    PolicyStatement,
    Prop,
    Use,
)
from harness.residue.hits import Context, Hit
from harness.residue.iam import Item

_PROPS = {"removal_policy": "removalPolicy", "deletion_protection": "deletionProtection"}


class _Offsets:
    """ast positions (line, UTF-8 byte column) to character offsets in the text."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines(keepends=True)
        self._starts = [0]
        for line in self._lines:
            self._starts.append(self._starts[-1] + len(line))

    def of(self, line: int, byte_column: int) -> int:
        if line - 1 >= len(self._lines):
            return self._starts[-1]
        column = len(self._lines[line - 1].encode("utf-8")[:byte_column].decode("utf-8", "replace"))
        return self._starts[line - 1] + column

    def column(self, line: int, byte_column: int) -> int:
        return (
            self.of(line, byte_column) - self._starts[line - 1] + 1
            if line - 1 < len(self._lines)
            else 1
        )


def read(text: str) -> Extract:
    """The CDK content of one Python file; an empty extract when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return Extract()
    offsets = _Offsets(text)
    extract = Extract()
    namespaces: dict[str, str] = {}
    members: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "aws_cdk" or alias.name.startswith("aws_cdk."):
                    extract.app = True
                module = MODULES.get(alias.name.removeprefix("aws_cdk."))
                if module:
                    namespaces[alias.asname or alias.name] = module
                    _import(extract, module, node, f"import {alias.name}")
                elif alias.name == "aws_cdk":
                    for member, short in MODULES.items():
                        namespaces[f"{alias.asname or alias.name}.{member}"] = short
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "aws_cdk" or node.module.startswith("aws_cdk."):
                extract.app = True
            for alias in node.names:
                if node.module == "aws_cdk" and alias.name in MODULES:
                    namespaces[alias.asname or alias.name] = MODULES[alias.name]
                    _import(extract, MODULES[alias.name], node, f"from aws_cdk import {alias.name}")
                elif (module := MODULES.get(node.module.removeprefix("aws_cdk."))) and (
                    node.module.startswith("aws_cdk.")
                ):
                    members[alias.asname or alias.name] = (module, alias.name)
                    _import(extract, module, node, f"from {node.module} import {alias.name}")
    parents = {id(child): p for p in ast.walk(tree) for child in ast.iter_child_nodes(p)}
    for node in ast.walk(tree):
        if isinstance(node, ast.expr):
            _mention(extract, node, namespaces, members, parents)
        if isinstance(node, ast.Call):
            call = _call(node, text, namespaces, members, parents, offsets)
            if call is not None:
                extract.calls.append(call)
                statement = _statement(call, node, offsets)
                if statement is not None:
                    extract.statements.append(statement)
            for keyword in node.keywords:
                if keyword.arg in _PROPS:
                    value = ast.unparse(keyword.value)
                    extract.props.append(
                        Prop(
                            _PROPS[keyword.arg],
                            value,
                            offsets.of(keyword.lineno, keyword.col_offset),
                            keyword.lineno,
                            offsets.column(keyword.lineno, keyword.col_offset),
                            f"{keyword.arg}={value}",
                        )
                    )
        if isinstance(node, ast.arg) and node.annotation is not None:
            annotation = _dotted(node.annotation) or ""
            kind = _resolve(annotation, namespaces, members)
            if kind[0] == "rds" and kind[1] in CONSTRUCTS:
                extract.typed[node.arg] = node.arg
            elif kind[0] == "rds" and kind[1] in INSTANCES:
                extract.typed_instances[node.arg] = node.arg
    _uses(extract, tree, parents, offsets)
    return extract


def _import(extract: Extract, module: str, node: ast.stmt, text: str) -> None:
    if module == "rds":
        extract.imports.append(
            Hit(
                "RES203",
                node.lineno,
                node.col_offset + 1,
                text,
                Context.CODE,
                "imports the RDS module",
            )
        )


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _resolve(
    dotted: str, namespaces: dict[str, str], members: dict[str, tuple[str, str]]
) -> tuple[str | None, str | None]:
    """``rds.DatabaseCluster`` → ("rds", "DatabaseCluster"); a member import's name alike."""
    for ns, module in namespaces.items():
        if dotted.startswith(ns + "."):
            return module, dotted[len(ns) + 1 :].split(".")[0]
    head = dotted.split(".")[0]
    if head in members:
        return members[head]
    return None, None


def _mention(
    extract: Extract,
    node: ast.expr,
    namespaces: dict[str, str],
    members: dict[str, tuple[str, str]],
    parents: dict[int, ast.AST],
) -> None:
    """RES201 and RES202 where an RDS cluster member or the Aurora engine is named."""
    member: str | None = None
    if isinstance(node, ast.Attribute) and namespaces.get(_dotted(node.value) or "") == "rds":
        member = node.attr
    elif isinstance(node, ast.Name) and members.get(node.id, ("", ""))[0] == "rds":
        member = members[node.id][1]
    if member is None:
        return
    parent = parents.get(id(node))
    attribute = parent.attr if isinstance(parent, ast.Attribute) else None
    text = ast.unparse(parent if isinstance(parent, ast.Attribute) else node)
    if member in CONSTRUCTS:
        extract.mentions.append(
            Hit(
                "RES201",
                node.lineno,
                node.col_offset + 1,
                text,
                Context.CODE,
                f"RDS construct {member}",
            )
        )
    elif member in ENGINE_CLASSES or (
        member == "DatabaseClusterEngine" and attribute in ENGINE_MEMBERS
    ):
        extract.mentions.append(
            Hit(
                "RES202",
                node.lineno,
                node.col_offset + 1,
                text,
                Context.CODE,
                f"Aurora engine {text}",
            )
        )


def _call(
    node: ast.Call,
    text: str,
    namespaces: dict[str, str],
    members: dict[str, tuple[str, str]],
    parents: dict[int, ast.AST],
    offsets: _Offsets,
) -> Call | None:
    dotted = _dotted(node.func)
    if dotted is None:
        return None
    module, member = _resolve(dotted, namespaces, members)
    if module is None or member is None:
        return None
    head = dotted.split(".")
    prefix = next((ns for ns in namespaces if dotted.startswith(ns + ".")), None)
    rest = dotted[len(prefix) + 1 :].split(".") if prefix else head
    method = rest[1] if len(rest) > 1 else None
    parent = parents.get(id(node))
    var = None
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        var = next((_dotted(t) for t in targets if _dotted(t)), None)
    ident = None
    if (
        len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        ident = node.args[1].value
    args = tuple(d for a in [*node.args, *(k.value for k in node.keywords)] if (d := _dotted(a)))
    end_line = node.end_lineno or node.lineno
    end_col = node.end_col_offset or node.col_offset
    return Call(
        module,
        member,
        method,
        offsets.of(node.lineno, node.col_offset),
        offsets.of(end_line, end_col),
        node.func.lineno,
        node.func.col_offset + 1,
        dotted,
        var,
        ident,
        args,
        ast.get_source_segment(text, node) or "",
    )


def _uses(extract: Extract, tree: ast.AST, parents: dict[int, ast.AST], offsets: _Offsets) -> None:
    names = (
        {c.var for c in extract.calls if c.var}
        | set(extract.typed.values())
        | set(extract.typed_instances.values())
    )
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Name, ast.Attribute)) or not isinstance(node.ctx, ast.Load):
            continue
        name = _dotted(node)
        if name not in names:
            continue
        if isinstance(node, ast.Name) and isinstance(parents.get(id(node)), ast.Attribute):
            outer = parents[id(node)]
            if isinstance(outer, ast.Attribute) and _dotted(outer) in names:
                continue  # self.x is one use of self.x, not a use of self
        tail = ""
        parent = parents.get(id(node))
        while isinstance(parent, ast.Attribute):
            tail += f".{parent.attr}"
            parent = parents.get(id(parent))
        extract.uses.append(
            Use(
                name,
                offsets.of(node.lineno, node.col_offset),
                node.lineno,
                node.col_offset + 1,
                tail,
            )
        )


def _statement(call: Call, node: ast.Call, offsets: _Offsets) -> PolicyStatement | None:
    if call.module != "iam" or call.member != "PolicyStatement" or call.method is not None:
        return None
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    if "effect" in keywords and "DENY" in ast.unparse(keywords["effect"]):
        return None
    lists: dict[str, tuple[Item, ...]] = {}
    for key in ("actions", "resources"):
        value = keywords.get(key)
        if isinstance(value, (ast.List, ast.Tuple)):
            lists[key] = tuple(_item(e, offsets) for e in value.elts)
    return PolicyStatement(call.start, lists.get("actions", ()), lists.get("resources", ()))


def _item(node: ast.expr, offsets: _Offsets) -> Item:
    column = offsets.column(node.lineno, node.col_offset)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return Item(node.value, node.lineno, column)
    refs = frozenset(
        d for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute)) and (d := _dotted(n))
    )
    return Item(ast.unparse(node), node.lineno, column, refs)
