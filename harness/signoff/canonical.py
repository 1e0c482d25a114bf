"""Canonical JSON (RFC 8785, JCS): the exact bytes that get hashed and signed.

Two serialisations of the same document must sign identically, whoever wrote them, so the
statement is canonicalised before signing. Trail of Bits' ``rfc8785`` does the hard part
(ECMAScript number formatting, UTF-16 key order); this module only narrows its errors.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from harness.signoff.errors import SignoffError


def canonical_bytes(obj: Any) -> bytes:
    """``obj`` (builtin JSON types only) as RFC 8785 canonical UTF-8 bytes."""
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:
        # NaN, infinities, integers beyond 2**53 and non-JSON types have no canonical form.
        raise SignoffError(f"cannot canonicalise this document as RFC 8785 JSON: {exc}") from None
