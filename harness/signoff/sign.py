"""``cutover sign``: hash the evidence, build the statement, sign it, write the bundle."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.errors import HarnessError
from harness.results.files import BUNDLE_NAME, load_results
from harness.signoff import dsse
from harness.signoff.canonical import canonical_bytes
from harness.signoff.errors import SignoffError
from harness.signoff.statement import (
    FOLDER,
    Reviewer,
    build_statement,
    check_results,
    collect_subjects,
    inputs_root,
)


@dataclass(frozen=True)
class SignedBundle:
    """What :func:`sign_results` wrote: the bundle file and the statement inside it."""

    path: Path
    keyid: str
    statement: dict[str, Any]

    @property
    def predicate(self) -> dict[str, Any]:
        predicate: dict[str, Any] = self.statement["predicate"]
        return predicate


def _utcnow() -> datetime:
    return datetime.now(UTC)


def sign_results(
    results_path: Path,
    *,
    key: Ed25519PrivateKey,
    reviewer: Reviewer,
    decision: str,
    note: str | None = None,
    out: Path | None = None,
    root: Path | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> SignedBundle:
    """Sign off the run in ``results_path``; the bundle goes to ``out`` (default beside it).

    ``root`` is the folder the inputs outside the report folder are named from (default:
    :func:`~harness.signoff.statement.inputs_root`)."""
    try:
        loaded = load_results(results_path)  # refuses a verdict its checks do not support
    except SignoffError:
        raise
    except HarnessError as exc:
        raise SignoffError(str(exc)) from None  # already names the file
    results = check_results(loaded, results_path)
    if decision == "approve" and results["verdict"] == "NO-GO" and not (note or "").strip():
        # Approving against the evidence may be right, but never without a recorded reason.
        raise SignoffError("approving a NO-GO run needs a --note saying why", path=results_path)
    bundle = out if out is not None else results_path.with_name(BUNDLE_NAME)
    inputs = inputs_root(results, results_path, root)
    subjects = collect_subjects(results_path, results, bundle.parent, inputs)
    if any(s.name == bundle.name and s.base == FOLDER for s in subjects):
        raise SignoffError(
            "the bundle would overwrite a file it signs; pick another --out", path=bundle
        )
    statement = build_statement(
        results=results,
        subjects=subjects,
        reviewer=reviewer,
        decision=decision,
        note=note,
        signed_at=clock(),
    )
    envelope = dsse.sign(dsse.INTOTO_PAYLOAD_TYPE, canonical_bytes(statement), key)
    bundle.parent.mkdir(parents=True, exist_ok=True)
    partial = bundle.with_name(bundle.name + ".partial")
    partial.write_text(json.dumps(envelope.to_json(), indent=2) + "\n", encoding="utf-8")
    partial.replace(bundle)  # a reader never sees half a bundle
    return SignedBundle(bundle, envelope.signatures[0].keyid, statement)
