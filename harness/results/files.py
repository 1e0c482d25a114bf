"""The report folder's contract: the results.json format, its verdicts, every file name, the
canonical bytes, and the one way to read a results.json back.

Everything that writes or reads the folder (the run, ``cutover report``, ``cutover sign``,
``cutover check-signature``, ``cutover verify``) names its files from here, so a file name is
typed once and this module imports nothing of the harness beyond its error base.

    results.json       the evidence, RFC 8785 canonical JSON (the single source of truth)
    report.html        the page a reviewer reads
    junit.xml          one testcase per check, for CI test tabs
    results.sarif      lint and residue findings by file:line
    signoff.dsse.json  a reviewer's signed decision over the files above
    signoff.html       the report with the sign-off block filled in (never itself signed)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import rfc8785

from harness.errors import HarnessError

FORMAT = "cutover.results/1"
VERDICTS = ("GO", "GO WITH WAIVERS", "NO-GO")

RESULTS_NAME = "results.json"
HTML_NAME = "report.html"
JUNIT_NAME = "junit.xml"
SARIF_NAME = "results.sarif"
BUNDLE_NAME = "signoff.dsse.json"
SIGNOFF_HTML_NAME = "signoff.html"
DEFAULT_REPORT_DIR = Path("reports/out")
DERIVED_NAMES = (HTML_NAME, JUNIT_NAME, SARIF_NAME)
"""Rendered from results.json alone; `cutover report` re-creates them byte for byte."""

_JS_SAFE_INT = 2**53 - 1
"""RFC 8785 numbers are IEEE doubles; an integer past this cannot round-trip as a number."""


def results_bytes(results: Mapping[str, Any]) -> bytes:
    """``results`` as RFC 8785 canonical JSON: the same document always gives the same bytes.

    Values JSON numbers cannot carry exactly (NaN, infinities, integers beyond 2**53 - 1, which
    a database can hand a check as evidence) are written as their decimal text instead of
    failing the run or silently losing digits.
    """
    return rfc8785.dumps(_jsonable(results))


def load_results(results_path: Path) -> dict[str, Any]:
    """A results.json read back, or a one-line :class:`HarnessError` saying what is wrong."""
    try:
        data = json.loads(results_path.read_bytes())
    except FileNotFoundError:
        raise HarnessError(f"{results_path}: no such results file") from None
    except IsADirectoryError:
        raise HarnessError(f"{results_path}: is a folder; give the results.json in it") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{results_path}: not a results.json ({exc})") from None
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("cutover.results/"):
        raise HarnessError(f"{results_path}: not a results.json (no 'format': 'cutover.results/…')")
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= _JS_SAFE_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)
