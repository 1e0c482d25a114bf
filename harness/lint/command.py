"""``cutover lint PATH…``: the DSQL compatibility lint as a click command.

Exit codes: 0 nothing at or above ``--fail-on`` is left unsuppressed, 1 there is, 2 usage
error (one line on stderr: ``cutover: error: …``, never a traceback).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from harness.errors import HarnessError

EXIT_USAGE = 2
FORMATS = ("text", "json", "sarif", "github")


class _OneLineUsageError(click.UsageError):
    """Click's usage errors print the usage block; the harness prints one line."""

    def show(self, file: Any = None) -> None:
        click.echo(f"cutover: error: {self.format_message()}", err=True)


class _LintCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _OneLineUsageError(exc.format_message(), ctx) from None


@click.command(
    name="lint",
    cls=_LintCommand,
    epilog="Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error. "
    "Suppress one finding with `-- cutover: ignore[DSQL050] reason` (reason required).",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--target", type=click.Choice(["dsql"]), default="dsql", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--fix", is_flag=True, help="Write a rewritten copy (<name>.dsql.sql) of each SQL file."
)
@click.option(
    "--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True
)
@click.option(
    "--dialect", type=click.Choice(["postgres", "sqlite"]), default="postgres", show_default=True
)
@click.option("--assume-in-transaction", is_flag=True, help="Treat each file as one transaction.")
@click.option("--no-app-code", is_flag=True, help="In folders, read only .sql files.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: all cores).",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None, help="Write the report here."
)
def lint(
    paths: tuple[Path, ...],
    target: str,
    fmt: str,
    fix: bool,
    fail_on: str,
    dialect: str,
    assume_in_transaction: bool,
    no_app_code: bool,
    jobs: int | None,
    output: Path | None,
) -> None:
    """Check SQL files, migration folders and application code against Aurora DSQL
    (``-`` reads SQL from standard input)."""
    try:
        sys.exit(
            _run(
                paths,
                fmt,
                fix,
                fail_on,
                dialect,
                assume_in_transaction,
                not no_app_code,
                jobs,
                output,
            )
        )
    except HarnessError as exc:
        click.echo(f"cutover: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


def _run(
    paths: tuple[Path, ...],
    fmt: str,
    fix: bool,
    fail_on: str,
    dialect: str,
    assume_in_transaction: bool,
    app_code: bool,
    jobs: int | None,
    output: Path | None,
) -> int:
    from harness.lint.api import lint_paths
    from harness.lint.formats import github, text, to_json
    from harness.lint.report import FailOn
    from harness.lint.settings import LintSettings

    if not paths:
        raise HarnessError("give at least one SQL file, migration folder or source folder to lint")
    from harness.report.output import writable_file, writable_folder

    if output is not None:  # before linting, so a bad -o is one line at once, not after the work
        writable_file(output, option="-o", example="lint.txt", create_parents=True)
    from harness.lint.sources import is_stream

    if fix and any(is_stream(p) for p in paths):
        raise HarnessError("--fix writes beside each file, and a pipe has no folder; lint a file")
    if fix:  # --fix writes <name>.dsql.sql beside each file: those folders, checked up front
        for folder in sorted({p if p.is_dir() else p.parent for p in paths}):
            writable_folder(folder, option="--fix", create=False, fix="lint a copy instead")
    settings = LintSettings(
        paths=paths,
        dialect=dialect,
        fail_on=FailOn(fail_on),
        assume_in_transaction=assume_in_transaction,
        app_code=app_code,
    )
    report = lint_paths(settings.paths, settings, jobs=jobs)
    threshold = FailOn(fail_on)
    renderers = {"json": to_json, "sarif": _sarif, "github": github}
    body = text(report, fail_on=threshold) if fmt == "text" else renderers[fmt](report)
    if output is None:
        click.echo(body, nl=False)
    else:
        output.write_text(body, encoding="utf-8")
    if not fix:
        return report.exit_code(threshold)
    return _write_fixes(report, settings, threshold)


def _sarif(report: Any) -> str:
    """The report through the one SARIF writer a run's results.sarif uses too, paths relative
    to the repository root (found from the working folder; ``CUTOVER_SOURCE_ROOT`` overrides)."""
    from harness.report.formats.findings import sarif_from_lint
    from harness.report.formats.root import find_source_root
    from harness.report.formats.sarif import sarif_json
    from harness.results.record import harness_version

    root = find_source_root(Path.cwd())
    return sarif_json(sarif_from_lint(report, root=root, version=harness_version()))


def _write_fixes(report: Any, settings: Any, threshold: Any) -> int:
    from harness.lint.engine import lint_sql
    from harness.lint.fix import fix_text
    from harness.lint.sources import FIXED_SUFFIX

    remaining = 0
    for file in report.files:
        if file.source != "sql":
            remaining += sum(f.counts_at(threshold) for f in file.findings)
            continue
        path = Path(file.path)
        original = path.read_text(encoding="utf-8")
        fixed, applied, changing = fix_text(original, file)
        after = lint_sql(fixed, path=file.path, dialect=settings.dialect) if applied else file
        after = replace(after, findings=tuple(f for f in after.findings if f.counts_at(threshold)))
        remaining += len(after.findings)
        if not applied:
            continue
        target = path.with_name(path.name.rsplit(".", 1)[0] + FIXED_SUFFIX)
        target.write_text(fixed, encoding="utf-8")
        review = (
            f"; review {', '.join(sorted(set(changing)))} (behaviour changes)" if changing else ""
        )
        click.echo(f"fixed: {path} → {target} ({applied} rewrite(s){review})", err=True)
    return 1 if remaining else 0
