"""Terraform: the retired database's resources, what serves them, and every reference to
them, resolved across files and modules; ``terraform show -json`` output read exactly.

:func:`analyse` reads the ``.tf`` files of a whole tree at once (a reference in
``outputs.tf`` to a cluster in ``main.tf``, a module input fed from the cluster and every
use of the module's variable); :func:`scan` is the same on one file alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from harness.residue.hits import Hit
from harness.residue.settings import RetiredSettings
from harness.residue.terraform import config, kinds
from harness.residue.terraform.config import TfFile
from harness.residue.terraform.engine import Graph, Report, judge

__all__ = ["Report", "TfFile", "analyse", "scan"]


def analyse(
    files: Sequence[TfFile],
    settings: RetiredSettings,
    shown: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Report:
    """Hits by file key, and the census, of a tree's ``.tf`` files.

    ``shown``: how each file key is named in the census; ``labels``: how each module folder
    is named in messages.
    """
    modules = {m.key: m for m in config.from_files(files, labels)}
    graph = Graph(modules, settings)
    by_key = {f.key: f for f in files}
    report, _classes, nodes, flagged = judge(
        graph,
        {f.key: f.where for f in files},
        shown or {f.key: f.key for f in files},
    )
    kinds.judge_kinds(graph, by_key, report, nodes, flagged)
    return report


def scan(text: str, key: str, settings: RetiredSettings) -> list[Hit]:
    """The hits of one ``.tf`` file read as a module of its own."""
    report = analyse([TfFile.read(key, ".", text)], settings)
    return report.hits.get(key, [])
