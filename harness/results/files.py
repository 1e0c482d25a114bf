"""The report folder's contract: the results.json format, its verdicts, every file name, the
canonical bytes, and the one way to read a results.json back.

Everything that writes or reads the folder (the run, ``cutover report``, ``cutover sign``,
``cutover check-signature``, ``cutover verify``) names its files from here, so a file name is
typed once and this module imports nothing of the harness beyond its error base.

A GO must be earned: :func:`load_results` validates the document against
``schemas/results.schema.json`` and recomputes the verdict and the summary counts from its
checks with :func:`verdict`, the same function the run used to write them, so an edited
verdict, deleted checks or values of the wrong type are refused in one line, never rendered
or signed.

    results.json       the evidence, RFC 8785 canonical JSON (the single source of truth)
    report.html        the page a reviewer reads
    junit.xml          one testcase per check, for CI test tabs
    results.sarif      lint and residue findings by file:line
    summary.md         the verdict, the checks that decided it and counts by area, in Markdown
    signoff.dsse.json  a reviewer's signed decision over the files above
    signoff.html       the report with the sign-off block filled in (never itself signed)
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import rfc8785

from harness.errors import HarnessError

FORMAT = "cutover.results/1"
VERDICTS = ("GO", "GO WITH WAIVERS", "NO-GO")
STATUSES = ("pass", "fail", "error", "waived", "skip")
"""A check's status, in the order of results.json's ``summary``."""
RESULTS_SCHEMA = Path(str(importlib.resources.files("schemas") / "results.schema.json"))
"""The schema of results.json, shipped with cutover (package ``schemas``)."""

RESULTS_NAME = "results.json"
HTML_NAME = "report.html"
JUNIT_NAME = "junit.xml"
SARIF_NAME = "results.sarif"
SUMMARY_NAME = "summary.md"
BUNDLE_NAME = "signoff.dsse.json"
SIGNOFF_HTML_NAME = "signoff.html"
DEFAULT_REPORT_DIR = Path("reports/out")
DERIVED_NAMES = (HTML_NAME, JUNIT_NAME, SARIF_NAME, SUMMARY_NAME)
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
    if data["format"] != FORMAT:
        raise HarnessError(
            f"{results_path}: written in format {data['format']}; this cutover reads {FORMAT}"
        )
    problem = _schema_problem(data) or _shape_problem(data)
    if problem is not None:
        raise HarnessError(f"{results_path}: not a valid results.json: {problem}")
    problem = _inconsistency(data)
    if problem is not None:
        raise HarnessError(f"{results_path}: {problem}")
    return data


def verdict(checks: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """GO, GO WITH WAIVERS or NO-GO, and a one-line reason.

    The run writes the verdict with it and every reader recomputes it with it."""
    bad = [c["id"] for c in checks if c["status"] in ("fail", "error")]
    if not checks:
        return "NO-GO", "no check ran, so nothing was proven"
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        return "NO-GO", f"{len(bad)} check(s) failed or could not run: {shown}"
    skipped = sum(1 for c in checks if c["status"] == "skip")
    if skipped == len(checks):  # a skip proves nothing: all skipped is no evidence at all
        return "NO-GO", f"{skipped} of {skipped} checks skipped, so nothing was proven"
    also = f" ({skipped} skipped)" if skipped else ""
    waived = [c["id"] for c in checks if c["status"] == "waived"]
    if waived:
        return "GO WITH WAIVERS", (
            f"all checks pass{also}; {len(waived)} rely on reviewed expected "
            f"differences: {', '.join(waived[:5])}{_target_only(checks)}"
        )
    return "GO", f"all {len(checks) - skipped} checks pass{also}{_target_only(checks)}"


def _target_only(checks: Sequence[Mapping[str, Any]]) -> str:
    """What a plan without a source covered (its comparisons record ``<area>[no-source]``
    skips): a GO on the target alone must not read as a GO on a compared migration."""
    absent = sorted(
        {c["area"] for c in checks if c["status"] == "skip" and c["id"].endswith("[no-source]")}
    )
    if not absent:
        return ""
    covered = sorted({c["area"] for c in checks if c["status"] in ("pass", "waived")})
    return (
        f"; target only (the plan has no source): covered {', '.join(covered)}; "
        f"nothing compared, so {', '.join(absent)} not applicable"
    )


def summary(checks: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """results.json's ``summary``: how many checks have each status."""
    counts = Counter(c["status"] for c in checks)
    return {status: counts.get(status, 0) for status in STATUSES}


