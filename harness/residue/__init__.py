"""Residue scan (SC-004): nothing in the infrastructure code still points at the retired cluster.

Public API: :func:`discover`, :func:`check_file`, :func:`check_target`,
:func:`check_paths`, :class:`RetiredSettings`, :data:`RULES`.
"""

from __future__ import annotations

from harness.residue.checks import check_file, check_paths, check_target
from harness.residue.rules import RULES, Rule
from harness.residue.scan import FileScan, Source, discover, scan_file, scan_text
from harness.residue.settings import AllowEntry, RetiredSettings

__all__ = [
    "RULES",
    "AllowEntry",
    "FileScan",
    "RetiredSettings",
    "Rule",
    "Source",
    "check_file",
    "check_paths",
    "check_target",
    "discover",
    "scan_file",
    "scan_text",
]
