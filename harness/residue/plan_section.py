"""Read one section (``retired:``, ``posture:``, ``dynamo:``) of a plan file.

This is the seam until these sections become fields of :class:`harness.plan.Plan`: each
package's ``load_settings`` calls :func:`load_section` and nothing else, so switching to
:func:`harness.plan.load_plan` is a one-function change. Other top-level keys (``name``,
``source``…) are left to the main plan loader and ignored here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import PlanError, did_you_mean

M = TypeVar("M", bound=BaseModel)


def load_section(path: str | Path, key: str, model: type[M]) -> M:
    """Validate ``key:`` of the YAML file at ``path`` as ``model``; problems are PlanErrors."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError("plan file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read plan file: {exc}", path=str(path)) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PlanError(f"not valid YAML: {problem}", path=f"{path}{line}") from None
    if not isinstance(data, dict) or key not in data:
        raise PlanError(f"the plan has no '{key}:' section", path=str(path))
    try:
        return model.model_validate(data[key] or {})
    except ValidationError as exc:
        err = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")[0]
        loc = (key, *err["loc"])
        where = f"{path}:{_line_of(node, loc)}"
        dotted = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            allowed = sorted(_fields(model, err["loc"][:-1]))
            word = str(loc[-1])
            message = f"unknown key '{word}'.{did_you_mean(word, allowed)}"
            if allowed:
                message += f" Allowed keys: {', '.join(allowed)}."
        elif err["type"] == "missing":
            message = "required key is missing"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
        raise PlanError(message, path=where, key=dotted) from None


def _fields(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Field names of the (nested) model at ``loc``; [] when it is not a model."""
    annotation: object = model
    for part in loc:
        if isinstance(part, int):
            annotation = getattr(annotation, "__args__", (None,))[0]
            continue
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        field = annotation.model_fields.get(part)
        annotation = field.annotation if field else None
    args = [a for a in getattr(annotation, "__args__", ()) if isinstance(a, type)]
    target = annotation if isinstance(annotation, type) else (args[0] if args else None)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return []


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int:
    """1-based line of the YAML node at ``loc`` or of its deepest existing ancestor."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                return line
            line = pair[0].start_mark.line + 1
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
