"""AWS CDK apps in TypeScript/JavaScript and Python: the retired database's constructs, what
serves them, their uses, and the DSQL and RDS databases the app defines (for SC-001).

Each language has a reader (:mod:`.typescript`, :mod:`.python`) that reduces a file to an
:class:`~harness.residue.cdk.model.Extract`; :mod:`.judge` decides on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.iac.lexers import C_LIKE, Locator, blank, comment_spans
from harness.residue.cdk import judge, python, typescript
from harness.residue.cdk.model import CONSTRUCTS, ENGINE_CLASSES, ENGINE_MEMBERS, Extract
from harness.residue.hits import Definition, Hit
from harness.residue.settings import RetiredSettings

__all__ = [
    "CONSTRUCTS",
    "ENGINE_CLASSES",
    "ENGINE_MEMBERS",
    "CdkScan",
    "Extract",
    "instances_retired",
    "read",
    "scan_python",
    "scan_typescript",
]


@dataclass(frozen=True)
class CdkScan:
    """One file's hits, the databases it defines, and whether it is CDK source at all."""

    hits: list[Hit]
    definitions: list[Definition]
    app: bool


def read(text: str, suffix: str) -> Extract:
    """The extract of a file by its suffix (``.py`` or TypeScript/JavaScript)."""
    if suffix == ".py":
        return python.read(text)
    spans = comment_spans(text, C_LIKE)
    return typescript.read(blank(text, spans), Locator(text, spans))


def instances_retired(extracts: list[Extract], settings: RetiredSettings) -> bool:
    """Whether every RDS instance the tree's CDK source defines is retired."""
    return judge.instances_retired(extracts, settings)


def scan_typescript(
    code: str,
    where: Locator,
    settings: RetiredSettings,
    path: str,
    *,
    instances_retired: bool = False,
) -> CdkScan:
    """TypeScript/JavaScript whose comments are blanked in ``code``."""
    extract = typescript.read(code, where)
    hits, definitions = judge.judge(extract, settings, path, instances_retired=instances_retired)
    return CdkScan(hits, definitions, extract.app)


def scan_python(
    source: str, settings: RetiredSettings, path: str, *, instances_retired: bool = False
) -> CdkScan:
    """Python source (comments are ignored by the parser)."""
    extract = python.read(source)
    hits, definitions = judge.judge(extract, settings, path, instances_retired=instances_retired)
    return CdkScan(hits, definitions, extract.app)
