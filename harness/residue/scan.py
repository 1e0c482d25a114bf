"""Walk the paths, pick the scanners each file needs, apply the allowlist.

Every text file gets the identifier layer; files whose format is known also get a structure
scanner (CloudFormation, CDK TypeScript/Python, Terraform). Binary files and vendored folders
are skipped.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path, PurePosixPath

import yaml

from harness.errors import HarnessError
from harness.iac import cfn as templates
from harness.iac.lexers import (
    C_LIKE,
    HASH,
    HCL,
    INI,
    NONE,
    SQL,
    Locator,
    Span,
    Syntax,
    blank,
    comment_spans,
    python_comment_spans,
)
from harness.residue import cdk, cfn, terraform
from harness.residue.hits import Context, Definition, Hit
from harness.residue.identifiers import Matcher
from harness.residue.settings import DEFAULT_EXCLUDE, AllowEntry, RetiredSettings
from harness.residue.terraform import plan_json

MAX_BYTES = 20_000_000
"""Larger files are reported as not scanned rather than read into memory."""

_SYNTAX_BY_SUFFIX: dict[str, Syntax] = {
    **dict.fromkeys((".tf", ".tfvars", ".hcl"), HCL),
    **dict.fromkeys(
        (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".go", ".java", ".kt", ".cs", ".rs"),
        C_LIKE,
    ),
    **dict.fromkeys((".yaml", ".yml", ".toml", ".sh", ".bash", ".zsh", ".rb", ".env", ".mk"), HASH),
    **dict.fromkeys((".ini", ".cfg", ".conf", ".properties"), INI),
    ".sql": SQL,
}
_PROSE = frozenset({".md", ".markdown", ".rst", ".txt", ".adoc"})
_HASH_NAMES = frozenset({"Dockerfile", "Makefile", "Procfile", "Jenkinsfile"})


class ScanPathError(HarnessError):
    """A path given to the scan does not exist or cannot be read."""

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class FileScan:
    """What one file holds: its hits and the databases it defines (for SC-001)."""

    path: str
    """As shown to the user: the given path joined with the file's relative path."""
    relative: str
    """Relative to the given path, POSIX-style: what allowlist globs match."""
    kind: str
    hits: tuple[Hit, ...] = ()
    definitions: tuple[Definition, ...] = ()
    flavour: str | None = None
    """Infrastructure code: ``cloudformation``, ``cdk``, ``terraform`` or ``terraform-plan``."""
    error: str | None = None
    sha256: str | None = None
    """Of the bytes scanned, so a sign-off can cover the exact file (see ``file_result``)."""
    resolved: str | None = None
    """Absolute path of the file (``path`` is for people)."""


@dataclass(frozen=True)
class Source:
    """A file to scan and the root it was found under."""

    path: Path
    root: Path
    label: str | None = None
    """How to show the path (a scenario shows it relative to the plan); default: ``path``."""

    @property
    def relative(self) -> str:
        if self.path == self.root:
            return self.path.name
        return PurePosixPath(self.path.relative_to(self.root).as_posix()).as_posix()

    @property
    def shown(self) -> str:
        return self.label or self.path.as_posix()


@dataclass
class _Walk:
    excludes: tuple[str, ...]
    seen: set[Path] = field(default_factory=set)


def discover(
    paths: Sequence[Path], settings: RetiredSettings, *, skip: Sequence[Path] = ()
) -> list[Source]:
    """Every file under ``paths`` that the scan reads, in a stable order.

    ``skip``: files never scanned — the plan itself, which must name every identifier of the
    retired cluster and would otherwise be its own finding when it lives in the scanned tree.
    """
    walk = _Walk(settings.exclude, {p.resolve() for p in skip})
    found: list[Source] = []
    for root in paths:
        if not root.exists():
            raise ScanPathError("no such file or folder", path=str(root))
        if root.is_file():
            if root.resolve() not in walk.seen:
                found.append(Source(root, root))
            continue
        found.extend(_walk(root, walk))
    return found


def short_names(sources: Sequence[Source]) -> list[Source]:
    """The same sources shown as ``<root folder name>/<path inside it>`` (``after/.env``),
    wherever the root is: what a report names, rather than an absolute path."""
    return [
        replace(s, label=s.path.name if s.path == s.root else f"{s.root.name}/{s.relative}")
        for s in sources
    ]


def _walk(root: Path, walk: _Walk) -> Iterator[Source]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in DEFAULT_EXCLUDE)
        for name in sorted(files):
            source = Source(Path(folder) / name, root)
            if source.path.resolve() in walk.seen or any(
                fnmatch.fnmatch(source.relative, glob) for glob in walk.excludes
            ):
                continue
            walk.seen.add(source.path.resolve())
            yield source


@dataclass(frozen=True)
class TreeFacts:
    """What the analyses of the whole tree found for one file (Terraform is read as a
    graph of modules across files, not file by file)."""

    hits: tuple[Hit, ...] = ()
    definitions: tuple[Definition, ...] = ()
    instances_retired: bool = False
    """CDK: every RDS instance the tree defines is retired (a typed parameter holds one)."""


def read_text(path: Path) -> str | None:
    """A file's text as the scan reads it; None when it is unreadable, too large or binary."""
    try:
        raw = path.read_bytes()[: MAX_BYTES + 1]
    except OSError:
        return None
    if len(raw) > MAX_BYTES or b"\0" in raw[:8192]:
        return None
    return raw.decode("utf-8", errors="replace")


