"""The report folder: results.json and every file derived from it, written in one place.

    results.json   the evidence, RFC 8785 canonical JSON (the single source of truth)
    report.html    the page a reviewer reads           (harness.report.html)
    junit.xml      one testcase per check, for CI tabs  (harness.report.formats.junit)
    results.sarif  lint and residue findings by file:line (harness.report.formats.findings)

and, once a reviewer has signed (a signoff.dsse.json beside results.json):

    signoff.html   the report with the sign-off block filled in (harness.report.signoff);
                   never a signed file itself, since it is written after the signature

The derived files are rendered from the bytes of results.json as written, never from live
objects, so `cutover report results.json` re-creates them byte for byte on any machine with
the same cutover. Each file goes to a sibling ``.partial`` first and is renamed into place,
so a CI upload or a browser refresh never sees half a file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from harness.errors import HarnessError
from harness.results.files import (
    BUNDLE_NAME,
    HTML_NAME,
    JUNIT_NAME,
    RESULTS_NAME,
    SARIF_NAME,
    SIGNOFF_HTML_NAME,
    load_results,
    results_bytes,
)


@dataclass(frozen=True)
class ReportFiles:
    """The paths one write produced."""

    results: Path
    html: Path
    junit: Path
    sarif: Path
    html_kept: bool = False
    """report.html was already signed off, so it was left untouched."""


def write_folder(results: Mapping[str, Any], report_dir: Path) -> ReportFiles:
    """Write results.json (canonical) and every derived file into ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    data = results_bytes(results)
    path = _write(report_dir / RESULTS_NAME, data)
    # Derive from the bytes as written, exactly as `cutover report` will later.
    return _derive(path, json.loads(data), report_dir)


def rerender(results_path: Path, out_dir: Path | None = None) -> ReportFiles:
    """Re-create report.html, junit.xml and results.sarif from an existing results.json.

    Once a sign-off bundle sits beside it, report.html is signed evidence and is left as it
    is: rewriting it would either change nothing or erase the trace of a tampered page.
    """

    folder = out_dir or results_path.parent
    signed = (folder / BUNDLE_NAME).is_file()
    return _derive(results_path, load_results(results_path), folder, html=not signed)


def write_signoff_page(
    results_path: Path,
    *,
    public_key: Path | None = None,
    key: Ed25519PublicKey | None = None,
) -> Path | None:
    """signoff.html beside ``results_path`` when a bundle sits there; ``None`` when none does.

    The signature is checked with ``key`` (or the PEM file ``public_key``) when given; without
    one the page says the sign-off is claimed but unchecked.
    """
    from harness.report.html import write_html
    from harness.report.signoff import signoff_for
    from harness.signoff.keys import load_public_key

    bundle = results_path.with_name(BUNDLE_NAME)
    if not bundle.is_file():
        if public_key is not None:
            raise HarnessError(f"{bundle}: no sign-off bundle to check --public-key against")
        return None
    if key is None and public_key is not None:
        key = load_public_key(public_key)
    status = signoff_for(bundle, key)
    return write_html(load_results(results_path), results_path.with_name(SIGNOFF_HTML_NAME), status)


def _derive(
    results_path: Path, results: Mapping[str, Any], folder: Path, *, html: bool = True
) -> ReportFiles:
    from harness.report.formats.findings import sarif_from_results
    from harness.report.formats.junit import junit_xml
    from harness.report.formats.sarif import sarif_json
    from harness.report.html import write_html

    folder.mkdir(parents=True, exist_ok=True)
    return ReportFiles(
        results=results_path,
        html=write_html(results, folder / HTML_NAME) if html else folder / HTML_NAME,
        junit=_write(folder / JUNIT_NAME, junit_xml(results).encode("utf-8")),
        sarif=_write(folder / SARIF_NAME, sarif_json(sarif_from_results(results)).encode("utf-8")),
        html_kept=not html,
    )


def _write(path: Path, data: bytes) -> Path:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)  # bytes: no newline translation, identical on every OS
    partial.replace(path)
    return path
