"""``cutover check-signature``: verify the envelope, then re-hash every file it names.

The order matters: nothing in the statement (least of all its file names) is trusted until
the signature over its PAE verifies with the reviewer's public key. The outcome is a value,
:class:`SignoffCheck`; only a bundle that cannot be read at all raises.

An intact signature over an unchanged results.json is not yet enough: the signed results.json
is read back with :func:`~harness.results.files.load_results`, so one whose verdict does not
follow from its checks (edited before it was signed, by a signer that did not check it) does
not verify, and neither does a statement whose verdict differs from the results.json it signs.

Files in the report folder are looked for beside the bundle; inputs outside it under a root
(``--root``, default where the root was relative to the report folder when it was signed). A
report-folder file that is gone is ``missing``, evidence removed; an input that is not there
is ``absent``, a different outcome: the folder was copied without the inputs, which proves
nothing either way, so it never verifies but is never called tampering.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from harness.errors import HarnessError
from harness.results.files import load_results
from harness.signoff import dsse
from harness.signoff.errors import SignoffError
from harness.signoff.keys import keyid
from harness.signoff.statement import (
    FOLDER,
    PREDICATE_TYPE,
    ROOT,
    STATEMENT_TYPE,
    file_sha256,
)


@dataclass(frozen=True)
class SubjectState:
    """One signed file as found now: ``unchanged``, ``changed``, ``missing`` (from the report
    folder) or ``absent`` (an input outside it, not present under the root)."""

    name: str
    role: str
    signed: str
    found: str | None
    base: str = FOLDER
    """``folder`` (the name is relative to the report folder) or ``root`` (to the root)."""
    path: Path | None = None
    """Where it was looked for."""

    @property
    def state(self) -> str:
        if self.found is None:
            return "absent" if self.base == ROOT else "missing"
        return "unchanged" if self.found == self.signed else "changed"

    def problem(self) -> str | None:
        if self.state == "missing":
            return f"{self.name} is missing (signed sha256 {self.signed[:12]}…)"
        if self.state == "absent":
            return (
                f"{self.name} is not present here (an input outside the report folder, looked "
                f"for at {self.path}; signed sha256 {self.signed[:12]}…)"
            )
        if self.state == "changed":
            return (
                f"{self.name} changed since it was signed "
                f"(sha256 now {(self.found or '')[:12]}…, signed {self.signed[:12]}…)"
            )
        return None


@dataclass(frozen=True)
class SignoffCheck:
    """The outcome of checking a bundle against a public key."""

    signature_ok: bool
    key: str
    """Key id of the public key the bundle was checked with."""
    signed_by: tuple[str, ...]
    """Key ids the envelope claims (hints: only ``signature_ok`` is proof)."""
    subjects: tuple[SubjectState, ...] = ()
    predicate: dict[str, Any] | None = None
    evidence: tuple[str, ...] = ()
    """What the signed results.json contradicts: its own checks, or the statement's verdict."""
    root: Path | None = None
    """Where the inputs outside the report folder were looked for."""

    @property
    def verified(self) -> bool:
        """The signature is good, every signed file is byte-for-byte as signed and the signed
        results.json's verdict follows from its checks."""
        return (
            self.signature_ok
            and all(s.state == "unchanged" for s in self.subjects)
            and not self.evidence
        )

    @property
    def inputs_absent(self) -> bool:
        """Nothing changed, nothing contradicts the verdict, but some inputs are not here:
        the report folder verifies, and the rest could not be checked (exit 5, not 1)."""
        states = {s.state for s in self.subjects}
        return (
            self.signature_ok
            and not self.evidence
            and "absent" in states
            and states <= {"unchanged", "absent"}
        )

    @property
    def decision(self) -> str | None:
        return None if self.predicate is None else str(self.predicate.get("decision"))

    @property
    def verdict(self) -> str | None:
        return None if self.predicate is None else str(self.predicate.get("verdict"))

    @property
    def override(self) -> bool:
        """The reviewer approved a NO-GO run (the statement's note is the reason)."""
        return self.decision == "approve" and self.verdict == "NO-GO"

    def problems(self) -> list[str]:
        """One line per reason the bundle does not verify; empty when it does."""
        if not self.signature_ok:
            if self.key in self.signed_by:
                why = "the key id matches, so the envelope was altered after signing"
            else:
                claimed = ", ".join(k[:16] + "…" for k in self.signed_by) or "no key id"
                why = f"bundle names key {claimed}; this key is {self.key[:16]}…"
            return [f"the signature does not match this key ({why})"]
        changed = [p for p in (s.problem() for s in self.subjects) if p is not None]
        return [*changed, *self.evidence]


