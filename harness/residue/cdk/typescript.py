"""Read a CDK app's TypeScript or JavaScript into an :class:`~harness.residue.cdk.model.Extract`.

There is no TypeScript parser in the standard library, so this is a pass of regular
expressions over tokens, made safe by two blanked copies of the file: comments are blanked
before it is called, and :func:`_bare` blanks the text of string literals (keeping template
literals' ``${…}``), so a name inside a string is never a use and a parenthesis inside one
never ends a call. A name counts only when it comes from the module the file imported it
from (``import * as rds``, ``import { DatabaseCluster as Db }``, ``import { aws_rds as rds }
from 'aws-cdk-lib'``…), so a ``DatabaseCluster`` of some other library is not a finding.
"""

from __future__ import annotations

import re

from harness.iac.lexers import Locator
from harness.residue.cdk.model import (
    CONSTRUCTS,
    ENGINE_CLASSES,
    ENGINE_MEMBERS,
    INSTANCES,
    MODULES,
    Call,
    Extract,
    PolicyStatement,
    Prop,
    Use,
)
from harness.residue.hits import Context, Hit
from harness.residue.iam import Item

_LIB = r"""['"](?:aws-cdk-lib/|@aws-cdk/)(aws-[\w-]+)['"]"""
_NAMESPACE = re.compile(
    r"import\s+\*\s+as\s+(\w+)\s+from\s*"
    + _LIB
    + r"|(?:const|let|var)\s+(\w+)\s*=\s*require\(\s*"
    + _LIB
    + r"\s*\)"
)
_NAMED = re.compile(r"import\s*\{([^}]*)\}\s*from\s*" + _LIB)
_FROM_LIB = re.compile(r"""import\s*\{([^}]*)\}\s*from\s*['"]aws-cdk-lib['"]""")
_LIB_NAMESPACE = re.compile(r"""import\s+\*\s+as\s+(\w+)\s+from\s*['"]aws-cdk-lib['"]""")
_APP = re.compile(r"""(?:from\s*|require\(\s*)['"](?:aws-cdk-lib|@aws-cdk/)""")
_BINDING = re.compile(
    r"(?:(?:const|let|var)\s+(\w+)|this\s*\.\s*(\w+)|(?:readonly|private|public|protected)\s+(\w+))"
    r"\s*(?::[^=;]+)?=\s*$"
)
_ID = re.compile(r"""\(\s*[\w.]+\s*,\s*(['"`])([^'"`\n]*)\1""")
_PROP = re.compile(r"(?<![\w$])(removalPolicy|deletionProtection)\s*:\s*([^,}\n]+)")
_TYPED = r"(\w+)\??\s*:\s*{ns}\s*\.\s*(\w+)\b"


def read(code: str, where: Locator) -> Extract:
    """The CDK content of one file; ``code`` has its comments blanked."""
    bare = _bare(code)
    extract = Extract(app=bool(_APP.search(code)))
    namespaces: dict[str, str] = {}
    members: dict[str, tuple[str, str]] = {}
    for match in _NAMESPACE.finditer(code):
        module = _module(match.group(2) or match.group(4))
        if module:
            namespaces[match.group(1) or match.group(3)] = module
            _import_hit(extract, module, match.start(), match.group(0), where)
    for match in _NAMED.finditer(code):
        module = _module(match.group(2))
        if module:
            members.update({k: (module, v) for k, v in _names(match.group(1)).items()})
            _import_hit(extract, module, match.start(), match.group(0), where)
    for match in _FROM_LIB.finditer(code):
        for local, member in _names(match.group(1)).items():
            if member in MODULES:
                namespaces[local] = MODULES[member]
                _import_hit(extract, MODULES[member], match.start(), match.group(0), where)
    for match in _LIB_NAMESPACE.finditer(code):
        for member, module in MODULES.items():
            namespaces[f"{match.group(1)}.{member}"] = module
    _mentions(extract, bare, namespaces, members, where)
    _calls(extract, code, bare, namespaces, members, where)
    _uses(extract, bare, namespaces, where)
    for match in _PROP.finditer(bare):
        line, column = where.position(match.start())
        value = code[match.start(2) : match.end(2)].strip()
        extract.props.append(
            Prop(match.group(1), value, match.start(), line, column, f"{match.group(1)}: {value}")
        )
    extract.statements = [
        s for c in extract.calls if (s := _statement(c, code, bare, where)) is not None
    ]
    return extract


def _module(name: str) -> str | None:
    return MODULES.get(name.replace("-", "_"))


