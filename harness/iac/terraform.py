"""Terraform configurations as a module graph, read from ``.tf`` source.

Every folder of ``.tf`` files is a module (its folder, POSIX, is its key). A ``module`` block
whose ``source`` is a local path (``./modules/db``, ``../shared``) calls the folder it names,
when that folder is in the tree read; a registry or git source is outside the tree and its
inside unknown. A module no other module calls is a root: Terraform runs there, so its
variables take ``terraform.tfvars`` and ``*.auto.tfvars`` (:func:`tfvars_files`).

The graph is what residue (which references reach the retired database, across files and
modules) and posture (what each attribute evaluates to, and on which line that is set) both
walk; each resolves references its own way over it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.iac import hcl


@dataclass
class Module:
    """One folder of ``.tf`` files, each file read as its root block."""

    folder: str
    """POSIX; the same kind of path for every module of a tree."""
    files: list[tuple[str, hcl.Block]] = field(default_factory=list)
    """(file key, root block), in the order read."""

    def blocks(self, kind: str) -> Iterator[tuple[str, hcl.Block]]:
        """Every top-level block of ``kind`` with the key of its file."""
        for name, root in self.files:
            for block in root.children(kind):
                yield name, block


@dataclass(frozen=True)
class ModuleCall:
    """A ``module "name" { source = … }`` block, and the module it calls when in the tree."""

    name: str
    file: str
    block: hcl.Block
    source: str
    """The literal ``source``; empty when it is not a literal string."""
    child: str | None
    """The called module's folder; None for a source outside the tree."""


def source(call: hcl.Block) -> str:
    """The literal ``source`` of a ``module`` block, or ``""``."""
    found = call.attribute("source")
    if found is None or not isinstance(found.expr, hcl.Lit):
        return ""
    return str(found.expr.value)


def local_folder(folder: str, source: str) -> str | None:
    """The folder a local ``source`` names from a module in ``folder``; None if not local."""
    if not source.startswith(("./", "../")):
        return None
    return posixpath.normpath(posixpath.join(folder, source))


def calls(module: Module, folders: Collection[str]) -> list[ModuleCall]:
    """The labelled ``module`` blocks of ``module``; ``folders``: the modules in the tree."""
    found = []
    for file, block in module.blocks("module"):
        if not block.labels:
            continue
        text = source(block)
        child = local_folder(module.folder, text)
        found.append(
            ModuleCall(block.labels[0], file, block, text, child if child in folders else None)
        )
    return found


def group(files: Iterable[tuple[str, str, hcl.Block]]) -> dict[str, Module]:
    """Modules by folder from (folder, file key, root block) triples."""
    modules: dict[str, Module] = {}
    for folder, key, root in files:
        modules.setdefault(folder, Module(folder)).files.append((key, root))
    return modules


def roots(modules: Mapping[str, Module]) -> list[Module]:
    """The modules no other module of the tree calls, by folder."""
    called = {
        call.child
        for module in modules.values()
        for call in calls(module, modules)
        if call.child is not None and call.child != module.folder
    }
    return [module for folder, module in sorted(modules.items()) if folder not in called]


def tfvars_files(folder: Path) -> list[Path]:
    """A root's variable files in the order Terraform reads them (later ones win)."""
    files = [folder / "terraform.tfvars", *sorted(folder.glob("*.auto.tfvars"))]
    return [path for path in files if path.is_file()]
