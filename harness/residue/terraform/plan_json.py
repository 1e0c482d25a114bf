"""``terraform show -json`` output: a saved plan's (or the state's) exact word.

Where ``.tf`` source only says what *could* exist, a plan says what will: a resource whose
``count`` came out 0 is not in ``planned_values``, a module input is resolved, and every
expression of the ``configuration`` lists the references it makes, through module calls,
outputs and variables. This reader turns that into the same modules
(:mod:`~harness.residue.terraform.config`) that ``.tf`` source gives, so the engine judges
both alike; a configured resource with no planned instance is left out. The JSON is read
with positions (a plan is usually one long line, so a finding names its column too).

Locals are not part of the JSON configuration, so a reference through ``local.x`` resolves to
nothing here; the ``.tf`` source, scanned beside the plan, still reports it. The identifier
layer only reads the after-state (``planned_values``, ``values``, ``variables``): a
``resource_changes`` entry that deletes the retired cluster is the migration, not residue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from json import decoder
from typing import Any, TypeGuard

from harness.iac.lexers import Locator, Span
from harness.residue.settings import RetiredSettings
from harness.residue.terraform.config import Call, Module, Named, Resource, Site, _canonical
from harness.residue.terraform.engine import Graph, Report, judge

MARKER = '"terraform_version"'
"""Every ``terraform show -json`` document has it near its start."""
AFTER_STATE = ("planned_values", "values", "variables")
"""Top-level keys whose text the identifier layer reads."""

scanstring: Callable[[str, int], tuple[str, int]] = decoder.scanstring  # type: ignore[attr-defined]
"""The standard library's (C) JSON string reader: fast, and it says where a string ends."""
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


class JDict(dict[str, Any]):
    """A JSON object that remembers where each key and each value is."""

    start: int
    keys_at: dict[str, int]
    spans: dict[str, Span]


class JList(list[Any]):
    """A JSON array that remembers where each element is."""

    start: int
    at: list[int]


def _skip(text: str, i: int) -> int:
    """Past the whitespace at ``i``."""
    while i < len(text) and text[i] in " \t\n\r":
        i += 1
    return i


def read(text: str) -> Any:
    """Parse JSON keeping positions; raises ValueError when it is not JSON."""
    value, end = _value(text, _skip(text, 0))
    if _skip(text, end) != len(text):
        raise ValueError(f"extra data at offset {end}")
    return value


def _value(text: str, i: int) -> tuple[Any, int]:
    if i >= len(text):
        raise ValueError("unexpected end of JSON")
    ch = text[i]
    if ch == "{":
        obj = JDict()
        obj.start, obj.keys_at, obj.spans = i, {}, {}
        i = _skip(text, i + 1)
        if text.startswith("}", i):
            return obj, i + 1
        while True:
            if not text.startswith('"', i):
                raise ValueError(f"expected a key at offset {i}")
            key_at = i
            key, i = scanstring(text, i + 1)
            i = _skip(text, i)
            if not text.startswith(":", i):
                raise ValueError(f"expected ':' at offset {i}")
            i = _skip(text, i + 1)
            start = i
            obj[key], i = _value(text, i)
            obj.keys_at[key], obj.spans[key] = key_at, (start, i)
            i = _skip(text, i)
            if text.startswith(",", i):
                i = _skip(text, i + 1)
            elif text.startswith("}", i):
                return obj, i + 1
            else:
                raise ValueError(f"expected ',' or '}}' at offset {i}")
    if ch == "[":
        array = JList()
        array.start, array.at = i, []
        i = _skip(text, i + 1)
        if text.startswith("]", i):
            return array, i + 1
        while True:
            array.at.append(i)
            item, i = _value(text, i)
            array.append(item)
            i = _skip(text, i)
            if text.startswith(",", i):
                i = _skip(text, i + 1)
            elif text.startswith("]", i):
                return array, i + 1
            else:
                raise ValueError(f"expected ',' or ']' at offset {i}")
    if ch == '"':
        return scanstring(text, i + 1)
    match = _SCALAR.match(text, i)
    if match is None:
        raise ValueError(f"unexpected character at offset {i}")
    word = match.group()
    parsed: Any = {"true": True, "false": False, "null": None}.get(word, word)
    if parsed is word:
        parsed = float(word) if any(c in word for c in ".eE") else int(word)
    return parsed, match.end()


def is_plan(doc: Any) -> TypeGuard[JDict]:
    """``terraform show -json`` of a plan or of the state."""
    return (
        isinstance(doc, JDict)
        and "format_version" in doc
        and "terraform_version" in doc
        and any(k in doc for k in ("planned_values", "values", "configuration"))
    )


def after_state_spans(doc: JDict) -> list[Span]:
    return [doc.spans[k] for k in AFTER_STATE if k in doc.spans]


@dataclass(frozen=True)
class _Planned:
    """Planned (or current) resource instances by address, indexes dropped."""

    values: dict[str, dict[str, Any]]
    at: dict[str, int]


