"""Terraform (HCL): RDS cluster resources, what serves them, and what refers to them.

A careful tokenizer rather than a full HCL parser (python-hcl2 loses line numbers): the file's
comments are blanked first, then top-level blocks are found by their header and balanced
braces (skipping strings and heredocs), and references are ``type.name`` addresses inside a
block's body — the only syntax Terraform has for one resource to use another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.residue.hits import Context, Hit
from harness.residue.lexers import Locator

SERVING_TYPES = frozenset(
    {
        "aws_db_subnet_group",
        "aws_db_parameter_group",
        "aws_db_proxy",
        "aws_db_proxy_default_target_group",
        "aws_db_proxy_target",
        "aws_db_proxy_endpoint",
        "aws_db_event_subscription",
        "aws_secretsmanager_secret",
        "aws_secretsmanager_secret_version",
        "aws_secretsmanager_secret_rotation",
    }
)
"""Types that exist only for a database: flagged when connected to a retired one."""

_HEADER = re.compile(r"^[ \t]*(resource|data|module|output|locals|variable)\b([^{\n]*)\{", re.M)
_LABEL = re.compile(r'"([^"]*)"')
_ADDRESS = re.compile(
    r"(?<![\w.])((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z_][\w-]*|module\.[A-Za-z_][\w-]*)"
)
_ENGINE = re.compile(r'^\s*engine\s*=\s*"(aurora[^"]*)"', re.M)
_SOURCE = re.compile(r'^\s*source\s*=\s*"([^"]*)"', re.M)


@dataclass(frozen=True)
class Block:
    """One top-level block: ``resource "aws_rds_cluster" "db" { … }``."""

    kind: str
    labels: tuple[str, ...]
    start: int
    body: str
    body_start: int

    @property
    def address(self) -> str:
        if self.kind == "resource" and len(self.labels) == 2:
            return ".".join(self.labels)
        if self.kind == "data" and len(self.labels) == 2:
            return "data." + ".".join(self.labels)
        if self.kind == "module" and self.labels:
            return f"module.{self.labels[0]}"
        return f"{self.kind} {' '.join(self.labels)}".strip()

    @property
    def type(self) -> str:
        return self.labels[0] if self.kind in ("resource", "data") and self.labels else ""


def blocks(code: str) -> list[Block]:
    """Top-level blocks of HCL whose comments are already blanked."""
    found: list[Block] = []
    position = 0
    while match := _HEADER.search(code, position):
        end = _closing_brace(code, match.end())
        labels = tuple(_LABEL.findall(match.group(2)))
        found.append(
            Block(match.group(1), labels, match.start(), code[match.end() : end], match.end())
        )
        position = end + 1
    return found


def _closing_brace(code: str, i: int) -> int:
    depth = 1
    while i < len(code):
        ch = code[i]
        if ch == '"':
            i += 1
            while i < len(code) and code[i] not in '"\n':
                i += 2 if code[i] == "\\" else 1
        elif code.startswith("<<", i) and (heredoc := re.match(r"<<-?(\w+)\n", code[i:])):
            tail = re.search(rf"^\s*{heredoc.group(1)}\s*$", code[i + heredoc.end() :], re.M)
            i += heredoc.end() + (tail.end() if tail else len(code))
            continue
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(code)


def _is_retired(block: Block) -> bool:
    if block.type.startswith(("aws_rds_cluster", "aws_rds_global_cluster")):
        return True
    if block.type == "aws_db_instance":
        return bool(_ENGINE.search(block.body))
    if block.kind == "module":
        source = _SOURCE.search(block.body)
        return bool(source and "rds-aurora" in source.group(1))
    return False


def scan(code: str, where: Locator) -> list[Hit]:
    """RES301 to RES303 hits of one Terraform file (``code`` has its comments blanked)."""
    all_blocks = blocks(code)
    refs = {
        b.address: [(m.group(1), b.body_start + m.start()) for m in _ADDRESS.finditer(b.body)]
        for b in all_blocks
    }
    retired = {b.address for b in all_blocks if _is_retired(b)}
    serving: set[str] = set()
    changed = bool(retired)
    while changed:
        changed = False
        flagged = retired | serving
        for block in all_blocks:
            if block.address in flagged or block.type not in SERVING_TYPES:
                continue
            points_at = any(_target(a) in flagged for a, _ in refs[block.address])
            pointed_at = any(
                _target(a) == block.address for f in flagged for a, _ in refs.get(f, [])
            )
            if points_at or pointed_at:
                serving.add(block.address)
                changed = True
    hits: list[Hit] = []
    flagged = retired | serving
    for block in all_blocks:
        line, column = where.position(block.start)
        if block.address in flagged:
            what = "defines the retired database" if block.address in retired else "serves it"
            hits.append(
                Hit(
                    "RES301" if block.address in retired else "RES302",
                    line,
                    column,
                    f'{block.kind} "{block.labels[0] if block.labels else ""}"',
                    Context.CODE,
                    f"{block.address} {what}",
                )
            )
            continue
        for address, offset in refs[block.address]:
            if _target(address) in flagged:
                ref_line, ref_column = where.position(offset)
                hits.append(
                    Hit(
                        "RES303",
                        ref_line,
                        ref_column,
                        address,
                        Context.CODE,
                        f"{block.address} refers to retired {_target(address)}",
                    )
                )
    return hits


def _target(address: str) -> str:
    """``aws_rds_cluster.db.endpoint`` → ``aws_rds_cluster.db`` (the block it names)."""
    parts = address.split(".")
    keep = 3 if parts[0] == "data" else 2
    return ".".join(parts[:keep])