def _names(block: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for part in block.split(","):
        words = part.split()
        if len(words) == 3 and words[1] == "as":
            names[words[2]] = words[0]
        elif len(words) == 1:
            names[words[0]] = words[0]
    return names


def _import_hit(extract: Extract, module: str, offset: int, text: str, where: Locator) -> None:
    if module == "rds":
        line, column = where.position(offset)
        extract.imports.append(
            Hit(
                "RES203",
                line,
                column,
                " ".join(text.split()),
                Context.CODE,
                "imports the RDS module",
            )
        )


def _mentions(
    extract: Extract,
    bare: str,
    namespaces: dict[str, str],
    members: dict[str, tuple[str, str]],
    where: Locator,
) -> None:
    """RES201 and RES202 wherever an RDS cluster member or the Aurora engine is named."""
    heads = [re.escape(ns) + r"\s*\.\s*(\w+)" for ns, m in sorted(namespaces.items()) if m == "rds"]
    rds_locals = sorted(k for k, (m, _v) in members.items() if m == "rds")
    if rds_locals:
        heads.append(r"\b(" + "|".join(re.escape(n) for n in rds_locals) + r")\b")
    import_lines = {h.line for h in extract.imports}
    for head in heads:
        for match in re.finditer(r"(?<![\w.])" + head + r"(?:\s*\.\s*(\w+))?", bare):
            member = members.get(match.group(1), ("rds", match.group(1)))[1]
            line, column = where.position(match.start())
            if line in import_lines:
                continue  # a named import lists its members: the import is reported once
            text = " ".join(match.group(0).split())
            if member in CONSTRUCTS:
                extract.mentions.append(
                    Hit("RES201", line, column, text, Context.CODE, f"RDS construct {member}")
                )
            elif member in ENGINE_CLASSES or (
                member == "DatabaseClusterEngine" and match.group(2) in ENGINE_MEMBERS
            ):
                extract.mentions.append(
                    Hit("RES202", line, column, text, Context.CODE, f"Aurora engine {text}")
                )
    for name, member in _typed(bare, namespaces):
        if member in CONSTRUCTS:
            extract.typed[name] = f"props.{name}"
        else:
            extract.typed_instances[name] = f"props.{name}"


def _typed(bare: str, namespaces: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for ns, module in namespaces.items():
        if module != "rds":
            continue
        for match in re.finditer(_TYPED.format(ns=re.escape(ns)), bare):
            if match.group(2) in CONSTRUCTS | INSTANCES:
                found.append((match.group(1), match.group(2)))
    return found


def _calls(
    extract: Extract,
    code: str,
    bare: str,
    namespaces: dict[str, str],
    members: dict[str, tuple[str, str]],
    where: Locator,
) -> None:
    patterns = [
        (re.escape(ns) + r"\s*\.\s*(\w+)", module) for ns, module in sorted(namespaces.items())
    ]
    patterns += [
        (r"\b(" + re.escape(local) + r")\b", m) for local, (m, _v) in sorted(members.items())
    ]
    for head, module in patterns:
        call = re.compile(
            r"(?<![\w.$])(new\s+)?(" + head + r")(?:\s*\.\s*(\w+))?\s*(?:<[^>()]*>)?\s*\("
        )
        for match in call.finditer(bare):
            member = members.get(match.group(3), (module, match.group(3)))[1]
            opening = match.end() - 1
            end = _paren_end(bare, opening)
            line, column = where.position(match.start(2))
            text = " ".join(match.group(2).split()) + (
                f".{match.group(4)}" if match.group(4) else ""
            )
            bound = _BINDING.search(bare, max(0, match.start() - 200), match.start())
            var = None
            if bound is not None:
                var = bound.group(1) or (f"this.{bound.group(2) or bound.group(3)}")
            ident = _ID.match(code, opening)
            extract.calls.append(
                Call(
                    module,
                    member,
                    match.group(4),
                    match.start(),
                    end,
                    line,
                    column,
                    text,
                    var,
                    ident.group(2) if ident else None,
                    _plain_args(bare, opening + 1, end - 1),
                    code[match.start() : end],
                )
            )


def _plain_args(bare: str, start: int, end: int) -> tuple[str, ...]:
    names = []
    for part in _split(bare, start, end):
        text = bare[part[0] : part[1]].strip()
        if re.fullmatch(r"[A-Za-z_$][\w$]*|this\s*\.\s*\w+", text):
            names.append(re.sub(r"\s+", "", text))
    return tuple(names)


def _uses(extract: Extract, bare: str, namespaces: dict[str, str], where: Locator) -> None:
    """Where each variable holding a call (and each typed prop) is used."""
    names: dict[str, int] = {}
    for call in extract.calls:
        if call.var is not None:
            names.setdefault(call.var, call.end if not call.var.startswith("this.") else 0)
    for typed in (*extract.typed.values(), *extract.typed_instances.values()):
        names.setdefault(typed, 0)
    for name, after in names.items():
        pattern = r"\s*\.\s*".join(re.escape(p) for p in name.split("."))
        regex = re.compile(r"(?<![\w.$])" + pattern + r"\b(?!\s*[:=][^=])((?:\s*\.\s*\w+)*)")
        for match in regex.finditer(bare, after):
            line, column = where.position(match.start())
            tail = re.sub(r"\s+", "", match.group(1))
            extract.uses.append(Use(name, match.start(), line, column, tail))


def _statement(call: Call, code: str, bare: str, where: Locator) -> PolicyStatement | None:
    if call.module != "iam" or call.member != "PolicyStatement" or call.method is not None:
        return None
    body = bare[call.start : call.end]
    if re.search(r"effect\s*:\s*[\w.]*DENY", body):
        return None
    lists: dict[str, tuple[Item, ...]] = {}
    for key in ("actions", "resources"):
        match = re.search(r"(?<![\w$])" + key + r"\s*:\s*\[", body)
        if match is None:
            continue
        opening = call.start + match.end() - 1
        end = _paren_end(bare, opening)
        lists[key] = tuple(
            _item(code, bare, a, b, where) for a, b in _split(bare, opening + 1, end - 1)
        )
    return PolicyStatement(call.start, lists.get("actions", ()), lists.get("resources", ()))


def _item(code: str, bare: str, start: int, end: int, where: Locator) -> Item:
    while start < end and code[start].isspace():
        start += 1
    text = code[start:end].strip()
    line, column = where.position(start)
    if len(text) >= 2 and text[0] in "'\"`" and text[-1] == text[0]:
        literal = text[1:-1]
        refs = frozenset(re.findall(r"\$\{\s*((?:this\.|props\.)?\w+)", literal))
        return Item(literal, line, column, refs)
    refs = frozenset(
        re.findall(r"(?<![\w.$])((?:this\s*\.\s*|props\s*\.\s*)?\w+)", bare[start:end])
    )
    return Item(text, line, column, frozenset(r.replace(" ", "") for r in refs))


def _split(bare: str, start: int, end: int) -> list[tuple[int, int]]:
    """Top-level comma-separated parts of ``bare[start:end]``."""
    parts: list[tuple[int, int]] = []
    depth, part = 0, start
    for i in range(start, end):
        ch = bare[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append((part, i))
            part = i + 1
    if bare[part:end].strip():
        parts.append((part, end))
    return parts


def _paren_end(bare: str, opening: int) -> int:
    """Offset just past the bracket matching the one at ``opening``."""
    depth = 0
    for i in range(opening, len(bare)):
        ch = bare[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(bare)


def _bare(code: str) -> str:
    """``code`` with string and template-literal text blanked (``${…}`` kept), same length."""
    out = list(code)
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch in "'\"":
            i = _blank_string(code, out, i + 1, ch)
        elif ch == "`":
            i = _blank_template(code, out, i + 1)
        else:
            i += 1
    return "".join(out)


def _blank_string(code: str, out: list[str], i: int, quote: str) -> int:
    n = len(code)
    while i < n:
        ch = code[i]
        if ch == "\\":
            out[i] = " "
            if i + 1 < n and code[i + 1] != "\n":
                out[i + 1] = " "
            i += 2
            continue
        if ch == quote or ch == "\n":
            return i + 1
        out[i] = " "
        i += 1
    return n


def _blank_template(code: str, out: list[str], i: int) -> int:
    n = len(code)
    while i < n:
        ch = code[i]
        if ch == "\\":
            out[i] = " "
            i += 2
            continue
        if ch == "`":
            return i + 1
        if code.startswith("${", i):
            depth = 1
            i += 2
            while i < n and depth:
                if code[i] in "'\"":
                    i = _blank_string(code, out, i + 1, code[i])
                    continue
                if code[i] == "`":
                    i = _blank_template(code, out, i + 1)
                    continue
                depth += {"{": 1, "}": -1}.get(code[i], 0)
                i += 1
            continue
        if ch != "\n":
            out[i] = " "
        i += 1
    return n
