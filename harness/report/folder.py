"""The report folder: results.json and every file derived from it, written in one place.

    results.json   the evidence, RFC 8785 canonical JSON (the single source of truth)
    report.html    the page a reviewer reads           (harness.report.html)
    junit.xml      one testcase per check, for CI tabs  (harness.report.formats.junit)
    results.sarif  lint and residue findings by file:line (harness.report.formats.findings)
    summary.md     verdict, deciding checks, counts by area (harness.report.summary), short
                   enough for a pull-request comment or a CI step summary

and, once a reviewer has signed (a signoff.dsse.json beside results.json):

    signoff.html   the report with the sign-off block filled in (harness.report.signoff);
                   never a signed file itself, since it is written after the signature

The derived files are rendered from the bytes of results.json as written, never from live
objects, so `cutover report results.json` re-creates them byte for byte on any machine with
the same cutover. Each file goes to a sibling ``.partial`` first and is renamed into place,
so a CI upload or a browser refresh never sees half a file.

Every file of the folder belongs to one run. A run holds the folder (:func:`claimed`: a lock
file, ``.cutover.lock``, there while it runs, so a second run into it is refused at once),
removes the previous run's files before it starts, so a run that stops early leaves nothing
that reads as a verdict, and refuses a folder holding a signed bundle rather than overwrite
signed evidence.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from filelock import FileLock, Timeout

from harness.errors import HarnessError
from harness.report.output import writable_folder
from harness.results.files import (
    BUNDLE_NAME,
    DERIVED_NAMES,
    HTML_NAME,
    JUNIT_NAME,
    RESULTS_NAME,
    SARIF_NAME,
    SIGNOFF_HTML_NAME,
    SUMMARY_NAME,
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
    summary: Path
    html_kept: bool = False
    """report.html was already signed off, so it was left untouched."""


LOCK_NAME = ".cutover.lock"
"""The lock file a run holds in its report folder (see :func:`claimed`)."""
RUN_FILES = (RESULTS_NAME, *DERIVED_NAMES, SIGNOFF_HTML_NAME)
"""What one run leaves in the folder: written together, or removed together."""

_held: dict[Path, FileLock] = {}
"""This process's folder locks by lock file: ``cutover verify`` claims the folder before pytest
starts and the plugin claims it again in the same process, so a claim is re-entrant here."""


@contextmanager
def claimed(report_dir: Path) -> Iterator[Path]:
    """Hold ``report_dir`` for one run: lock it, refuse it when it holds a signed bundle, and
    remove the previous run's files, so whatever the run leaves is its own.

    A one-line :class:`HarnessError` when another run holds the folder, when a sign-off bundle
    sits in it, or when it cannot be created, written, locked or cleared.
    """
    writable_folder(report_dir, option="--report-dir")  # before the lock: the clearer line
    path = (report_dir / LOCK_NAME).resolve()
    lock = _held.setdefault(path, FileLock(str(path), timeout=0))
    busy = HarnessError(
        f"--report-dir {report_dir}: another cutover run is writing this folder (it holds "
        f"{LOCK_NAME}); wait for that run to end or choose another --report-dir"
    )
    try:
        lock.acquire()
    except Timeout:
        raise busy from None
    except OSError as exc:
        raise HarnessError(
            f"--report-dir {report_dir}: cannot lock it ({exc.strerror}); choose another folder"
        ) from None
    if not path.exists():  # locked the file of a run that removed it as it ended: still busy
        lock.release()
        raise busy
    try:
        bundle = report_dir / BUNDLE_NAME
        if bundle.exists():
            raise HarnessError(
                f"--report-dir {report_dir} holds a signed run ({BUNDLE_NAME}) that a new run "
                "would overwrite: pick another --report-dir or move the signed set away"
            )
        clear_run_files(report_dir)
        yield report_dir
    finally:
        if lock.lock_counter == 1:  # the outermost claim: the folder keeps only the run's files
            with suppress(OSError):  # removed while still held, so no other run locks it
                path.unlink()
        lock.release()


def clear_run_files(report_dir: Path) -> None:
    """Remove a previous run's files (and any ``.partial`` left of them), results.json first."""
    for name in RUN_FILES:
        for path in (report_dir / name, report_dir / f"{name}.partial"):
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise HarnessError(
                    f"--report-dir {report_dir}: cannot remove the previous run's {path.name} "
                    f"({exc.strerror}); remove it or choose another folder"
                ) from None


def write_folder(results: Mapping[str, Any], report_dir: Path) -> ReportFiles:
    """Write results.json (canonical) and every derived file into ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    data = results_bytes(results)
    path = _write(report_dir / RESULTS_NAME, data)
    # Derive from the bytes as written, exactly as `cutover report` will later.
    return _derive(path, json.loads(data), report_dir)


def rerender(results_path: Path, out_dir: Path | None = None) -> ReportFiles:
    """Re-create report.html, junit.xml, results.sarif and summary.md from a results.json.

    Once a sign-off bundle sits beside it, report.html is signed evidence and is left as it
    is: rewriting it would either change nothing or erase the trace of a tampered page. A
    folder it cannot write in is a one-line :class:`HarnessError` before anything is rendered.
    """

    folder = out_dir or results_path.parent
    results = load_results(results_path)
    writable_folder(folder, fix="copy results.json to a folder you can write in and render there")
    signed = (folder / BUNDLE_NAME).is_file()
    return _derive(results_path, results, folder, html=not signed)


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
    from harness.report.summary import summary_markdown

    folder.mkdir(parents=True, exist_ok=True)
    return ReportFiles(
        results=results_path,
        html=write_html(results, folder / HTML_NAME) if html else folder / HTML_NAME,
        junit=_write(folder / JUNIT_NAME, junit_xml(results).encode("utf-8")),
        sarif=_write(folder / SARIF_NAME, sarif_json(sarif_from_results(results)).encode("utf-8")),
        summary=_write(folder / SUMMARY_NAME, summary_markdown(results).encode("utf-8")),
        html_kept=not html,
    )


def _write(path: Path, data: bytes) -> Path:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)  # bytes: no newline translation, identical on every OS
    partial.replace(path)
    return path
