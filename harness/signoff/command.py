"""The sign-off commands: ``cutover keygen``, ``cutover sign``, ``cutover check-signature``.

Exit codes of ``check-signature`` (also in its ``--help``): 0 the signature verifies, every
signed file is unchanged and the reviewer approved a GO or GO WITH WAIVERS run; 1 it does not
verify (wrong key, altered envelope, a changed file, a file missing from the report folder, or
a signed results.json whose verdict does not follow from its checks: evidence edited before it
was signed); 2 usage error (no such bundle or key, not a DSSE envelope); 3 it verifies but the
reviewer rejected the run; 4 it verifies and the reviewer approved a NO-GO run (an override,
the note its reason); 5 the signature and the report folder verify but some inputs outside it
(the plan, linted or scanned files) are not present under the root (``--root DIR`` says where
they are). A rejection and an override are valid, intact sign-offs, so each gets its own code
rather than sharing 1 with a forgery; inputs that are simply not here prove nothing either
way, so they get their own code too, never 0 and never the tampering code; and a CI gate on
exit 0 never passes a NO-GO.
``keygen`` and ``sign`` exit 0 on success and 2 on a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from harness.errors import HarnessError
from harness.results.files import BUNDLE_NAME
from harness.signoff.check import SignoffCheck, check_bundle
from harness.signoff.errors import SignoffError
from harness.signoff.keys import (
    PASSPHRASE_ENV,
    PRIVATE_NAME,
    PUBLIC_NAME,
    load_private_key,
    load_public_key,
    write_keypair,
)
from harness.signoff.sign import sign_results
from harness.signoff.statement import DECISIONS, Reviewer
from harness.usage import user_errors

EXIT_APPROVED, EXIT_NOT_VERIFIED, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3
EXIT_APPROVED_NO_GO = 4
"""Verified, and approved although the verdict is NO-GO: an override, never a pass."""
EXIT_INPUTS_ABSENT = 5
"""The report folder verifies; inputs outside it are not present here, so not checked."""

_ROOT_HELP = (
    "Folder the run's inputs outside the report folder (plan, linted and scanned files) are "
    "named from"
)


def _in_git_work_tree(path: Path) -> Path | None:
    for folder in path.resolve().parents:
        if (folder / ".git").exists():
            return folder
    return None


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Folder for {PRIVATE_NAME} and {PUBLIC_NAME}.",
)
@click.option(
    "--private",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private key file (written 0600).",
)
@click.option(
    "--public",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Public key file (default: the private key's path + .pub).",
)
@click.option("--force", is_flag=True, help="Replace existing key files.")
@user_errors
def keygen(out_dir: Path | None, private: Path | None, public: Path | None, force: bool) -> None:
    """Make an Ed25519 key pair for signing off reports.

    The private key is written 0600, encrypted when CUTOVER_SIGNING_KEY_PASSPHRASE is set.
    Keep it out of version control; share the public key with whoever checks sign-offs.
    """
    if out_dir is not None and (private or public):
        raise HarnessError("give either --out DIR or --private/--public paths, not both")
    if out_dir is not None:
        private, public = out_dir / PRIVATE_NAME, out_dir / PUBLIC_NAME
    elif private is None:
        raise HarnessError("say where the keys go: --out DIR, or --private PATH [--public PATH]")
    if public is None:
        public = private.with_name(private.name + ".pub")
    files = write_keypair(private, public, force=force)
    click.echo(f"private key: {files.private} (mode 0600, keep it secret)")
    click.echo(f"public key:  {files.public}")
    click.echo(f"key id:      {files.keyid}")
    repo = _in_git_work_tree(files.private)
    if repo is not None:
        click.echo(
            f"cutover: warning: the private key is inside the git work tree {repo}; "
            "never commit it",
            err=True,
        )


@click.command()
@click.argument("results", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Ed25519 private key (from `cutover keygen`); passphrase from {PASSPHRASE_ENV}.",
)
@click.option("--reviewer", required=True, help='Who signs, as "Name <email>".')
@click.option("--decision", required=True, type=click.Choice(DECISIONS))
@click.option("--note", default=None, help="Why; required to approve a NO-GO run.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Bundle to write (default: {BUNDLE_NAME} beside RESULTS).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"{_ROOT_HELP} (default: the run's repository root, else the plan's folder).",
)
@user_errors
def sign(
    results: Path,
    key_path: Path,
    reviewer: str,
    decision: str,
    note: str | None,
    out: Path | None,
    root: Path | None,
) -> None:
    """Sign off a run: a DSSE envelope over an in-toto statement of its files and verdict.

    The statement names results.json, the report.html beside it and every input of the run
    (the plan, and any linted or scanned files) by sha256: files in the report folder by
    their path from it, the inputs by their path from --root, so the evidence verifies
    wherever it is copied.
    """
    from harness.report.folder import write_signoff_page

    who = Reviewer.parse(reviewer)  # a typo in the reviewer fails before the key is read
    private = load_private_key(key_path)
    signed = sign_results(
        results,
        key=private,
        reviewer=who,
        decision=decision,
        note=note,
        out=out,
        root=root,
    )
    predicate = signed.predicate
    click.echo(f"signed: {signed.path}")
    click.echo(f"decision: {decision} by {who}, verdict {predicate['verdict']}")
    click.echo(f"subjects: {len(signed.statement['subject'])} file(s); key id {signed.keyid}")
    if decision == "approve" and predicate["verdict"] == "NO-GO":
        click.echo(
            f"override: approved over a NO-GO verdict; reason: {note}; "
            f"check-signature exits {EXIT_APPROVED_NO_GO} for it, not 0"
        )
    _echo_expired(predicate)
    if out is None:  # the page reads the bundle beside results.json, where it was written
        page = write_signoff_page(results, key=private.public_key())
        click.echo(f"signed report: {page}")


def _echo_expired(predicate: dict[str, Any]) -> None:
    expired = [w for w in predicate.get("waivers", []) if w.get("expired")]
    for waiver in expired:
        where = ".".join(p for p in (waiver.get("table"), waiver.get("column")) if p)
        click.echo(
            f"expired waiver: {where} (expired {waiver.get('expires')}, "
            f"reviewer {waiver.get('reviewer')}): {waiver.get('reason')}"
        )


@click.command(
    name="check-signature",
    epilog="Exit codes: 0 verified and approved (GO or GO WITH WAIVERS), 1 does not verify "
    "(a changed file, a file missing from the report folder, another key, or a signed "
    "results.json whose verdict does not follow from its checks), 2 usage error, 3 verified "
    "but rejected, 4 verified and approved over a NO-GO verdict (an override; the note says "
    "why), 5 the signature and the report folder verify but inputs outside it are not present "
    "here (pass --root where they are; nothing was found changed).",
)
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The reviewer's Ed25519 public key (PEM).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"{_ROOT_HELP} (default: where that folder was, relative to the report folder, "
    "when it was signed).",
)
@user_errors
def check_signature(bundle: Path, public_key: Path, root: Path | None) -> None:
    """Verify a sign-off bundle and re-hash every file it names.

    Files in the report folder are looked for beside BUNDLE, wherever it was copied; the
    run's inputs under --root.
    """
    if root is not None and not root.is_dir():
        raise SignoffError("--root names no folder; give the folder holding the inputs", path=root)
    outcome = check_bundle(bundle, load_public_key(public_key), root=root)
    if outcome.inputs_absent:
        for problem in outcome.problems():
            click.echo(f"cutover: not verified: {problem}", err=True)
        here = sum(s.state == "unchanged" for s in outcome.subjects)
        click.echo(
            f"cutover: the signature and {here} signed file(s) verify, nothing changed; the "
            f"inputs above are not under {outcome.root}: pass --root DIR where they are",
            err=True,
        )
        sys.exit(EXIT_INPUTS_ABSENT)
    if not outcome.verified:
        for problem in outcome.problems():
            click.echo(f"cutover: verification failed: {problem}", err=True)
        sys.exit(EXIT_NOT_VERIFIED)
    _echo_verified(outcome)
    if outcome.decision != "approve":
        sys.exit(EXIT_REJECTED)
    sys.exit(EXIT_APPROVED_NO_GO if outcome.override else EXIT_APPROVED)


def _echo_verified(outcome: SignoffCheck) -> None:
    predicate = outcome.predicate or {}
    reviewer = predicate.get("reviewer") or {}
    click.echo(
        f"verified: signature by key {outcome.key}; "
        f"{len(outcome.subjects)} signed file(s) unchanged"
    )
    decision = "APPROVED" if outcome.decision == "approve" else "REJECTED"
    click.echo(
        f"decision: {decision} by {reviewer.get('name')} <{reviewer.get('email')}> "
        f"at {predicate.get('signed_at')}"
    )
    click.echo(f"verdict: {predicate.get('verdict')}: {predicate.get('verdict_reason')}")
    if outcome.override:
        click.echo(f"override: approved over a NO-GO verdict; reason: {predicate.get('note')}")
    elif predicate.get("note"):
        click.echo(f"note: {predicate['note']}")
    _echo_expired(predicate)
