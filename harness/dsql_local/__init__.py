"""A local Aurora DSQL: PostgreSQL 16 behind a wire-protocol guard that answers as DSQL does.

Modules: ``protocol`` (PostgreSQL v3 message framing), ``tokens`` (IAM auth tokens, checked by
recomputing their SigV4 signature), ``statement`` (a statement as the lint analyses it),
``rules`` and ``answers`` (what DSQL refuses, decided by the lint rule pack, answered with
DSQL's SQLSTATE and words), ``session`` (a session's transaction: one DDL, no DDL with DML,
3,000 rows, the aborted state), ``occ`` (no lock waits, the loser fails at COMMIT),
``peers`` (a statement that commits first, or DDL, releases the locks of the block it meets),
``grants`` (``AWS IAM GRANT``: which IAM principal may log in as which role),
``limits`` (write size, transaction and connection age; the schema log behind OC001),
``guard`` (the asyncio listener: TLS, startup, tokens), ``relay`` (a session, message by
message, built on ``arbiter``, DSQL's decisions, and ``pump``, the wire; ``extended`` and
``expect`` are its parts), ``catalog`` (``sys.jobs``)
and ``server`` (:class:`DsqlLocal`: cluster, certificate and guard together). See
docs/dsql-local.md.
"""

from harness.dsql_local.server import DsqlLocal

__all__ = ["DsqlLocal"]
