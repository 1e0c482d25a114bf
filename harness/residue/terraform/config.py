"""Terraform configuration as the residue analysis sees it: modules of resources, module
calls, outputs, locals and variables, each with the references written in it.

Two readers produce it: :func:`from_files` from ``.tf`` source (the module graph of
:mod:`harness.iac.terraform`: a module is a folder; a ``module`` block with a local ``source``
calls the folder it names, when that folder is in the scanned tree) and
:mod:`harness.residue.terraform.plan_json` from ``terraform show -json`` output.
:mod:`harness.residue.terraform.engine` resolves and judges either the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.iac import hcl, terraform
from harness.iac.lexers import HCL, Locator, blank, comment_spans

_REF = re.compile(
    r"(?<![\w.$-])("
    r"data\.[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*"
    r"|module\.[A-Za-z_][\w-]*(?:\[[^\]\n]*\])?(?:\.[A-Za-z_][\w-]*)?"
    r"|var\.[A-Za-z_][\w-]*"
    r"|local\.[A-Za-z_][\w-]*"
    r"|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*"
    r")"
)
_INDEX = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class Site:
    """A reference as written: ``aws_rds_cluster.db`` (an address, a ``var.x``, a
    ``local.x`` or a ``module.m.output``) at an offset of a file."""

    ref: str
    file: str
    offset: int


@dataclass
class Resource:
    """A ``resource`` or ``data`` block (or, from a plan, a configured resource)."""

    address: str
    type: str
    data: bool
    file: str
    offset: int
    sites: list[Site]
    values: Mapping[str, object]
    """Known attribute values: literals in source; a plan's planned values."""
    block: hcl.Block | None = None


@dataclass
class Call:
    """A ``module`` block: its source, the module it calls when that is in the tree, and the
    references written in each argument."""

    name: str
    source: str
    child: str | None
    file: str
    offset: int
    args: dict[str, list[Site]]
    values: Mapping[str, object]
    block: hcl.Block | None = None


@dataclass
class Named:
    """An output, a local value, a variable, or another block holding references."""

    name: str
    file: str
    offset: int
    sites: list[Site]
    title: str
    """How a person names it: ``output "endpoint"``, ``local.db_host``, ``provider "pg"``."""
    default: object = None


@dataclass
class Module:
    """One module: a folder of ``.tf`` files, or a module of a plan."""

    key: str
    label: str
    prefix: str = ""
    """What makes an address in it absolute: ``module.db.`` in a plan, nothing in source."""
    resources: dict[str, Resource] = field(default_factory=dict)
    calls: dict[str, Call] = field(default_factory=dict)
    outputs: dict[str, Named] = field(default_factory=dict)
    locals: dict[str, Named] = field(default_factory=dict)
    variables: dict[str, Named] = field(default_factory=dict)
    others: list[Named] = field(default_factory=list)


@dataclass(frozen=True)
class TfFile:
    """One ``.tf`` file read for the analysis."""

    key: str
    """What the caller groups hits by (a shown path)."""
    folder: str
    """Its module's folder, POSIX (the same kind of path for every file of a tree)."""
    text: str
    code: str
    """The text with comments blanked."""
    masked: str
    """``code`` with string literals blanked too: where references can be written."""
    where: Locator
    root: hcl.Block
    """The whole file read as a block (:func:`harness.iac.hcl.document`)."""

    @property
    def blocks(self) -> tuple[hcl.Block, ...]:
        return self.root.blocks

    @classmethod
    def read(cls, key: str, folder: str, text: str) -> TfFile:
        spans = comment_spans(text, HCL)
        code = blank(text, spans)
        root = hcl.document(code)
        return cls(key, folder, text, code, hcl.mask(code), Locator(text, spans), root)


def sites(file: TfFile, start: int, end: int) -> list[Site]:
    """Every reference written in ``file`` between two offsets."""
    return [
        Site(_canonical(m.group(1)), file.key, m.start())
        for m in _REF.finditer(file.masked, start, end)
    ]


