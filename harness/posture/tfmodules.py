"""Terraform configurations evaluated as Terraform would: variables, locals, outputs, per call.

The module graph is :mod:`harness.iac.terraform`'s. A root's variables take their defaults and
the values in ``terraform.tfvars`` / ``*.auto.tfvars``. A module called with a local
``source`` (``./modules/db``) is instantiated once per call, its variables taking the call's
arguments, evaluated in the caller. Each resource then has a full
address (``module.db.aws_db_instance.this``) and every attribute evaluates to a value with the
line it came from — for ``storage_encrypted = var.encrypted`` that is the caller's
``encrypted = false``, where the fix belongs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.iac import hcl, terraform
from harness.iac.terraform import Module
from harness.posture.facts import Where
from harness.posture.values import UNKNOWN


@dataclass(frozen=True)
class RefValue:
    """What a reference to another resource evaluates to: its full address and attribute."""

    address: str
    attribute: tuple[str, ...]


@dataclass(frozen=True)
class Val:
    value: Any
    where: Where | None


@dataclass(frozen=True)
class Resource:
    """One ``resource`` block in one module instance."""

    address: str
    """``module.db.aws_db_instance.this``."""
    type: str
    name: str
    body: hcl.Block
    """The ``resource`` block."""
    scope: Scope
    where: Where
    count: int = 1

    def get(self, key: str, body: hcl.Block | None = None) -> Val | None:
        """An attribute's value (of the resource, or of one of its nested blocks)."""
        attr = (body or self.body).attribute(key)
        if attr is None:
            return None
        found = self.scope.eval(attr.expr, self.where.file)
        return Val(found.value, found.where or Where(self.where.file, attr.line))

    def block(self, kind: str) -> list[hcl.Block]:
        return self.body.children(kind)

    def line(self, line: int) -> Where:
        return Where(self.where.file, line)


_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "tolist": lambda a: a[0],
    "toset": lambda a: a[0],
    "tostring": lambda a: str(a[0]) if isinstance(a[0], str | int | float) else UNKNOWN,
    "tonumber": lambda a: float(a[0]) if isinstance(a[0], str | int | float) else UNKNOWN,
    "concat": lambda a: (
        [x for part in a for x in part] if all(isinstance(p, list) for p in a) else UNKNOWN
    ),
    "merge": lambda a: (
        {k: v for part in a for k, v in part.items()}
        if all(isinstance(p, dict) for p in a)
        else UNKNOWN
    ),
    "lookup": lambda a: (
        a[0].get(a[1], a[2] if len(a) > 2 else UNKNOWN)
        if isinstance(a[0], dict) and isinstance(a[1], str)
        else UNKNOWN
    ),
    "coalesce": lambda a: next((x for x in a if x not in (None, "")), UNKNOWN),
    "try": lambda a: next((x for x in a if x is not UNKNOWN), UNKNOWN),
}


