"""Posture facts from IaC trees: which files are which flavour, and every one read.

A path in ``posture.templates`` may be one template, a ``cdk.out``, or a whole repository:

- CloudFormation: every ``.json``/``.yaml``/``.yml``/``.template`` file whose ``Resources``
  are typed (``cdk.out/*.template.json`` included);
- Terraform: every folder of ``.tf`` files, read as modules (:mod:`harness.posture.terraform`);
- CDK source (TypeScript, Python): only for an app with no ``cdk.out`` beside its
  ``cdk.json`` — a synthesized template says exactly what will be deployed, source only
  nearly (:mod:`harness.posture.cdk`).

``node_modules``, ``.terraform``, ``.git`` and virtualenvs are never read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

from harness.posture import cdk, terraform
from harness.posture.checks import AREA
from harness.posture.facts import Facts
from harness.posture.judge import judge
from harness.posture.settings import PostureSettings
from harness.posture.template import SUFFIXES, Template, load
from harness.results.check import CheckResult, errored

SKIPPED = frozenset({"node_modules", ".terraform", ".git", ".venv", "venv", "__pycache__"})


def files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not SKIPPED.intersection(path.relative_to(root).parts):
            yield path


def label(root: Path, path: Path) -> str:
    """A file as findings name it: the folder it was found under and its path inside
    (``cdk.out/App.template.json``), so names do not depend on where the checkout lives."""
    return path.name if path == root else f"{root.name}/{path.relative_to(root).as_posix()}"


def gather(paths: Sequence[Path], settings: PostureSettings) -> Facts:
    """Every subject the trees under ``paths`` define."""
    facts = Facts()
    for root in (p.resolve() for p in paths):
        found = list(files(root))
        for path in found:
            if path.suffix in SUFFIXES:
                doc = load(path)
                if doc is not None:
                    facts += Template(label(root, path), doc).facts(settings.secret)
        tf = [p for p in found if p.suffix == ".tf"]
        if tf:
            facts += terraform.gather(tf, partial(label, root), settings)
        source = cdk.sources(root, found)
        if source:
            facts += cdk.gather(source, partial(label, root))
    return facts


def template_results(paths: Sequence[Path], settings: PostureSettings) -> list[CheckResult]:
    """Every posture check on what the trees under ``paths`` define; a declared check with no
    subject is a finding, and trees with nothing posture checks give no result at all (the
    capability turns that into its own error)."""
    facts = gather(paths, settings)
    if facts == Facts() and not any(True for root in paths for _ in files(root)):
        return [errored(AREA, "templates", "no IaC file found to check")]
    searched = ", ".join(str(p) for p in paths)
    results = judge(facts, settings, searched=searched)
    return results