def _canonical(ref: str) -> str:
    """``module.db[0].endpoint`` → ``module.db.endpoint``; a resource reference → its
    address (``aws_rds_cluster.db``)."""
    ref = _INDEX.sub("", ref)
    parts = ref.split(".")
    if parts[0] in ("var", "local"):
        return ".".join(parts[:2])
    if parts[0] == "module":
        return ".".join(parts[:3])
    return ".".join(parts[:3] if parts[0] == "data" else parts[:2])


def from_files(files: Iterable[TfFile], labels: Mapping[str, str] | None = None) -> list[Module]:
    """Modules (one per folder) from ``.tf`` files; ``labels``: how to name each folder."""
    by_key = {file.key: file for file in files}
    graph = terraform.group((f.folder, f.key, f.root) for f in by_key.values())
    modules = []
    for folder, source in sorted(graph.items()):
        label = (labels or {}).get(folder, folder)
        calls = {id(c.block): c for c in terraform.calls(source, graph)}
        group = [by_key[key] for key, _root in source.files]
        modules.append(_module(folder, label, group, calls))
    return modules


def _module(
    folder: str, label: str, files: list[TfFile], calls: Mapping[int, terraform.ModuleCall]
) -> Module:
    module = Module(folder, label)
    for file in files:
        for block in file.blocks:
            if block.kind == "variable" and block.labels:
                default = hcl.literal(file.code, block.attribute("default"))
                module.variables[block.labels[0]] = Named(
                    block.labels[0],
                    file.key,
                    block.start,
                    [],
                    f'variable "{block.labels[0]}"',
                    default,
                )
    for file in files:
        for block in file.blocks:
            _add(module, file, block, calls)
    return module


def _add(
    module: Module, file: TfFile, block: hcl.Block, calls: Mapping[int, terraform.ModuleCall]
) -> None:
    body = sites(file, block.open, block.close)
    if block.kind in ("resource", "data") and len(block.labels) == 2:
        kind, name = block.labels
        address = f"{kind}.{name}" if block.kind == "resource" else f"data.{kind}.{name}"
        module.resources[address] = Resource(
            address,
            kind,
            block.kind == "data",
            file.key,
            block.start,
            body,
            _values(module, file, block),
            block,
        )
    elif block.kind == "module" and block.labels:
        source = hcl.literal(file.code, block.attribute("source")) or ""
        child = calls[id(block)].child
        args = {
            a.name: sites(file, a.value_start, a.value_end)
            for a in block.attributes
            if a.name not in ("source", "version", "providers")
        }
        module.calls[block.labels[0]] = Call(
            block.labels[0],
            source,
            child,
            file.key,
            block.start,
            args,
            _values(module, file, block),
            block,
        )
    elif block.kind == "output" and block.labels:
        name = block.labels[0]
        module.outputs[name] = Named(name, file.key, block.start, body, f'output "{name}"')
    elif block.kind == "locals":
        for attribute in block.attributes:
            module.locals[attribute.name] = Named(
                attribute.name,
                file.key,
                attribute.start,
                sites(file, attribute.value_start, attribute.value_end),
                f"local.{attribute.name}",
            )
    elif block.kind != "variable" and body:
        title = " ".join([block.kind, *(f'"{label}"' for label in block.labels)])
        module.others.append(Named(block.kind, file.key, block.start, body, title))


def _values(module: Module, file: TfFile, block: hcl.Block) -> dict[str, object]:
    """Literal top-level attribute values; ``var.x`` read as the variable's default."""
    values: dict[str, object] = {}
    for attribute in block.attributes:
        value: object = hcl.literal(file.code, attribute)
        if value is None:
            text = file.code[attribute.value_start : attribute.value_end].strip()
            variable = re.fullmatch(r"var\.([A-Za-z_][\w-]*)", text)
            if variable and variable.group(1) in module.variables:
                value = module.variables[variable.group(1)].default
        if value is not None:
            values[attribute.name] = value
    return values