class Scope:
    """One module instance: evaluates expressions against its variables, locals, children."""

    def __init__(
        self,
        module: Module,
        prefix: str,
        inputs: dict[str, Val],
        modules: dict[str, Module],
    ) -> None:
        self.module, self.prefix, self.inputs, self.modules = module, prefix, inputs, modules
        self._locals: dict[str, Val] = {}
        self._busy: set[str] = set()
        self.children: dict[str, Scope] = {}

    def eval(self, expr: hcl.Expr, file: str) -> Val:
        here = Where(file, expr.line)
        if isinstance(expr, hcl.Lit):
            return Val(expr.value, here)
        if isinstance(expr, hcl.Template):
            parts = [p if isinstance(p, str) else self.eval(p, file).value for p in expr.parts]
            if all(isinstance(p, str | int | float) and not isinstance(p, bool) for p in parts):
                return Val("".join(str(p) for p in parts), here)
            return Val(UNKNOWN, here)
        if isinstance(expr, hcl.ListExpr):
            return Val([self.eval(i, file).value for i in expr.items], here)
        if isinstance(expr, hcl.ObjExpr):
            return Val({k: self.eval(v, file).value for k, v in expr.items}, here)
        if isinstance(expr, hcl.Call):
            function = _FUNCTIONS.get(expr.name)
            if function is None:
                return Val(UNKNOWN, here)
            args = [self.eval(a, file).value for a in expr.args]
            try:
                return Val(function(args), here)
            except (IndexError, TypeError, AttributeError, ValueError):
                return Val(UNKNOWN, here)
        if isinstance(expr, hcl.Ref):
            return self.ref(expr, here)
        return Val(UNKNOWN, here)

    def ref(self, expr: hcl.Ref, here: Where) -> Val:
        head, rest = str(expr.path[0]), expr.path[1:]
        if head == "var" and rest:
            found = self.variable(str(rest[0]))
            return Val(_index(found.value, rest[1:]), found.where)
        if head == "local" and rest:
            found = self.local(str(rest[0]))
            return Val(_index(found.value, rest[1:]), found.where)
        if head == "module" and len(rest) >= 2:
            child = self.children.get(str(rest[0]))
            if child is None:
                return Val(UNKNOWN, here)
            found = child.output(str(rest[1]))
            return Val(_index(found.value, rest[2:]), found.where or here)
        if head.startswith("aws_") and rest:
            attrs = tuple(str(p) for p in rest[1:] if not isinstance(p, int) and p != "*")
            return Val(RefValue(f"{self.prefix}{head}.{rest[0]}", attrs), here)
        return Val(UNKNOWN, here)

    def variable(self, name: str) -> Val:
        if name in self.inputs:
            return self.inputs[name]
        for file, block in self.module.blocks("variable"):
            if block.labels == (name,):
                default = block.attribute("default")
                if default is not None:
                    return self.eval(default.expr, file)
                return Val(UNKNOWN, Where(file, block.line))
        return Val(UNKNOWN, None)

    def local(self, name: str) -> Val:
        if name in self._locals:
            return self._locals[name]
        if name in self._busy:
            return Val(UNKNOWN, None)
        self._busy.add(name)
        found = Val(UNKNOWN, None)
        for file, block in self.module.blocks("locals"):
            attr = block.attribute(name)
            if attr is not None:
                found = self.eval(attr.expr, file)
        self._busy.discard(name)
        self._locals[name] = found
        return found

    def output(self, name: str) -> Val:
        for file, block in self.module.blocks("output"):
            value = block.attribute("value")
            if block.labels == (name,) and value is not None:
                return self.eval(value.expr, file)
        return Val(UNKNOWN, None)

    def resources(self) -> Iterator[Resource]:
        for file, block in self.module.blocks("resource"):
            if len(block.labels) != 2:
                continue
            kind, name = block.labels
            count = 1
            if (counted := block.attribute("count")) is not None:
                value = self.eval(counted.expr, file).value
                count = value if isinstance(value, int) and not isinstance(value, bool) else 1
            if count == 0:
                continue
            where = Where(file, block.line)
            yield Resource(f"{self.prefix}{kind}.{name}", kind, name, block, self, where, count)
        for child in self.children.values():
            yield from child.resources()


def _index(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        elif isinstance(value, dict) and part in value:
            value = value.get(part)
        elif isinstance(value, RefValue):
            return RefValue(value.address, (*value.attribute, str(part)))
        else:
            return UNKNOWN
    return value


def _tfvars(folder: str, label: Callable[[Path], str]) -> dict[str, Val]:
    """Root variables from ``terraform.tfvars`` and ``*.auto.tfvars`` (in Terraform's order)."""
    values: dict[str, Val] = {}
    for path in terraform.tfvars_files(Path(folder)):
        try:
            body = hcl.strict(path.read_text(encoding="utf-8"))
        except (hcl.HclError, UnicodeDecodeError, OSError):
            continue
        empty = Scope(Module(folder), "", {}, {})
        for attr in body.attributes:
            values[attr.name] = empty.eval(attr.expr, label(path))
    return values


def load(files: list[Path], label: Callable[[Path], str]) -> list[Scope]:
    """The root module instances of the ``.tf`` files given, their children instantiated."""
    read = []
    for path in files:
        try:
            body = hcl.strict(path.read_text(encoding="utf-8"))
        except (hcl.HclError, UnicodeDecodeError, OSError):
            continue  # not HCL this reader follows: its resources go unread, never guessed
        read.append((path.parent.resolve().as_posix(), label(path), body))
    modules = terraform.group(read)
    roots = []
    for module in sorted(terraform.roots(modules), key=lambda m: Path(m.folder)):
        root = Scope(module, "", _tfvars(module.folder, label), modules)
        _instantiate(root, depth=0)
        roots.append(root)
    return roots


_META = ("source", "version", "providers", "count", "for_each", "depends_on")
"""Module-call arguments that are Terraform's, not the called module's inputs."""


def _instantiate(scope: Scope, depth: int) -> None:
    if depth > 8:
        return  # a module calling itself, however indirectly
    for call in terraform.calls(scope.module, scope.modules):
        if call.child is None:
            continue
        inputs = {
            attr.name: scope.eval(attr.expr, call.file)
            for attr in call.block.attributes
            if attr.name not in _META
        }
        prefix = f"{scope.prefix}module.{call.name}."
        child = Scope(scope.modules[call.child], prefix, inputs, scope.modules)
        scope.children[call.name] = child
        _instantiate(child, depth + 1)
