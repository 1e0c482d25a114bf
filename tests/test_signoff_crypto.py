"""Specification of the sign-off's building blocks: JCS bytes, DSSE's PAE, Ed25519 key files."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.signoff import SignoffError, canonical_bytes, load_private_key, load_public_key
from harness.signoff.dsse import Envelope, Signature, pae, read_envelope, sign, signed_by
from harness.signoff.keys import PASSPHRASE_ENV, keyid, write_keypair


class TestCanonicalJson:
    def test_keys_sort_by_utf16_code_units_as_rfc8785_section_3_2_3_shows(self) -> None:
        # RFC 8785's own sorting example: "\U0001f600" (a surrogate pair, 0xD83D…) sorts
        # before "\ufb33" although its code point is larger.
        obj = {"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\U0001f600": 5, "\x80": 6, "\xf6": 7}
        order = [k for k in json.loads(canonical_bytes(obj))]
        assert order == ["\r", "1", "\x80", "\xf6", "\u20ac", "\U0001f600", "\ufb33"]

    @pytest.mark.parametrize(
        ("number", "text"),
        [(1e21, b"1e+21"), (333333333.33333329, b"333333333.3333333"), (-0.0, b"0"), (1.0, b"1")],
    )
    def test_numbers_are_written_the_ecmascript_way(self, number: float, text: bytes) -> None:
        assert canonical_bytes([number]) == b"[" + text + b"]"

    def test_no_whitespace_and_utf8_unescaped(self) -> None:
        assert canonical_bytes({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"é"]}'.encode()

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), 2**60, {1, 2}])
    def test_values_without_a_canonical_form_are_a_signoff_error(self, value: object) -> None:
        with pytest.raises(SignoffError, match="cannot canonicalise"):
            canonical_bytes({"x": value})


class TestDsse:
    def test_pae_matches_the_dsse_spec_example(self) -> None:
        expected = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        assert pae("http://example.com/HelloWorld", b"hello world") == expected

    def test_pae_counts_bytes_not_characters(self) -> None:
        assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"

    def test_a_signature_verifies_only_over_the_same_type_and_payload(self) -> None:
        key = Ed25519PrivateKey.generate()
        envelope = sign("application/vnd.in-toto+json", b"{}", key)
        assert signed_by(envelope, key.public_key())
        retyped = Envelope("application/json", envelope.payload, envelope.signatures)
        assert not signed_by(retyped, key.public_key())
        assert not signed_by(envelope, Ed25519PrivateKey.generate().public_key())

    def test_every_signature_is_tried_whatever_its_keyid_says(self) -> None:
        key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        good = sign("t", b"x", key).signatures[0]
        decoy = sign("t", b"x", other).signatures[0]
        liar = Signature(keyid(key.public_key()), decoy.sig)  # right keyid, wrong signature
        assert not signed_by(Envelope("t", b"x", (liar,)), key.public_key())
        unnamed = Signature("", good.sig)
        assert signed_by(Envelope("t", b"x", (liar, unnamed)), key.public_key())

    def test_an_envelope_round_trips_through_its_json_with_url_safe_base64_accepted(
        self, tmp_path: Path
    ) -> None:
        envelope = sign("t", bytes(range(256)), Ed25519PrivateKey.generate())
        data = envelope.to_json()
        data["payload"] = base64.urlsafe_b64encode(envelope.payload).decode().rstrip("=")
        (tmp_path / "e.json").write_text(json.dumps(data), encoding="utf-8")
        assert read_envelope(tmp_path / "e.json") == envelope


class TestKeys:
    def test_the_keyid_is_the_sha256_of_the_raw_public_key(self, tmp_path: Path) -> None:
        files = write_keypair(tmp_path / "k", tmp_path / "k.pub")
        raw = load_public_key(files.public).public_bytes_raw()
        assert files.keyid == hashlib.sha256(raw).hexdigest()
        assert keyid(load_private_key(files.private).public_key()) == files.keyid

    def test_the_private_key_is_0600_even_when_replacing_a_looser_file(
        self, tmp_path: Path
    ) -> None:
        private = tmp_path / "k"
        private.write_text("old")
        private.chmod(0o644)
        write_keypair(private, tmp_path / "k.pub", force=True)
        assert private.stat().st_mode & 0o777 == 0o600
        assert b"BEGIN PRIVATE KEY" in private.read_bytes()

    def test_one_file_for_both_halves_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(SignoffError, match="two different files"):
            write_keypair(tmp_path / "k", tmp_path / "k")

    def test_a_passphrase_encrypts_and_a_wrong_one_is_named_not_echoed(
        self, tmp_path: Path
    ) -> None:
        env = {PASSPHRASE_ENV: "s3cret-words"}
        files = write_keypair(tmp_path / "k", tmp_path / "k.pub", environ=env)
        assert b"ENCRYPTED" in files.private.read_bytes()
        assert keyid(load_private_key(files.private, environ=env).public_key()) == files.keyid
        with pytest.raises(SignoffError, match=f"or {PASSPHRASE_ENV} is wrong") as caught:
            load_private_key(files.private, environ={PASSPHRASE_ENV: "hunter2-xyz"})
        assert "hunter2" not in str(caught.value)

    def test_a_passphrase_for_a_plain_key_is_named(self, tmp_path: Path) -> None:
        files = write_keypair(tmp_path / "k", tmp_path / "k.pub", environ={})
        with pytest.raises(SignoffError, match=f"not encrypted; unset {PASSPHRASE_ENV}"):
            load_private_key(files.private, environ={PASSPHRASE_ENV: "x"})

    def test_a_key_of_another_algorithm_is_refused(self, tmp_path: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (tmp_path / "ec.key").write_bytes(pem)
        with pytest.raises(SignoffError, match="sign-offs need an Ed25519 key"):
            load_private_key(tmp_path / "ec.key", environ={})
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (tmp_path / "ec.pub").write_bytes(public)
        with pytest.raises(SignoffError, match="not an Ed25519 public key"):
            load_public_key(tmp_path / "ec.pub")

    @pytest.mark.parametrize("loader", [load_public_key, load_private_key])
    def test_garbage_is_not_a_key(self, tmp_path: Path, loader: Callable[[Path], object]) -> None:
        (tmp_path / "junk").write_text("-----BEGIN NOTHING-----\n")
        with pytest.raises(SignoffError, match="not a PEM"):
            loader(tmp_path / "junk")
