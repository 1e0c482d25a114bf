"""The plan file: what to compare, how to reach it, and which differences are expected.

A plan is YAML validated into frozen pydantic models; unknown keys are errors, so a typo can
never silently switch a check off. :func:`load_plan` is the only way in: it reports problems
as :class:`~harness.errors.PlanError` naming the file, the line, the key path, the allowed
values and the closest valid name. ``schemas/plan.schema.json`` is generated from :class:`Plan`.
"""

from __future__ import annotations

import hashlib
import types
import typing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.dynamo.settings import DynamoSettings
from harness.endpoints.settings import AuroraEndpoint, ConnectSettings, DsqlEndpoint
from harness.errors import PlanError, did_you_mean
from harness.faults.settings import FaultSettings
from harness.latency.settings import LatencySettings
from harness.lint.settings import LintSettings
from harness.plan_model import PlanModel, relative_to_plan
from harness.posture.settings import PostureSettings
from harness.queries.settings import QuerySettings
from harness.residue.settings import RetiredSettings
from harness.results.check import FindingKind
from harness.rows.settings import RowSettings


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


Endpoint = Annotated[
    SqliteEndpoint
    | PostgresEndpoint
    | EmbeddedEndpoint
    | ContainerEndpoint
    | AuroraEndpoint
    | DsqlEndpoint,
    Field(discriminator="kind"),
]


class TableSelection(PlanModel):
    """Which tables to verify. Names match source or target names; patterns are fnmatch globs."""

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    keys: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Key columns for tables without a primary key."
    )


class Renames(PlanModel):
    """How source names become target names: explicit maps first, then the policy."""

    policy: Literal["none", "snake_case", "lower"] = "none"
    tables: dict[str, str] = Field(default_factory=dict, description="source table → target table")
    columns: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="source table → {source column → target column}"
    )


class ExpectedDifference(PlanModel):
    """A difference the team knows about and a reviewer accepted: on a table (and column), or
    on one of the application's queries (its answer and latency items)."""

    table: str | None = None
    column: str | None = None
    query: str | None = Field(None, description="A query of queries: instead of table.")
    kind: FindingKind | None = Field(None, description="Finding kind; omitted means any kind.")
    reason: str = Field(min_length=1)
    reviewer: str = Field(min_length=1)
    expires: date | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> ExpectedDifference:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of 'table' or 'query'")
        if self.query is not None and self.column is not None:
            raise ValueError("'column' goes with 'table', not with 'query'")
        return self


class Plan(PlanModel):
    """A verification plan: two endpoints and what must hold between them."""

    name: str = Field(min_length=1)
    source: Endpoint
    target: Endpoint
    tables: TableSelection = TableSelection()
    renames: Renames = Renames()
    expected_differences: tuple[ExpectedDifference, ...] = ()
    rows: RowSettings = RowSettings()
    lint: LintSettings | None = None
    queries: QuerySettings | None = None
    latency: LatencySettings | None = None
    connect: ConnectSettings = ConnectSettings()
    retired: RetiredSettings | None = None
    posture: PostureSettings | None = None
    dynamo: DynamoSettings | None = None
    faults: FaultSettings | None = None


@dataclass(frozen=True)
class LoadedPlan:
    """A validated plan with where it came from (for evidence and relative paths)."""

    plan: Plan
    path: Path
    sha256: str


