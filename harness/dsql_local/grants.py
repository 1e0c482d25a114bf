"""Which IAM principals may log in as which role: ``AWS IAM GRANT``, ``AWS IAM REVOKE`` and
``sys.iam_pg_role_mappings``, as on Aurora DSQL.

On DSQL a role other than ``admin`` (created ``WITH LOGIN``) connects only with a ``DbConnect``
token signed by an IAM principal the role was granted to::

    CREATE ROLE app WITH LOGIN;
    AWS IAM GRANT app TO 'arn:aws:iam::111122223333:role/app';
    AWS IAM REVOKE app FROM 'arn:aws:iam::111122223333:role/app';

and ``sys.iam_pg_role_mappings`` lists the grants (columns as AWS's "Using database roles and
IAM authentication" page shows them: ``iam_oid, arn, pg_role_oid, pg_role_name,
grantor_pg_role_oid, grantor_pg_role_name``). Here the grants are rows of a table in the
backing PostgreSQL, written by a ``SECURITY DEFINER`` procedure the guard calls in place of the
statement — on the client's own connection, so a grant is part of the client's transaction —
and the guard asks :data:`MAY_LOG_IN` at each login of such a role with the ARN of the identity
that signed the token (:meth:`harness.dsql_local.tokens.TokenVerifier.verify`).

DSQL's words for these refusals are not recorded anywhere we found: a login without a grant is
refused as a bad token is (:data:`harness.dsql_local.tokens.REFUSAL`); the errors of the
statements (the role does not exist, an ARN that is not an IAM role's or user's, a grant made
twice, a revoke of no grant, a caller other than ``admin`` — ``42501``, as reported from a real
cluster) carry our own words. ``DROP ROLE`` of a role that still has grants fails with
PostgreSQL's ``2BP01 role "…" cannot be dropped because some objects depend on it``, as
reported from a real cluster (aws-samples/aurora-dsql-samples#1287).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.dsql_local.statement import Statement

__all__ = [
    "ARN",
    "DROP_BLOCKED",
    "IAM_SETUP",
    "MAY_LOG_IN",
    "ROLE_GRANTED",
    "IamStatement",
    "parse",
]

ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$"
"""An IAM role's or user's ARN: what a grant may name (a regex for Python and PostgreSQL)."""

IAM_SETUP = (
    "CREATE TABLE sys.iam_role_grants (iam_oid oid NOT NULL, arn text NOT NULL,"
    " pg_role_oid oid NOT NULL, grantor_pg_role_oid oid NOT NULL,"
    " PRIMARY KEY (pg_role_oid, arn))",
    "CREATE SEQUENCE sys.iam_oid START 26000",
    "CREATE VIEW sys.iam_pg_role_mappings AS SELECT g.iam_oid, g.arn, g.pg_role_oid,"
    " r.rolname AS pg_role_name, g.grantor_pg_role_oid, o.rolname AS grantor_pg_role_name"
    " FROM sys.iam_role_grants g JOIN pg_roles r ON r.oid = g.pg_role_oid"
    " LEFT JOIN pg_roles o ON o.oid = g.grantor_pg_role_oid",
    "GRANT SELECT ON sys.iam_pg_role_mappings TO PUBLIC",
    # AWS IAM GRANT / REVOKE: session_user is the role the client logged in as (a SECURITY
    # DEFINER body runs as its owner, but session_user stays the caller's login).
    "CREATE PROCEDURE sys.aws_iam(action text, role text, principal text) LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = pg_catalog AS $$ DECLARE target oid; BEGIN"
    " IF session_user <> 'admin' THEN RAISE EXCEPTION 'permission denied to % IAM role"
    " mappings: only admin may', lower(action) USING ERRCODE = '42501'; END IF;"
    " SELECT oid INTO target FROM pg_roles WHERE rolname = role;"
    " IF target IS NULL THEN RAISE EXCEPTION 'role \"%\" does not exist', role"
    "  USING ERRCODE = '42704'; END IF;"
    " IF principal !~ '<ARN>' THEN"
    "  RAISE EXCEPTION 'invalid IAM principal ARN \"%\": an IAM role or user ARN is needed',"
    "  principal USING ERRCODE = '22023'; END IF;"
    " IF action = 'GRANT' THEN"
    "  IF EXISTS (SELECT 1 FROM sys.iam_role_grants WHERE pg_role_oid = target AND arn = principal)"
    '  THEN RAISE EXCEPTION \'role "%" is already granted to "%"\', role, principal'
    "  USING ERRCODE = '42710'; END IF;"
    "  INSERT INTO sys.iam_role_grants VALUES (COALESCE((SELECT min(iam_oid) FROM"
    "  sys.iam_role_grants WHERE arn = principal), nextval('sys.iam_oid')::oid), principal,"
    "  target, (SELECT oid FROM pg_roles WHERE rolname = session_user));"
    " ELSE DELETE FROM sys.iam_role_grants WHERE pg_role_oid = target AND arn = principal;"
    '  IF NOT FOUND THEN RAISE EXCEPTION \'role "%" is not granted to "%"\', role, principal'
    "  USING ERRCODE = '42704'; END IF;"
    " END IF; END $$".replace("<ARN>", ARN),  # the pattern is this module's constant
    # Callable by all: the body refuses anyone but admin in words of its own (42501).
    # Asked by the guard on the new session's own connection, before the client sees it.
    "CREATE FUNCTION sys.iam_may_log_in(principal text) RETURNS boolean LANGUAGE sql STABLE"
    " SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT EXISTS (SELECT 1 FROM"
    " sys.iam_role_grants g JOIN pg_roles r ON r.oid = g.pg_role_oid"
    " WHERE r.rolname = session_user AND g.arn = principal) $$",
    "CREATE FUNCTION sys.iam_role_granted(role text) RETURNS boolean LANGUAGE sql STABLE"
    " SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT EXISTS (SELECT 1 FROM"
    " sys.iam_role_grants g JOIN pg_roles r ON r.oid = g.pg_role_oid WHERE r.rolname = role) $$",
)
"""The tables, view and routines behind the grants (run once, as the server's superuser)."""

MAY_LOG_IN = "SELECT sys.iam_may_log_in($1)"
"""Whether the session's role was granted to the principal ``$1`` (``t``/``f``)."""
ROLE_GRANTED = "SELECT sys.iam_role_granted($1)"
"""Whether the role ``$1`` has any grant (then ``DROP ROLE`` fails, as on DSQL)."""
DROP_BLOCKED = ("2BP01", 'role "{role}" cannot be dropped because some objects depend on it')
"""PostgreSQL's words, which DSQL answered for a role still granted to an IAM principal."""

_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_STATEMENT = re.compile(
    rf"^\s*AWS\s+IAM\s+(GRANT|REVOKE)\s+({_NAME})\s+(TO|FROM)\s+'((?:[^']|'')*)'\s*;?\s*$",
    re.IGNORECASE,
)
_DROP_ROLE = re.compile(
    rf"^\s*DROP\s+(?:ROLE|USER)\s+(?:IF\s+EXISTS\s+)?({_NAME}(?:\s*,\s*{_NAME})*)\s*;?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class IamStatement:
    """``AWS IAM GRANT role TO 'arn'`` or ``AWS IAM REVOKE role FROM 'arn'``, read."""

    action: str
    """``GRANT`` or ``REVOKE``."""
    role: str
    arn: str

    @property
    def call(self) -> str:
        """The statement the server runs in its place (literals quoted here: the values come
        from the client's text, never glued in unquoted)."""
        values = ", ".join(_literal(v) for v in (self.action, self.role, self.arn))
        return f"CALL sys.aws_iam({values})"

    @property
    def tag(self) -> str:
        """The command tag the client gets (DSQL's is not recorded; the statement's words)."""
        return f"AWS IAM {self.action}"


def parse(stmt: Statement) -> IamStatement | None:
    """The IAM statement ``stmt`` is, or None when it is none (a regex: sqlglot cannot read
    DSQL's own syntax, reference §9). A malformed ``AWS IAM …`` reaches the server as it is,
    and fails there with PostgreSQL's syntax error."""
    if stmt.kind != "AWS IAM":
        return None
    match = _STATEMENT.match(stmt.text)
    if match is None:
        return None
    action, role, preposition, arn = match.groups()
    action = action.upper()
    if (action, preposition.upper()) not in (("GRANT", "TO"), ("REVOKE", "FROM")):
        return None
    return IamStatement(action, _identifier(role), arn.replace("''", "'"))


def dropped_roles(stmt: Statement) -> list[str]:
    """The roles a ``DROP ROLE``/``DROP USER`` names (empty for any other statement)."""
    if stmt.kind not in ("DROP ROLE", "DROP USER"):
        return []
    match = _DROP_ROLE.match(stmt.text)
    if match is None:
        return []
    return [_identifier(name.strip()) for name in re.findall(_NAME, match.group(1))]


def _identifier(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
