"""Plan models of every endpoint kind and of the ``connect`` section.

``sqlite``, ``postgres``, ``embedded`` (with its load steps), ``container``, ``aurora`` and
``dsql``: frozen pydantic models like the rest of the plan (:mod:`harness.plan.model`), unknown
keys rejected. Credentials never live in a plan: an ``aurora`` endpoint names a Secrets Manager
secret (or, with ``auth: iam``, signs an RDS IAM token for the database user it names), a
``dsql`` endpoint signs an IAM token; a plan that carries a password, a DSN (or a user, where
the secret holds it) for them is refused with a message saying where credentials go instead.

The plan model imports this module; it imports only the plan's base model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from harness.endpoints.retry import Backoff
from harness.plan.base import PlanModel, relative_to_plan

_CREDENTIAL_KEYS = (
    "password",
    "passwd",
    "user",
    "username",
    "dsn",
    "dsn_env",
    "token",
    "secret_string",
)
RDS_HOST = re.compile(
    r"^[a-z0-9-]+\.(?:cluster-(?:ro-|custom-)?|proxy-)?[a-z0-9]+\."
    r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com$"
)
"""An Aurora cluster, instance or RDS Proxy endpoint name, with the region it is in."""
DSQL_HOST = re.compile(
    r"^(?P<id>[a-z0-9]+)\.dsql(?:-[a-z0-9]+)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.on\.aws$"
)


class LoadSql(PlanModel):
    """Run a SQL script with psql (meta-commands such as ``\\c`` work)."""

    sql: Path
    database: str | None = Field(
        None,
        description="Database to run the script in; default: the endpoint's database. "
        "Use 'postgres' for scripts that create and switch to their own database.",
    )
    _base = field_validator("sql")(relative_to_plan)


class LoadSqlite(PlanModel):
    """Copy a SQLite database's tables, keys, indexes and rows into the embedded database."""

    sqlite: Path
    naming: Literal["none", "snake_case", "lower"] = "none"
    """Name policy applied to tables and columns while copying."""
    _base = field_validator("sqlite")(relative_to_plan)


def _load_step_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return "sql" if "sql" in value else "sqlite" if "sqlite" in value else None
    return (
        "sql" if isinstance(value, LoadSql) else "sqlite" if isinstance(value, LoadSqlite) else None
    )


LoadStep = Annotated[
    Annotated[LoadSql, Tag("sql")] | Annotated[LoadSqlite, Tag("sqlite")],
    Discriminator(_load_step_tag),
]


class SqliteEndpoint(PlanModel):
    """A SQLite database file, opened read-only."""

    kind: Literal["sqlite"]
    path: Path
    _base = field_validator("path")(relative_to_plan)


class PostgresEndpoint(PlanModel):
    """An existing PostgreSQL database; sessions are read-only."""

    kind: Literal["postgres"]
    dsn: str | None = Field(None, description="libpq DSN or URI. Prefer dsn_env for secrets.")
    dsn_env: str | None = Field(
        None, description="Name of an environment variable holding the DSN."
    )
    db_schema: str = Field("public", alias="schema")

    @model_validator(mode="after")
    def _one_dsn(self) -> PostgresEndpoint:
        if (self.dsn is None) == (self.dsn_env is None):
            raise ValueError("give exactly one of 'dsn' or 'dsn_env'")
        return self


class EmbeddedEndpoint(PlanModel):
    """An ephemeral PostgreSQL 16 started by the harness (pgserver wheel), optionally loaded."""

    kind: Literal["embedded"]
    load: tuple[LoadStep, ...] = ()
    database: str = Field("postgres", description="Database to verify after loading.")
    db_schema: str = Field("public", alias="schema")


class ContainerEndpoint(PlanModel):
    """A PostgreSQL container started with testcontainers (needs a Docker engine)."""

    kind: Literal["container"]
    image: str = "postgres:16-alpine"
    load: tuple[LoadStep, ...] = ()
    database: str = "postgres"
    db_schema: str = Field("public", alias="schema")


def _no_credentials(data: Any, *, where: str) -> Any:
    if isinstance(data, dict):
        found = [key for key in _CREDENTIAL_KEYS if key in data]
        if found:
            raise ValueError(
                f"'{found[0]}' is not allowed here: credentials never go in the plan; {where}"
            )
    return data


SslMode = Literal["require", "verify-ca", "verify-full"]
SslNegotiation = Literal["postgres", "direct"]


