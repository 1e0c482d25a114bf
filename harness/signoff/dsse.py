"""DSSE envelopes (Dead Simple Signing Envelope, v1): sign bytes, read an envelope, verify it.

The signature covers the pre-authentication encoding (PAE) of the payload *and* its type, so
a payload cannot be replayed under another type (the cosign type-confusion bug,
CVE-2022-35929). Spec: github.com/secure-systems-lab/dsse, ``envelope.md`` and
``protocol.md``; lengths are byte counts in ASCII decimal.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.signoff.errors import SignoffError
from harness.signoff.keys import keyid

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """``DSSEv1 SP LEN(type) SP type SP LEN(body) SP body``, exactly as the spec defines it."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    """One DSSE signature: which key (a hint, not trusted) and the raw signature bytes."""

    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A parsed DSSE envelope; ``payload`` is decoded bytes, not base64."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> dict[str, Any]:
        """The envelope as the DSSE JSON shape (base64 standard encoding, with padding)."""
        return {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                for s in self.signatures
            ],
        }


def sign(payload_type: str, payload: bytes, key: Ed25519PrivateKey) -> Envelope:
    """An envelope over ``payload`` with one Ed25519 signature of its PAE."""
    signature = Signature(keyid(key.public_key()), key.sign(pae(payload_type, payload)))
    return Envelope(payload_type, payload, (signature,))


def signed_by(envelope: Envelope, key: Ed25519PublicKey) -> bool:
    """True when any signature in ``envelope`` verifies with ``key`` over the PAE.

    The keyid is only a hint (DSSE says so): every signature is tried, so a missing or wrong
    keyid cannot make a good signature fail, and a right one cannot make a bad one pass.
    """
    message = pae(envelope.payload_type, envelope.payload)
    for signature in envelope.signatures:
        try:
            key.verify(signature.sig, message)
        except InvalidSignature:
            continue
        return True
    return False


def _b64(value: Any, where: str, path: Path) -> bytes:
    if not isinstance(value, str):
        raise SignoffError(f"not a DSSE envelope: {where} is not a base64 string", path=path)
    try:
        # The spec allows URL-safe base64 too; normalise to the standard alphabet first.
        text = value.replace("-", "+").replace("_", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SignoffError(f"not a DSSE envelope: {where} is not valid base64", path=path) from None


def read_envelope(path: Path) -> Envelope:
    """Parse a DSSE envelope file; anything malformed is a :class:`SignoffError`."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise SignoffError("no such sign-off bundle", path=path) from None
    except IsADirectoryError:
        raise SignoffError("is a folder; pass the bundle file (*.dsse.json)", path=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SignoffError(f"not a DSSE envelope: not JSON ({exc})", path=path) from None
    if not isinstance(data, dict):
        raise SignoffError("not a DSSE envelope: not a JSON object", path=path)
    missing = [k for k in ("payloadType", "payload", "signatures") if k not in data]
    if missing:
        raise SignoffError(f"not a DSSE envelope: no {', '.join(missing)}", path=path)
    if not isinstance(data["payloadType"], str):
        raise SignoffError("not a DSSE envelope: payloadType is not a string", path=path)
    raw_signatures = data["signatures"]
    if not isinstance(raw_signatures, list) or not raw_signatures:
        raise SignoffError("not a DSSE envelope: no signatures", path=path)
    signatures = []
    for index, entry in enumerate(raw_signatures):
        if not isinstance(entry, dict) or "sig" not in entry:
            raise SignoffError(f"not a DSSE envelope: signatures[{index}] has no sig", path=path)
        hint = entry.get("keyid", "")
        signatures.append(
            Signature(
                hint if isinstance(hint, str) else "",
                _b64(entry["sig"], f"signatures[{index}].sig", path),
            )
        )
    return Envelope(data["payloadType"], _b64(data["payload"], "payload", path), tuple(signatures))