def _inconsistency(results: Mapping[str, Any]) -> str | None:
    """What the document claims that its own checks do not support, or ``None``."""
    checks = results["checks"]
    outcome, reason = verdict(checks)
    if results["verdict"] != outcome:
        return f"verdict says {results['verdict']} but its checks say {outcome} ({reason})"
    counted = summary(checks)
    said = results["summary"]
    differ = [s for s in STATUSES if said.get(s) != counted[s]]
    if differ:
        return (
            "summary says "
            + ", ".join(f"{s} {said.get(s)}" for s in differ)
            + " but its checks count "
            + ", ".join(f"{s} {counted[s]}" for s in differ)
        )
    return None


@functools.cache
def _validator(schema_path: Path) -> Any:
    """A Draft 2020-12 validator of ``schema_path``; an install without it cannot vouch for
    any results.json, so that is an error, never a pass."""
    try:
        schema = json.loads(schema_path.read_bytes())
    except FileNotFoundError:
        raise HarnessError(
            f"{schema_path}: cutover's results schema is missing; reinstall cutover"
        ) from None
    import jsonschema  # type: ignore[import-untyped]

    return jsonschema.Draft202012Validator(schema)


def _schema_problem(data: dict[str, Any]) -> str | None:
    """The most relevant schema violation as ``where: what``, or ``None``."""
    validator = _validator(RESULTS_SCHEMA)
    import jsonschema

    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return None
    where = _where(error.absolute_path)
    return f"{where}: {_what(error)}" if where else _what(error)


def _where(path: Sequence[Any]) -> str:
    """``checks[2].status`` for the path ``["checks", 2, "status"]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}


_PATTERNS = {"^[0-9a-f]{64}$": "a lowercase hex sha256"}


def _clip(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _what(error: Any) -> str:
    """A jsonschema error in a few words, never echoing a whole sub-document."""
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"is {_JSON_TYPES.get(type(error.instance), 'a value')}, should be {wanted}"
    if error.validator == "enum":
        choices = ", ".join(_clip(v) for v in error.validator_value)
        return f"{_clip(error.instance)} is not one of {choices}"
    if error.validator == "pattern":
        named = _PATTERNS.get(error.validator_value)
        if named is not None:
            return f"{_clip(error.instance)} is not {named}"
        return f"{_clip(error.instance)} does not match {error.validator_value}"
    if error.validator == "const":
        return f"is {_clip(error.instance)}, should be {_clip(error.validator_value)}"
    message = " ".join(str(error.message).split())
    return message if len(message) <= 200 else message[:199] + "…"


def _shape_problem(data: dict[str, Any]) -> str | None:
    """What the verdict's recomputation needs, checked by hand (also without the schema)."""
    if data.get("verdict") not in VERDICTS:
        return f"verdict: {_clip(data.get('verdict'))} is not one of {', '.join(VERDICTS)}"
    checks = data.get("checks")
    if not isinstance(checks, list):
        return "checks: should be an array"
    for i, check in enumerate(checks):
        if not isinstance(check, dict):
            return f"checks[{i}]: should be an object"
        if not isinstance(check.get("id"), str):
            return f"checks[{i}].id: should be a string"
        if check.get("status") not in STATUSES:
            return f"checks[{i}].status: should be one of {', '.join(STATUSES)}"
    counts = data.get("summary")
    if not isinstance(counts, dict) or not all(
        isinstance(counts.get(s), int) and not isinstance(counts.get(s), bool) for s in STATUSES
    ):
        return f"summary: should be an object of integer counts ({', '.join(STATUSES)})"
    return None


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
