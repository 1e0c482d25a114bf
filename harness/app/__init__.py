"""The application itself as evidence: its own test suite run against each side
(:mod:`.suite`) and its health endpoint probed over HTTP (:mod:`.health`)."""