def _planned(doc: JDict) -> _Planned | None:
    state = doc.get("planned_values") or doc.get("values")
    if not isinstance(state, dict):
        return None
    planned = _Planned({}, {})
    for module in _state_modules(state.get("root_module")):
        for resource in module.get("resources") or []:
            if not isinstance(resource, JDict) or not isinstance(resource.get("address"), str):
                continue
            address = re.sub(r"\[[^\]]*\]", "", resource["address"])
            values = resource.get("values")
            planned.values.setdefault(address, values if isinstance(values, dict) else {})
            planned.at.setdefault(address, resource.keys_at["address"])
    return planned


def _state_modules(module: Any) -> Iterator[dict[str, Any]]:
    if isinstance(module, dict):
        yield module
        for child in module.get("child_modules") or []:
            yield from _state_modules(child)


def analyse(doc: JDict, key: str, text: str, settings: RetiredSettings) -> Report:
    """Hits (under ``key``) and census of one plan or state document."""
    planned = _planned(doc)
    configuration = doc.get("configuration")
    modules: dict[str, Module] = {}
    if isinstance(configuration, dict):
        _configured(configuration.get("root_module"), "", key, planned, modules)
    elif planned is not None:
        modules[""] = _from_state(planned, key)
    graph = Graph(modules, settings)
    report, _classes, _nodes, _flagged = judge(
        graph, {key: Locator(text, [])}, {key: key}, flavour="terraform-plan"
    )
    return report


def _configured(
    module: Any, path: str, key: str, planned: _Planned | None, modules: dict[str, Module]
) -> None:
    if not isinstance(module, JDict):
        return
    prefix = f"{path}." if path else ""
    out = Module(path, path or "the root module", prefix)
    for resource in module.get("resources") or []:
        if not isinstance(resource, JDict) or not isinstance(resource.get("address"), str):
            continue
        address, data = resource["address"], resource.get("mode") == "data"
        full = prefix + address
        if planned is not None and not data and full not in planned.values:
            continue  # configured, but the plan makes no instance of it
        values = _constants(resource.get("expressions"))
        values.update(planned.values.get(full, {}) if planned else {})
        out.resources[address] = Resource(
            address,
            str(resource.get("type", "")),
            data,
            key,
            resource.keys_at["address"],
            _sites(resource.get("expressions"), key)
            + _sites(resource.get("count_expression"), key)
            + _sites(resource.get("for_each_expression"), key),
            values,
        )
    for name, call in (module.get("module_calls") or {}).items():
        if not isinstance(call, JDict):
            continue
        child = f"{prefix}module.{name}"
        expressions = call.get("expressions") or {}
        out.calls[name] = Call(
            name,
            str(call.get("source", "")),
            child,
            key,
            module["module_calls"].keys_at[name],
            {arg: _sites(expr, key) for arg, expr in expressions.items()},
            _constants(expressions),
        )
        _configured(call.get("module"), child, key, planned, modules)
    for name, output in (module.get("outputs") or {}).items():
        if isinstance(output, JDict):
            out.outputs[name] = Named(
                name,
                key,
                module["outputs"].keys_at[name],
                _sites(output.get("expression"), key),
                f'output "{name}"' + (f" of {path}" if path else ""),
            )
    for name, variable in (module.get("variables") or {}).items():
        if isinstance(variable, JDict):
            out.variables[name] = Named(
                name,
                key,
                module["variables"].keys_at[name],
                [],
                f'variable "{name}"' + (f" of {path}" if path else ""),
                variable.get("default"),
            )
    modules[path] = out


def _from_state(planned: _Planned, key: str) -> Module:
    """No configuration (``terraform show -json`` of a state): resources, no references."""
    module = Module("", "the root module")
    for address, values in planned.values.items():
        parts = address.split(".")
        while parts and parts[0] == "module":
            parts = parts[2:]
        data = parts[:1] == ["data"]
        kind = parts[1] if data else parts[0] if parts else ""
        module.resources[address] = Resource(
            address, kind, data, key, planned.at[address], [], values
        )
    return module


def _sites(expression: Any, key: str) -> list[Site]:
    """The references an expression lists, one site each.

    Terraform lists every prefix of a reference too (``module.db.endpoint`` and
    ``module.db``); the prefixes are dropped, so one use is one finding.
    """
    found: dict[str, Site] = {}
    for refs in _reference_lists(expression):
        written = [(_canonical(ref), offset) for ref, offset in refs]
        names = {name for name, _ in written}
        for name, offset in written:
            if name.split(".")[0] in ("each", "count", "path", "self", "terraform"):
                continue
            if any(other.startswith(name + ".") for other in names):
                continue
            found.setdefault(name, Site(name, key, offset))
    return list(found.values())


def _reference_lists(expression: Any) -> Iterator[list[tuple[str, int]]]:
    if isinstance(expression, JDict):
        for name, value in expression.items():
            if name == "references" and isinstance(value, JList):
                yield [
                    (ref, offset)
                    for ref, offset in zip(value, value.at, strict=True)
                    if isinstance(ref, str)
                ]
            else:
                yield from _reference_lists(value)
    elif isinstance(expression, list):
        for item in expression:
            yield from _reference_lists(item)


def _constants(expressions: Any) -> dict[str, object]:
    if not isinstance(expressions, dict):
        return {}
    return {
        name: expr["constant_value"]
        for name, expr in expressions.items()
        if isinstance(expr, dict) and "constant_value" in expr
    }