class AuroraEndpoint(PlanModel):
    """Aurora PostgreSQL, RDS Proxy or RDS PostgreSQL, with credentials in Secrets Manager or
    IAM database authentication (``auth: iam``: a fresh RDS token for every connection)."""

    kind: Literal["aurora"]
    auth: Literal["secret", "iam"] = Field(
        "secret",
        description="secret: user and password from Secrets Manager; iam: the password is an "
        "RDS IAM auth token signed for host:port and user with your AWS credentials.",
    )
    secret: str | None = Field(
        None,
        description="Secrets Manager secret id or ARN (e.g. rds!cluster-…). "
        "Overridden by CUTOVER_<SIDE>_SECRET_ID, then CUTOVER_SECRET_ID.",
    )
    user: str | None = Field(
        None,
        min_length=1,
        description="auth: iam only: the database user (granted rds_iam; for RDS Proxy, the "
        "user the proxy's IAM authentication maps to).",
    )
    region: str | None = Field(
        None,
        description="AWS region of the secret (auth: iam: the region tokens are signed for; "
        "default: the one in an *.rds.amazonaws.com host); CUTOVER_<SIDE>_REGION, then "
        "AWS_REGION override it.",
    )
    endpoint_url: str | None = Field(
        None, description="Secrets Manager endpoint (a VPC endpoint, or moto in tests)."
    )
    host: str | None = Field(
        None, description="Writer, cluster or RDS Proxy endpoint; default: the secret's host."
    )
    port: int | None = Field(None, ge=1, le=65535, description="Default: the secret's, or 5432.")
    database: str | None = Field(
        None, description="Database name; default: the secret's dbname, or postgres."
    )
    reader_host: str | None = Field(
        None, description="Reader endpoint; checked to answer the same as the writer."
    )
    hostaddr: str | None = Field(
        None,
        description="Connect to this IP instead of resolving host (an SSH/SSM tunnel); "
        "TLS still verifies the certificate against host.",
    )
    sslmode: SslMode = Field(
        "require", description="TLS is always on; verify-full checks the name."
    )
    sslnegotiation: SslNegotiation = Field(
        "postgres", description="direct: TLS from the first byte (libpq 17+, PostgreSQL 17+)."
    )
    sslrootcert: Path | None = Field(
        None, description="CA bundle for verify-ca/verify-full (e.g. the RDS global bundle)."
    )
    db_schema: str = Field("public", alias="schema")

    _base = field_validator("sslrootcert")(relative_to_plan)

    @model_validator(mode="before")
    @classmethod
    def _credentials_from_secret_only(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("auth") == "iam":
            # the user names who logs in, not a credential: the token is the credential
            rest = {key: value for key, value in data.items() if key != "user"}
            _no_credentials(rest, where="auth: iam signs a token with your AWS credentials")
            return data
        return _no_credentials(
            data, where="store them in the Secrets Manager secret named by 'secret'"
        )

    @model_validator(mode="after")
    def _ca_for_verify(self) -> AuroraEndpoint:
        if self.sslmode != "require" and self.sslrootcert is None:
            raise ValueError(f"sslmode {self.sslmode} needs 'sslrootcert' (a CA bundle path)")
        if self.auth == "iam":
            if self.secret is not None:
                raise ValueError(
                    "auth: iam takes no 'secret' (the password is a fresh IAM token); "
                    "remove 'secret', or use auth: secret"
                )
            if self.host is None or self.user is None:
                raise ValueError(
                    "auth: iam needs 'host' (the cluster, instance or RDS Proxy endpoint the "
                    "token is signed for) and 'user' (the database user granted rds_iam)"
                )
            if self.endpoint_url is not None:
                raise ValueError(
                    "'endpoint_url' is the Secrets Manager endpoint: not used with auth: iam"
                )
        return self

    @property
    def signing_region(self) -> str | None:
        """auth: iam: the plan's region, else the one an RDS endpoint name carries."""
        if self.region is not None:
            return self.region
        match = RDS_HOST.match(self.host or "")
        return match["region"] if match else None


class DsqlEndpoint(PlanModel):
    """An Aurora DSQL cluster; the password is an IAM auth token signed for each connection."""

    kind: Literal["dsql"]
    endpoint: str | None = Field(
        None, description="Cluster endpoint <id>.dsql.<region>.on.aws (or cluster_id + region)."
    )
    cluster_id: str | None = None
    region: str | None = Field(None, description="Default: the region in the endpoint name.")
    role: str = Field("admin", description="admin, or a custom role mapped to an IAM principal.")
    expires_in: int = Field(900, ge=1, le=604_800, description="Token lifetime in seconds.")
    port: int = Field(5432, ge=1, le=65535)
    hostaddr: str | None = Field(
        None,
        description="Connect to this IP instead of resolving the endpoint (a tunnel); the "
        "token is still signed for, and TLS still verifies, the endpoint name.",
    )
    sslmode: SslMode = "require"
    sslnegotiation: SslNegotiation = Field(
        "postgres", description="direct, as AWS's DSQL connectors do (libpq 17+)."
    )
    sslrootcert: Path | None = Field(
        None, description="CA bundle (Amazon Root CA 1) for verify-full."
    )
    database: Literal["postgres"] = "postgres"
    db_schema: str = Field("public", alias="schema")

    _base = field_validator("sslrootcert")(relative_to_plan)

    @model_validator(mode="before")
    @classmethod
    def _token_only(cls, data: Any) -> Any:
        return _no_credentials(data, where="DSQL signs an IAM token with your AWS credentials")

    @model_validator(mode="after")
    def _where(self) -> DsqlEndpoint:
        if (self.endpoint is None) == (self.cluster_id is None):
            raise ValueError("give exactly one of 'endpoint' or 'cluster_id' (with 'region')")
        if self.endpoint is not None and not DSQL_HOST.match(self.endpoint):
            raise ValueError(
                f"'{self.endpoint}' is not a DSQL endpoint; expected <id>.dsql.<region>.on.aws"
            )
        if self.cluster_id is not None and self.region is None:
            raise ValueError("'cluster_id' needs 'region' (or give 'endpoint')")
        if self.sslmode != "require" and self.sslrootcert is None:
            raise ValueError(f"sslmode {self.sslmode} needs 'sslrootcert' (Amazon Root CA 1)")
        return self

    @property
    def hostname(self) -> str:
        """The endpoint name the token is signed for."""
        if self.endpoint is not None:
            return self.endpoint
        return f"{self.cluster_id}.dsql.{self.region}.on.aws"

    @property
    def signing_region(self) -> str:
        if self.region is not None:
            return self.region
        match = DSQL_HOST.match(self.hostname)
        assert match is not None  # checked by _where
        return match["region"]


class DsqlLocalEndpoint(PlanModel):
    """A local Aurora DSQL started for the run (harness.dsql_local): an embedded PostgreSQL 16
    behind a guard that refuses what DSQL refuses, loaded through that guard, so a load
    script DSQL would refuse fails here too. Tokens are signed with keys made for the run."""

    kind: Literal["dsql-local"]
    load: tuple[LoadStep, ...] = ()
    endpoint: str | None = Field(
        None, description="Endpoint name <id>.dsql.<region>.on.aws; default: a random id."
    )
    db_schema: str = Field("public", alias="schema")

    @model_validator(mode="after")
    def _where(self) -> DsqlLocalEndpoint:
        if self.endpoint is not None and not DSQL_HOST.match(self.endpoint):
            raise ValueError(
                f"'{self.endpoint}' is not a DSQL endpoint; expected <id>.dsql.<region>.on.aws"
            )
        return self


class RetrySettings(PlanModel):
    """A retry policy in a plan: ``connect.retry``, ``faults.retry``."""

    initial_s: float = Field(0.2, ge=0)
    multiplier: float = Field(2.0, ge=1)
    cap_s: float = Field(5.0, ge=0)
    attempts: int = Field(4, ge=1, le=50)
    jitter: Literal["full", "none"] = "full"

    def backoff(self) -> Backoff:
        return Backoff(
            initial=self.initial_s,
            multiplier=self.multiplier,
            cap=self.cap_s,
            attempts=self.attempts,
            jitter=self.jitter,
        )


class ConnectSettings(PlanModel):
    """How the harness connects: the per-attempt budget and the retry policy."""

    connect_timeout_s: float = Field(
        5.0, gt=0, le=300, description="Budget for one connect (libpq connect_timeout)."
    )
    retry: RetrySettings = RetrySettings()


Endpoint = Annotated[
    SqliteEndpoint
    | PostgresEndpoint
    | EmbeddedEndpoint
    | ContainerEndpoint
    | AuroraEndpoint
    | DsqlEndpoint
    | DsqlLocalEndpoint,
    Field(discriminator="kind"),
]