class _PlanLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so pydantic validates them at their key path
    (PyYAML would build 2027-02-30 itself and fail with no line or key)."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def load_plan(path: str | Path) -> LoadedPlan:
    """Read and validate a plan file; every problem is a one-line :class:`PlanError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PlanError(
            "plan file not found (create one with `cutover init`)", path=str(path)
        ) from None
    except OSError as exc:
        raise PlanError(f"cannot read plan file: {exc.strerror}", path=str(path)) from None
    try:
        node = yaml.compose(raw.decode("utf-8"), Loader=_PlanLoader)
        data = yaml.load(raw, Loader=_PlanLoader)  # a SafeLoader subclass
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PlanError(f"not valid YAML: {problem}", path=f"{path}{line}") from None
    if not isinstance(data, dict):
        raise PlanError(
            "a plan is a YAML mapping with at least name, source and target", path=str(path)
        )
    try:
        plan = Plan.model_validate(data, context={"base_dir": path.parent.resolve()})
    except ValidationError as exc:
        raise _plan_error(exc, path, node) from None
    return LoadedPlan(plan, path.resolve(), hashlib.sha256(raw).hexdigest())


def load_section(path: str | Path, key: str) -> Any:
    """The validated ``key:`` section of the plan at ``path``, for the commands that read one
    section (``cutover residue``, ``cutover dynamo``); a PlanError when the plan has none."""
    loaded = load_plan(path)
    section = getattr(loaded.plan, key)
    if section is None:
        raise PlanError(f"the plan has no '{key}:' section", path=str(loaded.path))
    return section


def _plan_error(exc: ValidationError, path: Path, node: yaml.Node | None) -> PlanError:
    """Turn pydantic's first error into one line: file:line: key.path: what, allowed, hint."""
    # Unknown keys first: a misspelt key usually also causes a "missing" error, and the
    # misspelling is what the user has to fix.
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    err = errors[0]
    raw_loc = tuple(err["loc"])
    loc = _user_loc(raw_loc)
    line = _line_of(node, loc)
    where = f"{path}:{line}" if line else str(path)
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(raw_loc[:-1])
        message = f"unknown key '{loc[-1]}'.{did_you_mean(str(loc[-1]), allowed)}"
        if allowed:
            message += f" Allowed keys: {', '.join(sorted(allowed))}."
    elif kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        tag = str(ctx.get("tag"))
        message = (
            f"unknown {'endpoint ' if loc[0] in ('source', 'target') else ''}kind '{tag}'."
            f"{did_you_mean(tag, tags)} Allowed: {', '.join(tags)}."
        )
        key = f"{key}.kind"
        where = f"{path}:{_line_of(node, (*loc, 'kind'))}"
    elif kind == "union_tag_not_found" and "load" in loc:
        message = "each load step is {sql: FILE} or {sqlite: FILE}"
    elif kind == "union_tag_not_found":
        message = "missing 'kind' (allowed: sqlite, postgres, embedded, container, aurora, dsql)"
    elif kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        message = (
            f"'{value}' is not allowed.{did_you_mean(str(value), choices)} Allowed: {expected}."
        )
    elif kind == "missing":
        message = "required key is missing"
    else:
        message = str(err["msg"]).removeprefix("Value error, ")
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem(s) after this one)"
    return PlanError(message, path=where, key=key)


def _user_loc(raw_loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The location as the user wrote it: without the union branch tags pydantic inserts
    after an endpoint (``source.sqlite.path``) or a load step (``load.0.sql.sql``)."""
    out: list[int | str] = []
    for i, part in enumerate(raw_loc):
        prev = raw_loc[i - 1] if i else None
        is_endpoint_tag = prev in ("source", "target") and len(out) == 1
        is_load_tag = isinstance(prev, int) and len(out) >= 2 and out[-2] == "load"
        is_param_tag = i >= 2 and raw_loc[i - 2] == "generate"  # a query parameter's kind
        if is_endpoint_tag or is_load_tag or is_param_tag:
            continue
        out.append(part)
    return tuple(out)


def _allowed_keys(raw_loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed at ``raw_loc`` (a pydantic location, union branch tags included)."""
    annotation: Any = Plan
    parts = list(raw_loc)
    while True:
        annotation = _strip(annotation)
        if typing.get_origin(annotation) in (tuple, dict, list):
            annotation = typing.get_args(annotation)[
                -1 if typing.get_origin(annotation) is dict else 0
            ]
            if parts:
                parts.pop(0)  # the index or mapping key
            continue
        members = [_strip(m) for m in typing.get_args(annotation)]
        members = [m for m in members if isinstance(m, type)]
        if members and parts:  # a union: the next location part names the branch
            tag = parts.pop(0)
            annotation = next((m for m in members if _tag_of(m) == tag), None)
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not parts:
                return [f.alias or name for name, f in annotation.model_fields.items()]
            field = annotation.model_fields.get(str(parts.pop(0)))
            annotation = field.annotation if field else None
            continue
        return []


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return _strip(args[0])
    return annotation


def _tag_of(model: type) -> str:
    if issubclass(model, BaseModel) and "kind" in model.model_fields:
        return str(typing.get_args(model.model_fields["kind"].annotation)[0])
    return "sql" if model is LoadSql else "sqlite"


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at ``loc``, or of its deepest existing ancestor."""
    line = node.start_mark.line + 1 if node is not None else None
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                return line
            key_node, node = pair
            # An unknown or last key: point at the key itself, that is what needs fixing.
            line = (key_node if i == len(loc) - 1 else node).start_mark.line + 1
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def is_expired(diff: ExpectedDifference, today: date | None = None) -> bool:
    """An expected difference past its expiry date no longer waives anything."""
    return diff.expires is not None and diff.expires < (today or date.today())
