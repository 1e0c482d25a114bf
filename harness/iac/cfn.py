"""CloudFormation templates (JSON and YAML, ``cdk.out``, SAM, Serverless ``resources``), with lines.

Templates are read as YAML node trees (JSON is YAML here, and so needs no second reader), so
every mapping keeps the line of each of its keys; short-form intrinsic tags (``!Ref X``,
``!GetAtt A.B``, ``!Sub …``) become their long form (``{"Ref": "X"}``…) so a reader has one
shape to walk. :func:`references` lists what a value points at through its intrinsics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

_Composer: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LocDict(dict[str, Any]):
    """A mapping that remembers its own line and the line of each key."""

    line: int
    key_lines: dict[str, int]


class LocStr(str):
    """A string scalar that remembers where it was written (1-based line and column)."""

    line: int
    column: int


class CfnLoader(yaml.SafeLoader):
    """A PyYAML loader that accepts CloudFormation's short-form intrinsic tags."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return _long_form(suffix, value)


CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def _long_form(tag: str, value: Any) -> dict[str, Any]:
    if tag == "Ref" or tag == "Condition":
        return {tag: value}
    if tag == "GetAtt" and isinstance(value, str):
        logical, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical, attribute]}
    return {f"Fn::{tag}": value}


def load(text: str, *, positions: bool = False) -> Any:
    """Parse a template (YAML or JSON) into plain data with line-aware mappings.

    ``positions``: strings become :class:`LocStr` (where each was written). Off by default:
    a ``str`` subclass must never reach a report or cross to another process.
    Raises :class:`yaml.YAMLError` for text that is neither.
    """
    node = yaml.compose(text, Loader=_Composer)
    return None if node is None else _convert(node, positions)


def _convert(node: yaml.Node, positions: bool = False) -> Any:
    line = node.start_mark.line + 1
    tag = node.tag or ""
    if isinstance(node, yaml.MappingNode):
        out = LocDict()
        out.line, out.key_lines = line, {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[key] = _convert(value_node, positions)
            out.key_lines[key] = key_node.start_mark.line + 1
        value: Any = out
    elif isinstance(node, yaml.SequenceNode):
        value = [_convert(item, positions) for item in node.value]
    else:
        value = _scalar(node)
        if positions and isinstance(value, str):
            value = LocStr(value)
            value.line, value.column = line, node.start_mark.column + 1
    if tag.startswith("!"):
        wrapped = LocDict(_long_form(tag[1:], value))
        wrapped.line, wrapped.key_lines = line, dict.fromkeys(wrapped, line)
        return wrapped
    return value


def _scalar(node: yaml.Node) -> Any:
    value = str(node.value)
    if node.tag == "tag:yaml.org,2002:bool":
        return value.lower() in ("true", "yes", "on", "y")
    if node.tag == "tag:yaml.org,2002:int":
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if node.tag == "tag:yaml.org,2002:null":
        return None
    return value


def resources(doc: Any) -> LocDict | None:
    """The ``Resources`` mapping of a template (or of a Serverless ``resources:`` block)."""
    if not isinstance(doc, dict):
        return None
    section = doc.get("Resources")
    if section is None and isinstance(doc.get("resources"), dict) and "service" in doc:
        section = doc["resources"].get("Resources")  # serverless.yml
    if not isinstance(section, LocDict):
        return None
    typed = [r for r in section.values() if isinstance(r, dict) and isinstance(r.get("Type"), str)]
    return section if typed and len(typed) == len(section) else None


def references(value: Any, line: int) -> Iterator[tuple[str, int, str]]:
    """Every (logical id, line, text) that ``value`` points at through an intrinsic."""
    if isinstance(value, list):
        for item in value:
            yield from references(item, line)
        return
    if not isinstance(value, dict):
        return
    here = value.line if isinstance(value, LocDict) else line
    for key, item in value.items():
        item_line = value.key_lines.get(key, here) if isinstance(value, LocDict) else here
        if key == "Ref" and isinstance(item, str):
            yield item, item_line, f"Ref {item}"
        elif key == "Fn::GetAtt":
            parts = item.split(".", 1) if isinstance(item, str) else item
            if isinstance(parts, list) and parts and isinstance(parts[0], str):
                yield parts[0], item_line, "Fn::GetAtt " + ".".join(str(p) for p in parts)
        elif key == "Fn::Sub":
            template = item[0] if isinstance(item, list) and item else item
            if isinstance(template, str):
                for match in re.finditer(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}", template):
                    yield match.group(1), item_line, f"Fn::Sub {match.group(0)}"
            yield from references(item, item_line)
        else:
            yield from references(item, item_line)
