"""Errors the harness raises when it cannot do what it was asked.

Outcomes of checks are values (:mod:`harness.results.check`), never exceptions; these
exceptions mean the harness itself could not run: a bad plan, an unreachable database, a
table the plan names but nobody has. Every one is meant to be shown to a user as one line,
so messages say what was attempted, what was found and how to fix it.

    HarnessError
     ├── PlanError          the plan file is missing, malformed or names unknown things
     ├── EndpointError      a database could not be reached, opened or authenticated
     │    └── EngineUnavailable  no Docker engine answers, so container endpoints cannot run
     │                           (in harness.embedded.servers)
     ├── ProvisionError     an embedded or container database could not be created or loaded
     ├── CheckError         a check could not be computed (becomes an ``error`` result)
     ├── DynamoError        a DynamoDB table could not be read or a snapshot file used
     │                      (in harness.dynamo.snapshot)
     ├── ProxyError         the fault proxy was used wrongly or could not start
     │                      (in harness.faults.proxy)
     ├── LintSourceError    a path given to the linter does not exist or cannot be read
     │                      (in harness.lint.sources)
     ├── ScanPathError      a path given to the residue scan does not exist or cannot be read
     │                      (in harness.residue.scan)
     └── SignoffError       keys, results or a sign-off bundle cannot be used as given
                            (in harness.signoff.errors)

Every subclass defined under harness/ is drawn here; tests/test_errors_tree.py checks it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# The exit codes of every cutover command (also in ``cutover --help``).
EXIT_GO, EXIT_NO_GO, EXIT_USAGE = 0, 1, 2


class HarnessError(Exception):
    """Base of every error the harness raises on purpose; ``str()`` is the user-facing line."""


class PlanError(HarnessError):
    """The plan file cannot be used as written."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        self.message = message
        self.path = path
        self.key = key
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {message}" if where else message)

    def in_file(self, path: object) -> PlanError:
        """The same error, naming the plan file (for checks that only see the parsed plan)."""
        return PlanError(self.message, path=self.path or str(path), key=self.key)


class EndpointError(HarnessError):
    """A source or target database could not be reached or opened."""

    def __init__(self, message: str, *, endpoint: str, sqlstate: str | None = None) -> None:
        self.endpoint = endpoint
        self.sqlstate = sqlstate
        super().__init__(f"{endpoint}: {message}")


class ProvisionError(HarnessError):
    """A database the harness creates itself (embedded, container) could not be made ready."""


class CheckError(HarnessError):
    """A check could not be computed; the scenario records it as an ``error`` result."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean "x"?' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""
