"""The whole tree at once: what no single file can tell.

Terraform is read as modules across files (a reference in ``outputs.tf`` to a cluster in
``main.tf``, a module variable fed from it in another folder), so its analysis runs once per
tree and each file takes its own share of the result (:class:`~harness.residue.scan.TreeFacts`).
A scenario checks one file per item; :func:`for_root` reads each root once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from harness.residue import cdk, terraform
from harness.residue.hits import Definition
from harness.residue.scan import Source, TreeFacts, discover, read_text
from harness.residue.settings import RetiredSettings

_CACHE_SIZE = 8
CDK_SUFFIXES = frozenset({".ts", ".tsx", ".js", ".mjs", ".cjs", ".py"})
"""What the CDK readers read (the same list as :func:`harness.residue.scan.scan_text`)."""


@dataclass(frozen=True)
class Tree:
    """The Terraform analysis of one tree, by file."""

    report: terraform.Report = field(default_factory=terraform.Report)
    definitions: dict[str, tuple[Definition, ...]] = field(default_factory=dict)
    """By file key (its resolved path)."""
    instances_retired: bool = False
    """Every RDS instance the tree's CDK source defines is retired."""

    def facts(self, source: Source) -> TreeFacts | None:
        """What the tree found in ``source``; None for a file the tree analyses do not read."""
        if source.path.suffix in CDK_SUFFIXES:
            return TreeFacts(instances_retired=self.instances_retired)
        if source.path.suffix != ".tf":
            return None
        key = _key(source.path)
        return TreeFacts(tuple(self.report.hits.get(key, [])), self.definitions.get(key, ()))


def _key(path: Path) -> str:
    return path.resolve().as_posix()


def build(sources: Sequence[Source], settings: RetiredSettings) -> Tree:
    """Read every ``.tf`` file of ``sources`` and analyse them together."""
    files: list[terraform.TfFile] = []
    shown: dict[str, str] = {}
    labels: dict[str, str] = {}
    extracts: list[cdk.Extract] = []
    for source in sources:
        if source.path.suffix not in CDK_SUFFIXES | {".tf"}:
            continue
        text = read_text(source.path)
        if text is None:
            continue
        if source.path.suffix in CDK_SUFFIXES:
            if "cdk.out" not in source.path.parts and ("aws-cdk" in text or "aws_cdk" in text):
                extracts.append(cdk.read(text, source.path.suffix))
            continue
        key = _key(source.path)
        folder = PurePosixPath(key).parent.as_posix()
        files.append(terraform.TfFile.read(key, folder, text))
        shown[key] = source.shown
        labels.setdefault(folder, PurePosixPath(source.shown).parent.as_posix())
    instances = cdk.instances_retired(extracts, settings)
    if not files:
        return Tree(instances_retired=instances)
    report = terraform.analyse(files, settings, shown, labels)
    by_shown = {v: k for k, v in shown.items()}
    definitions: dict[str, list[Definition]] = {}
    for definition in report.definitions:
        definitions.setdefault(by_shown[definition.path], []).append(definition)
    return Tree(report, {k: tuple(v) for k, v in definitions.items()}, instances)


_TREES: dict[tuple[str, RetiredSettings], Tree] = {}


def for_root(root: Path, settings: RetiredSettings) -> Tree:
    """The tree under ``root``, read once per process (a scenario's items share it)."""
    key = (_key(root), settings)
    if key not in _TREES:
        if len(_TREES) >= _CACHE_SIZE:
            _TREES.pop(next(iter(_TREES)))
        _TREES[key] = build(discover([root], settings), settings)
    return _TREES[key]
