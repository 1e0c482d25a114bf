"""Ed25519 signing keys: make a pair, read them back, name a public key by its key id.

The private key is written PKCS#8 PEM with mode 0600 from the moment the file exists (never
chmod'ed afterwards, so there is no window in which another user can read it), encrypted when
``CUTOVER_SIGNING_KEY_PASSPHRASE`` is set. Nothing here prints or returns key material in a
message: errors name the file and what is wrong with it, never its contents.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.signoff.errors import SignoffError

PASSPHRASE_ENV = "CUTOVER_SIGNING_KEY_PASSPHRASE"
PRIVATE_NAME = "cutover-signoff.key"
PUBLIC_NAME = "cutover-signoff.pub"


@dataclass(frozen=True)
class KeyFiles:
    """Where :func:`write_keypair` put the two halves, and the pair's key id."""

    private: Path
    public: Path
    keyid: str


def keyid(public_key: Ed25519PublicKey) -> str:
    """Hex sha256 of the 32 raw public-key bytes: the DSSE ``keyid`` of this key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _passphrase(environ: Mapping[str, str] | None) -> bytes | None:
    # Read when called, never at import time, so tests and long-lived processes see changes.
    value = (os.environ if environ is None else environ).get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def write_keypair(
    private: Path,
    public: Path,
    *,
    force: bool = False,
    environ: Mapping[str, str] | None = None,
) -> KeyFiles:
    """Generate an Ed25519 pair; write the private key 0600 and the public key 0644."""
    if private.resolve() == public.resolve():
        raise SignoffError("the private and the public key need two different files", path=private)
    for path in (private, public):
        if path.exists() and not force:
            raise SignoffError("already exists; use --force to replace it", path=path)
    key = Ed25519PrivateKey.generate()
    secret = _passphrase(environ)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    _write_new(private, pem, mode=0o600)
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(public, pub, mode=0o644)
    return KeyFiles(private, public, keyid(key.public_key()))


def _write_new(path: Path, data: bytes, *, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unlink first so O_EXCL creates a fresh inode with ``mode``; a replaced file never
    # inherits the looser permissions of the one it replaces.
    path.unlink(missing_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise SignoffError(f"cannot create the key file ({exc.strerror})", path=path) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SignoffError(f"no such {what} file", path=path) from None
    except OSError as exc:
        raise SignoffError(f"cannot read the {what} ({exc.strerror})", path=path) from None


def load_private_key(path: Path, *, environ: Mapping[str, str] | None = None) -> Ed25519PrivateKey:
    """Read a PEM Ed25519 private key, decrypting it with the passphrase variable if set."""
    data = _read(path, "private key")
    secret = _passphrase(environ)
    try:
        key = serialization.load_pem_private_key(data, password=secret)
    except TypeError:
        # cryptography says TypeError when a passphrase is missing or given needlessly.
        if secret is None:
            raise SignoffError(
                f"the private key is passphrase-protected; set {PASSPHRASE_ENV}", path=path
            ) from None
        raise SignoffError(
            f"the private key is not encrypted; unset {PASSPHRASE_ENV}", path=path
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        # Deliberately not the library's message: it can quote parts of the input.
        hint = f" or {PASSPHRASE_ENV} is wrong" if secret else ""
        raise SignoffError(
            f"not a PEM private key (make one with `cutover keygen`){hint}", path=path
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignoffError(
            f"is a {type(key).__name__.removeprefix('_')}; sign-offs need an Ed25519 key "
            "(make one with `cutover keygen`)",
            path=path,
        )
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key (SubjectPublicKeyInfo), as ``cutover keygen`` writes it."""
    data = _read(path, "public key")
    if b"PRIVATE KEY" in data:
        # Someone passed the secret half; say so without echoing any of it.
        raise SignoffError(
            "is a private key; pass the public key (the .pub file) to check a signature",
            path=path,
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise SignoffError("not a PEM public key", path=path) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignoffError("is not an Ed25519 public key", path=path)
    return key
