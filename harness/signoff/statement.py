"""What a sign-off signs: an in-toto Statement v1 naming every file by sha256, plus a verdict.

Subjects are ``results.json``, the ``report.html`` beside it and every input the run read:
the plan (``results["plan"]``) and whatever later capabilities list in the optional top-level
``results["inputs"]`` (``[{"path", "sha256", "kind"?}]``: linted SQL files, scanned IaC
files). Relative input paths are taken from the folder of ``results.json``.

Names never depend on where the files sat when they were signed, so the evidence verifies
wherever it is copied (a CI artifact downloaded to a laptop). Each subject says what its name
is relative to (annotation ``base``): ``folder``, the report folder the bundle sits in, or
``root``, a declared root holding the inputs (``cutover sign --root``, default the run's
``environment.source_root``, else the plan's folder). The predicate records where that root
was as seen from the report folder (``root``), which is where ``check-signature`` looks
unless told otherwise, so a tree moved whole still verifies as it is.

The predicate (type :data:`PREDICATE_TYPE`) carries the reviewer's decision and the facts it
was made on: verdict and reason, summary counts, plan hash, waivers (expired ones flagged as
of the signing time, since a waiver can expire between the run and the review) and the
cutover version that signed.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.results.files import FORMAT, HTML_NAME, VERDICTS
from harness.results.record import harness_version
from harness.signoff.errors import SignoffError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://cutover.dev/signoff/v1"
DECISIONS = ("approve", "reject")
FOLDER, ROOT = "folder", "root"
"""What a subject's name is relative to: the report folder, or the declared inputs root."""

