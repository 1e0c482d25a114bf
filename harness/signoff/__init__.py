"""Sign-off: a reviewer's signed decision over a run's evidence, verifiable offline.

``cutover sign`` writes a DSSE envelope (:mod:`~harness.signoff.dsse`) whose payload is an
in-toto Statement v1 (:mod:`~harness.signoff.statement`): every file the decision rests on —
results.json, report.html, the plan and other inputs — by sha256, and a predicate with the
verdict, the decision, the reviewer, the time and the waivers. The payload is RFC 8785
canonical JSON (:mod:`~harness.signoff.canonical`) signed with Ed25519
(:mod:`~harness.signoff.keys`). ``cutover check-signature`` (:mod:`~harness.signoff.check`)
verifies the signature first and then re-hashes every file, naming any that changed, and
reads the signed results.json back (its verdict must follow from its checks). It exits 0 only
for an approved GO or GO WITH WAIVERS; an approved NO-GO is an override and exits 4.

    keys.py       make / load Ed25519 keys; key id = sha256 of the raw public key
    canonical.py  RFC 8785 bytes
    dsse.py       PAE, envelope read / sign / verify
    statement.py  subjects and predicate
    sign.py       results.json → bundle
    check.py      bundle + public key → SignoffCheck
    command.py    the click commands
"""

from harness.signoff.canonical import canonical_bytes
from harness.signoff.check import SignoffCheck, SubjectState, check_bundle
from harness.signoff.errors import SignoffError
from harness.signoff.keys import KeyFiles, load_private_key, load_public_key, write_keypair
from harness.signoff.sign import SignedBundle, sign_results
from harness.signoff.statement import PREDICATE_TYPE, Reviewer

__all__ = [
    "PREDICATE_TYPE",
    "KeyFiles",
    "Reviewer",
    "SignedBundle",
    "SignoffCheck",
    "SignoffError",
    "SubjectState",
    "canonical_bytes",
    "check_bundle",
    "load_private_key",
    "load_public_key",
    "sign_results",
    "write_keypair",
]
