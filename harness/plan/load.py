"""Read a plan file: YAML validated into a :class:`~harness.plan.model.Plan`.

Unknown keys are errors, so a typo can never silently switch a check off. :func:`load_plan` is
the only way in: it reports problems as :class:`~harness.errors.PlanError` naming the file, the
line, the key path, the allowed values and the closest valid name.
"""

from __future__ import annotations

import hashlib
import types
import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ValidationError

from harness.endpoints.settings import LoadSql
from harness.errors import PlanError, did_you_mean
from harness.plan.model import LoadedPlan, Plan


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