def scan_file(
    source: Source,
    settings: RetiredSettings,
    matcher: Matcher | None = None,
    *,
    tree: TreeFacts | None = None,
) -> FileScan:
    """Scan one file; unreadable and binary files come back with ``error`` or no hits.

    ``tree``: for a ``.tf`` file, what the tree's Terraform analysis found in it (without,
    the file is read as a module of its own).
    """
    kind = _kind(source.path)
    try:
        raw = source.path.read_bytes()[: MAX_BYTES + 1]
    except OSError as exc:
        return FileScan(source.shown, source.relative, kind, error=f"cannot read: {exc.strerror}")
    if len(raw) > MAX_BYTES:
        return FileScan(source.shown, source.relative, kind, error="larger than 20 MB, not scanned")
    if b"\0" in raw[:8192]:
        return FileScan(source.shown, source.relative, "binary")
    text = raw.decode("utf-8", errors="replace")
    scan = scan_text(text, source.shown, source.relative, settings, matcher, tree=tree)
    digest = hashlib.sha256(raw).hexdigest()
    return replace(scan, sha256=digest, resolved=source.path.resolve().as_posix())


def scan_text(
    text: str,
    shown: str,
    relative: str,
    settings: RetiredSettings,
    matcher: Matcher | None = None,
    *,
    tree: TreeFacts | None = None,
) -> FileScan:
    """Scan one file's text as if it were at ``relative`` (its name picks the scanners)."""
    path = PurePosixPath(relative)
    kind = _kind(path)
    spans = _comment_spans(text, path)
    where = Locator(text, spans)
    hits = (matcher or Matcher(settings)).find(text, where)
    definitions: list[Definition] = []
    flavour: str | None = None
    error: str | None = None
    plan = None
    if path.suffix == ".json" and plan_json.MARKER in text[:4096]:
        try:
            plan = plan_json.read(text)
        except ValueError as exc:
            error = f"looks like `terraform show -json` output but does not parse: {exc}"
    if plan_json.is_plan(plan):
        kind = flavour = "terraform-plan"
        after = [
            (where.position(a), where.position(b)) for a, b in plan_json.after_state_spans(plan)
        ]
        hits = [h for h in hits if any(a <= (h.line, h.column) < b for a, b in after)]
        report = plan_json.analyse(plan, shown, text, settings)
        hits += report.hits.get(shown, [])
        definitions += report.definitions
    elif error is None and path.suffix in (".json", ".yaml", ".yml", ".template"):
        try:
            doc = templates.load(text, positions=True)
        except yaml.YAMLError as exc:
            doc = None
            if "AWS::" in text and "Resources" in text:
                error = f"looks like a CloudFormation template but does not parse: {exc}"
        if templates.resources(doc) is not None:
            kind = "serverless" if isinstance(doc, dict) and "service" in doc else "cloudformation"
            flavour = "cloudformation"
            definitions += cfn.definitions(doc, shown, settings)
        hits += cfn.scan(doc, settings)
    elif path.suffix == ".tf":
        flavour = "terraform"
        if tree is None:
            report = terraform.analyse([terraform.TfFile.read(shown, ".", text)], settings)
            tree = TreeFacts(tuple(report.hits.get(shown, [])), tuple(report.definitions))
        hits += tree.hits
        definitions += tree.definitions
    elif path.suffix in (".ts", ".tsx", ".js", ".mjs", ".cjs", ".py"):
        instances = tree is not None and tree.instances_retired
        found = (
            cdk.scan_python(text, settings, shown, instances_retired=instances)
            if path.suffix == ".py"
            else cdk.scan_typescript(
                blank(text, spans), where, settings, shown, instances_retired=instances
            )
        )
        hits += found.hits
        if found.app and "cdk.out" not in path.parts:
            flavour = "cdk"
            definitions += found.definitions
    hits = _unique(hits)
    hits = [_allow(hit, relative, settings.allow) for hit in hits]
    hits.sort(key=lambda h: (h.context is Context.COMMENT, h.line, h.column, h.rule))
    return FileScan(shown, relative, kind, tuple(hits), tuple(definitions), flavour, error)


def _kind(path: PurePosixPath | Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _PROSE:
        return "prose"
    if suffix in (".tf", ".tfvars", ".hcl"):
        return "terraform"
    if suffix in (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".py", ".go", ".java", ".sql"):
        return "code"
    return "config"


def _comment_spans(text: str, path: PurePosixPath) -> list[Span]:
    suffix = path.suffix.lower()
    if suffix in _PROSE:
        return [(0, len(text))]  # prose is read by people: everything in it is "comment"
    if suffix == ".py":
        return python_comment_spans(text)
    if path.name.startswith(".env") or path.name in _HASH_NAMES:
        return comment_spans(text, HASH)
    return comment_spans(text, _SYNTAX_BY_SUFFIX.get(suffix, NONE))


def _unique(hits: list[Hit]) -> list[Hit]:
    seen: set[tuple[str, int, int, str]] = set()
    out: list[Hit] = []
    for hit in hits:
        key = (hit.rule, hit.line, hit.column, hit.text)
        if key not in seen:
            seen.add(key)
            out.append(hit)
    return out


def _allow(hit: Hit, relative: str, entries: tuple[AllowEntry, ...]) -> Hit:
    today = date.today()
    for entry in entries:
        if entry.expires is not None and entry.expires < today:
            continue
        if fnmatch.fnmatch(relative, entry.path) and re.search(entry.pattern, hit.text):
            return replace(hit, allowed_by=entry)
    return hit
