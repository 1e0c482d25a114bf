"""The one error the sign-off raises: it was asked for something it cannot do.

A bundle that *verifies as changed* is not an error but an outcome
(:class:`harness.signoff.check.SignoffCheck`); this error means the command could not even
start: a missing file, a key that is not an Ed25519 key, a bundle that is not a DSSE envelope.
The CLI shows it as one line and exits 2.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError


class SignoffError(HarnessError):
    """Keys, results or a bundle could not be used as given; ``.path`` names the file."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = None if path is None else str(path)
        super().__init__(f"{path}: {message}" if path is not None else message)