def _statement(envelope: dsse.Envelope, bundle: Path) -> dict[str, Any]:
    if envelope.payload_type != dsse.INTOTO_PAYLOAD_TYPE:
        raise SignoffError(
            f"signed, but the payload is {envelope.payload_type}, not an in-toto statement",
            path=bundle,
        )
    try:
        statement = json.loads(envelope.payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SignoffError("signed, but the payload is not JSON", path=bundle) from None
    if (
        not isinstance(statement, dict)
        or statement.get("_type") != STATEMENT_TYPE
        or statement.get("predicateType") != PREDICATE_TYPE
        or not isinstance(statement.get("predicate"), dict)
    ):
        raise SignoffError(
            f"signed, but not a cutover sign-off (want {STATEMENT_TYPE} with "
            f"predicate {PREDICATE_TYPE})",
            path=bundle,
        )
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not all(
        isinstance(s, dict)
        and isinstance(s.get("name"), str)
        and isinstance(s.get("digest"), dict)
        and isinstance(s["digest"].get("sha256"), str)
        for s in subjects
    ):
        raise SignoffError("signed, but its subjects have no name or sha256 digest", path=bundle)
    return statement


def _found(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _root(predicate: dict[str, Any], folder: Path) -> Path:
    """Where the signer's inputs root was, seen from the report folder (signed, so trusted
    once the signature verifies); the folder itself for a bundle that records none."""
    recorded = predicate.get("root")
    return folder / recorded if isinstance(recorded, str) else folder


def check_bundle(
    bundle: Path, public_key: Ed25519PublicKey, *, root: Path | None = None
) -> SignoffCheck:
    """Verify ``bundle`` with ``public_key``, then re-hash each subject: report-folder files
    beside the bundle, inputs under ``root`` (default: where the statement says it was)."""
    envelope = dsse.read_envelope(bundle)
    given = keyid(public_key)
    claimed = tuple(s.keyid for s in envelope.signatures)
    if not dsse.signed_by(envelope, public_key):
        return SignoffCheck(signature_ok=False, key=given, signed_by=claimed)
    statement = _statement(envelope, bundle)
    inputs = root if root is not None else _root(statement["predicate"], bundle.parent)
    states = []
    for subject in statement["subject"]:
        annotations = subject.get("annotations")
        if not isinstance(annotations, dict):
            annotations = {}
        base = ROOT if annotations.get("base") == ROOT else FOLDER
        path = (inputs if base == ROOT else bundle.parent) / subject["name"]
        states.append(
            SubjectState(
                subject["name"],
                str(annotations.get("role", "input")),
                subject["digest"]["sha256"],
                _found(path),
                base,
                path,
            )
        )
    return SignoffCheck(
        signature_ok=True,
        key=given,
        signed_by=claimed,
        subjects=tuple(states),
        predicate=statement["predicate"],
        evidence=_evidence_problems(statement["predicate"], states),
        root=inputs,
    )


def _evidence_problems(predicate: dict[str, Any], states: list[SubjectState]) -> tuple[str, ...]:
    """Why the signed results.json cannot back the signed verdict; empty when it can.

    A changed, missing or absent results.json is already named by its subject, so only an
    unchanged one is read back."""
    signed = [s for s in states if s.role == "results"]
    if not signed:
        return ("the sign-off signs no results.json (no subject with role results)",)
    if signed[0].state != "unchanged" or signed[0].path is None:
        return ()
    try:
        results = load_results(signed[0].path)
    except HarnessError as exc:
        return (str(exc),)
    if predicate.get("verdict") != results["verdict"]:
        return (
            f"the sign-off says verdict {predicate.get('verdict')} but {signed[0].name} says "
            f"{results['verdict']}",
        )
    return ()