_REVIEWER = re.compile(r"^\s*(?P<name>[^<>@]*[^<>@\s])\s*<(?P<email>[^<>\s@]+@[^<>\s@]+)>\s*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Reviewer:
    """Who signs: ``"Name <email>"`` as on a git commit."""

    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Reviewer:
        match = _REVIEWER.match(text)
        if match is None:
            raise SignoffError(
                f'reviewer "{text}" is not of the form "Name <email>" '
                '(for example "Ada Lovelace <ada@example.com>")'
            )
        return cls(match["name"], match["email"])

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Subject:
    """One signed file: its ``/``-separated name relative to ``base``, its digest and what it
    is."""

    name: str
    sha256: str
    role: str
    """``results``, ``report``, ``plan`` or the input's ``kind`` (``input`` when unnamed)."""
    base: str = FOLDER
    """:data:`FOLDER` (the report folder) or :data:`ROOT` (the declared inputs root)."""
    root: str | None = None
    """For a :data:`ROOT` subject, the root as a ``/``-separated path from the report folder
    (the predicate's ``root``; not part of the subject itself)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": {"sha256": self.sha256},
            "annotations": {"role": self.role, "base": self.base},
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_results(results: Any, path: Path) -> dict[str, Any]:
    """The parsed results.json, if it is one cutover wrote; what signing relies on, checked."""
    if not isinstance(results, dict) or results.get("format") != FORMAT:
        raise SignoffError(f"not a cutover results.json (format is not {FORMAT})", path=path)
    if results.get("verdict") not in VERDICTS:
        raise SignoffError(f"verdict is not one of {', '.join(VERDICTS)}", path=path)
    plan = results.get("plan")
    if not isinstance(plan, dict) or not isinstance(plan.get("path"), str):
        raise SignoffError("plan.path is missing", path=path)
    return results


def declared_inputs(results: dict[str, Any], path: Path) -> list[tuple[str, str, str]]:
    """``(path, sha256, role)`` for the plan and each entry of the optional ``inputs`` list."""
    entries: list[tuple[str, Any, str]] = [
        ("plan", results["plan"], "plan"),
        *(
            (f"inputs[{i}]", entry, entry.get("kind", "input") if isinstance(entry, dict) else "")
            for i, entry in enumerate(results.get("inputs") or [])
        ),
    ]
    out = []
    for where, entry, role in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise SignoffError(f"{where} has no path", path=path)
        digest = entry.get("sha256")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise SignoffError(f"{where}.sha256 is not a lowercase hex sha256", path=path)
        out.append((entry["path"], digest, role if isinstance(role, str) and role else "input"))
    return out


def inputs_root(results: dict[str, Any], results_path: Path, given: Path | None) -> Path:
    """The folder input names are relative to (absolute): ``given`` (``--root``), else the
    run's repository root (``environment.source_root``), else the plan's folder."""
    if given is not None:
        if not given.is_dir():
            raise SignoffError(
                "--root names no folder; give the folder holding the inputs", path=given
            )
        return given.resolve()
    recorded = (results.get("environment") or {}).get("source_root")
    if isinstance(recorded, str) and Path(recorded).is_dir():
        return Path(recorded).resolve()
    plan = Path(str(results["plan"]["path"]))  # check_results made sure it is a string
    return (results_path.parent / plan).resolve().parent


def _inside(path: Path, folder: Path) -> str | None:
    """``path`` relative to ``folder`` (both resolved), ``/``-separated; None when outside."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return None


def collect_subjects(
    results_path: Path, results: dict[str, Any], bundle_dir: Path, root: Path | None = None
) -> list[Subject]:
    """Hash every file the sign-off covers; refuse when an input no longer matches the run.

    A file under the bundle's folder is named relative to it; any other relative to ``root``
    (default :func:`inputs_root`); one under neither cannot be named portably, so it is
    refused."""
    root = inputs_root(results, results_path, root)
    base = results_path.parent
    report = base / HTML_NAME
    if not report.is_file():
        raise SignoffError(
            f"no {HTML_NAME} beside it; render one with `cutover report {results_path}`",
            path=results_path,
        )
    folder = bundle_dir.resolve()
    from_folder = Path(os.path.relpath(root, folder)).as_posix()
    found: dict[Path, Subject] = {}

    def add(path: Path, role: str) -> str:
        resolved = path.resolve()
        digest = file_sha256(resolved)
        if resolved in found:
            return digest
        in_folder, in_root = _inside(resolved, folder), _inside(resolved, root)
        if in_folder is not None:
            found[resolved] = Subject(in_folder, digest, role, FOLDER)
        elif in_root is not None:
            found[resolved] = Subject(in_root, digest, role, ROOT, from_folder)
        else:
            raise SignoffError(
                f"{path} is neither in the report folder {folder} nor under the inputs root "
                f"{root}; pass --root naming a folder that holds every input",
                path=results_path,
            )
        return digest

    add(results_path, "results")
    add(report, "report")
    for raw, recorded, role in declared_inputs(results, results_path):
        path = base / raw  # an absolute ``raw`` replaces ``base`` entirely
        if not path.is_file():
            raise SignoffError(
                f"input {raw} is missing; sign where the run's inputs are", path=results_path
            )
        actual = add(path, role)
        if actual != recorded:
            # Signing would vouch for evidence that was produced from a different file.
            raise SignoffError(
                f"input {raw} changed since the run (recorded sha256 {recorded[:12]}…, "
                f"now {actual[:12]}…); re-run the verification before signing",
                path=results_path,
            )
    return list(found.values())


def waivers_as_of(results: dict[str, Any], moment: datetime) -> list[dict[str, Any]]:
    """The run's expected differences; ``expired`` also true for those past expiry by now."""
    today = moment.astimezone(UTC).date().isoformat()
    out = []
    for entry in results.get("expected_differences") or []:
        waiver = dict(entry)
        expires = waiver.get("expires")
        waiver["expired"] = bool(waiver.get("expired")) or (
            isinstance(expires, str) and expires < today  # ISO dates compare as text
        )
        out.append(waiver)
    return out


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise SignoffError("the signing clock must return an aware datetime (UTC)")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_statement(
    *,
    results: dict[str, Any],
    subjects: list[Subject],
    reviewer: Reviewer,
    decision: str,
    note: str | None,
    signed_at: datetime,
) -> dict[str, Any]:
    """The in-toto Statement v1 a sign-off envelope carries. Its ``root`` is where the
    subjects' inputs root was, seen from the report folder: where ``check-signature`` looks
    by default (a statement without one has every subject in the report folder)."""
    if decision not in DECISIONS:
        raise SignoffError(f'decision "{decision}" is not one of {", ".join(DECISIONS)}')
    roots = {s.root for s in subjects if s.base == ROOT}
    if len(roots) > 1:  # collect_subjects names every input from one root
        raise SignoffError(f"subjects name {len(roots)} different roots; sign with one --root")
    plan = results["plan"]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [s.to_json() for s in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "decision": decision,
            "reviewer": {"name": reviewer.name, "email": reviewer.email},
            "signed_at": _iso(signed_at),
            "note": note,
            "verdict": results["verdict"],
            "verdict_reason": results.get("verdict_reason", ""),
            "summary": results.get("summary", {}),
            "plan": {"name": plan.get("name", ""), "sha256": plan.get("sha256", "")},
            "run": {
                "started_at": results.get("started_at"),
                "finished_at": results.get("finished_at"),
            },
            "waivers": waivers_as_of(results, signed_at),
            "tool": {"name": "cutover", "version": harness_version()},
            **({"root": roots.pop()} if roots else {}),
        },
    }
