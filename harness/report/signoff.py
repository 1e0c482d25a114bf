"""The sign-off block of the report: who signed, what they decided, and whether it verifies.

report.html is itself one of the files a sign-off signs, so it can never show its own
signature: it always renders the ``unsigned`` block. Once a bundle sits beside results.json,
``cutover sign`` (and ``cutover report``) write **signoff.html** — the same page with this
block filled in from the bundle. The status is only ``verified`` when the signature was
checked with a public key and every signed file still matches; a bundle read without a key
says so rather than implying a proof it does not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from harness.results.files import BUNDLE_NAME
from harness.signoff import dsse
from harness.signoff.check import check_bundle
from harness.signoff.errors import SignoffError

SIGNOFF_PAGE = "signoff.html"

State = Literal["unsigned", "verified", "not-verified", "unchecked", "unreadable"]


@dataclass(frozen=True)
class SignOff:
    """The sign-off block: the state decides its colour, words and which fields show."""

    state: State = "unsigned"
    headline: str = "Unsigned"
    detail: str = (
        f"No reviewer has signed this report yet. Signing writes {BUNDLE_NAME}, which covers "
        "this page, results.json and every input by sha256, and signoff.html, this page with "
        "the sign-off filled in:"
    )
    command: str | None = (
        'cutover sign results.json --key KEY --reviewer "Name <email>" '
        '--decision approve|reject [--note "why"]'
    )
    """A command to run next, shown as code (signing, or checking a signature)."""
    reviewer: str | None = None
    reviewer_name: str | None = None
    """The name alone, for the banner's chip."""
    decision: str | None = None
    signed_at: str | None = None
    note: str | None = None
    key: str | None = None
    subjects: tuple[tuple[str, str], ...] = ()
    """(file, state) for each signed file, when checked."""
    problems: tuple[str, ...] = ()
    expired_waivers: tuple[str, ...] = ()
    """Waivers that had expired when the reviewer signed (the predicate flags them)."""


UNSIGNED = SignOff()


def signoff_for(bundle: Path, public_key: Ed25519PublicKey | None) -> SignOff:
    """The block for ``bundle``: verified against ``public_key`` when one is given."""
    try:
        envelope = dsse.read_envelope(bundle)
        statement = json.loads(envelope.payload)
        predicate = statement["predicate"]
        if not isinstance(predicate, dict):
            raise TypeError
    except (SignoffError, ValueError, KeyError, TypeError):
        return SignOff(
            state="unreadable",
            headline="Sign-off unreadable",
            detail=f"{bundle.name} is not a cutover sign-off bundle; nothing here is signed.",
            command=None,
        )
    fields = _fields(predicate)
    if public_key is None:
        return SignOff(
            state="unchecked",
            headline="Signed — signature not checked",
            detail=(
                f"{bundle.name} claims the sign-off below, but no public key was given, so "
                "nothing proves it yet. Check it with the reviewer's public key:"
            ),
            command=f"cutover check-signature {bundle.name} --public-key REVIEWER.pub",
            **fields,
        )
    outcome = check_bundle(bundle, public_key)
    subjects = tuple((s.name, s.state) for s in outcome.subjects)
    if outcome.verified:
        return SignOff(
            state="verified",
            headline="Signed and verified",
            detail=(
                f"The signature in {bundle.name} verifies with key {outcome.key[:16]}…, and "
                f"all {len(subjects)} signed files are unchanged."
            ),
            command=None,
            key=outcome.key,
            subjects=subjects,
            **fields,
        )
    return SignOff(
        state="not-verified",
        headline="NOT VERIFIED",
        detail=f"{bundle.name} does not verify with key {outcome.key[:16]}…; do not rely on it.",
        command=None,
        key=outcome.key,
        subjects=subjects,
        problems=tuple(outcome.problems()),
        **fields,
    )


def _fields(predicate: dict[str, Any]) -> dict[str, Any]:
    raw = predicate.get("reviewer")
    reviewer: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name, email = reviewer.get("name"), reviewer.get("email")
    who = f"{name} <{email}>" if name and email else (name or email)
    decision = predicate.get("decision")
    return {
        "reviewer": _text(who),
        "reviewer_name": _text(name or email),
        "decision": {"approve": "Approved", "reject": "Rejected"}.get(str(decision)),
        "signed_at": _text(predicate.get("signed_at")),
        "note": _text(predicate.get("note")),
        "expired_waivers": tuple(
            _waiver_line(w)
            for w in predicate.get("waivers") or []
            if isinstance(w, dict) and w.get("expired")
        ),
    }


def _waiver_line(waiver: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in (waiver.get("table"), waiver.get("column")) if p)
    return (
        f"{where or 'any object'}: {waiver.get('reason')} "
        f"(reviewer {waiver.get('reviewer')}, expired {waiver.get('expires')})"
    )


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
