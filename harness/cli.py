"""The ``cutover`` command.

Exit codes (also in ``cutover --help``): 0 GO or GO WITH WAIVERS, 1 NO-GO, 2 usage or
configuration error (bad plan, unreachable database, wrong password…). A user mistake is
one line on stderr, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from harness.errors import EXIT_USAGE, HarnessError
from harness.install import DISTRIBUTION, check_packages
from harness.results.files import DEFAULT_REPORT_DIR
from harness.usage import fail, user_errors


class _Cutover(click.Group):
    """Click's usage errors as cutover's one line (click itself prints usage and a hint);
    capability commands are imported only when run, so ``cutover --help`` stays instant."""

    LAZY = {
        "aurora-iam": "harness.embedded.iam_command:aurora_iam",
        "check-signature": "harness.signoff.command:check_signature",
        "dsql-local": "harness.dsql_local.command:dsql_local",
        "dynamo": "harness.dynamo.command:dynamo",
        "keygen": "harness.signoff.command:keygen",
        "lint": "harness.lint.command:lint",
        "residue": "harness.residue.command:residue",
        "sign": "harness.signoff.command:sign",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, name = self.LAZY[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), name)
            return command
        return super().get_command(ctx, cmd_name)

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        *,
        standalone_mode: bool = True,
        **kwargs: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, standalone_mode=False, **kwargs)
        try:
            check_packages()  # before anything runs: never decide with another package's code
        except HarnessError as exc:
            fail(str(exc))
        try:
            code = super().main(args, prog_name, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            # A bare `cutover`: the help itself, as `cutover --help` prints it, but on stderr
            # and with exit 2 (click's convention): 0 means GO here, and a script that lost its
            # command must never pass.
            click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message(), err=True)
            sys.exit(EXIT_USAGE)
        except click.UsageError as exc:
            message = exc.format_message()
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            if isinstance(exc, click.NoSuchOption) and exc.ctx and exc.ctx.info_name == "verify":
                # Most likely a pytest option (-v, -k, -x): say where those go.
                message = message.rstrip(".")
                where = (
                    f"; pytest options go after --: cutover verify --plan PLAN -- {exc.option_name}"
                )
            fail(f"{message}{where}")
        except click.ClickException as exc:
            fail(exc.format_message())
        except click.Abort:
            click.echo("cutover: aborted", err=True)
            sys.exit(EXIT_USAGE)
        sys.exit(code if isinstance(code, int) else 0)


class _Workers(click.ParamType):  # type: ignore[type-arg]
    """pytest-xdist's ``-n``: a count or ``auto``/``logical``, checked before pytest starts."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if text in ("auto", "logical") or (text.isdigit() and int(text) >= 0):
            return text
        self.fail(f"{text!r} is not a worker count; use a number (0 = no workers) or 'auto'")


# Shared by verify and demo, which both end in a pytest run.
_WORKERS = click.option(
    "-n",
    "workers",
    type=_Workers(),
    default="0",
    show_default=True,
    help="pytest-xdist workers: a number or 'auto'.",
)


@click.group(
    cls=_Cutover,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 GO or GO WITH WAIVERS, 1 NO-GO, 2 usage or configuration error.",
)
@click.version_option(package_name=DISTRIBUTION)
def main() -> None:
    """Verify a database migration before cutover and write a report a reviewer signs off."""


@main.command(
    epilog="pytest options go after --, so cutover's own options and pytest's never mix: "
    "cutover verify --plan cutover.yaml -- -v -k schema",
)
@click.option(
    "--plan",
    "plan_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Verification plan (YAML).",
)
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_REPORT_DIR,
    show_default=True,
    help="Where results.json and report.html go.",
)
@_WORKERS
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- PYTEST_ARGS]...")
@user_errors
def verify(plan_path: Path, report_dir: Path, workers: str, pytest_args: tuple[str, ...]) -> None:
    """Run the stock scenarios against a plan (pytest options go after --)."""
    from harness.plan.load import load_plan
    from harness.report.output import writable_folder
    from harness.verify import run_scenarios

    try:
        load_plan(plan_path)  # fail fast, with the plan's own error, before pytest starts
    except HarnessError as exc:
        _leave_plan_error(plan_path, report_dir, str(exc))
        raise
    writable_folder(report_dir, option="--report-dir")  # and where it writes, before any check
    sys.exit(run_scenarios(plan_path, report_dir, workers=workers, extra=pytest_args))


def _leave_plan_error(plan_path: Path, report_dir: Path, message: str) -> None:
    """A plan that does not load still leaves a report folder CI can upload (results.json
    with one ``error`` check naming the plan's error, so NO-GO; junit.xml; summary.md), as a
    run that stops at its start does. Best effort: the plan's error is the one line the user
    sees, so a folder that cannot be claimed or written is left alone, silently."""
    from harness.plan.unloaded import plan_error_results
    from harness.report.folder import claimed, write_folder

    results = plan_error_results(plan_path, message)
    if results is None:
        return
    try:
        with claimed(report_dir):
            write_folder(results, report_dir)
    except (HarnessError, OSError):
        return


@main.command()
@click.option(
    "--to",
    "journey",
    type=click.Choice(["postgres", "dsql"]),
    default="postgres",
    show_default=True,
    help="postgres: SQLite app → PostgreSQL 16; dsql: Aurora PostgreSQL → a local Aurora DSQL.",
)
@click.option("--drift", is_flag=True, help="Seed realistic drift into the target first.")
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_REPORT_DIR,
    show_default=True,
    help="Where the demo database, plan and report go.",
)
@click.option(
    "--rows",
    "fact_rows",
    type=click.IntRange(min=0),
    default=None,
    help="Rows in the large fact table (default 200,000).",
)
@_WORKERS
@user_errors
def demo(journey: str, drift: bool, report_dir: Path, fact_rows: int | None, workers: str) -> None:
    """Migrate the demo application's database and verify it: SQLite → PostgreSQL 16, or
    (``--to dsql``) Aurora PostgreSQL → Aurora DSQL, both local."""
    if journey == "dsql":
        from harness.demo.dsql import run_dsql_demo as run
    else:
        from harness.demo.run import run_demo as run
    sys.exit(run(report_dir, drift=drift, fact_rows=fact_rows, workers=workers))


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("cutover.yaml"))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@user_errors
def init(path: Path, force: bool) -> None:
    """Write a commented plan template to PATH (default cutover.yaml).

    Its first line points editors (the YAML language server: VS Code, Neovim, JetBrains) at
    plan.schema.json, written beside it, so keys complete and typos show as you type.
    """
    from harness.plan.schema import plan_schema_text
    from harness.plan.template import PLAN_TEMPLATE, SCHEMA_NAME
    from harness.report.output import writable_file

    try:
        taken = path.is_file()
    except OSError:  # a folder above it this user cannot enter: writable_file names it
        taken = False
    if taken and not force:
        raise HarnessError(f"{path} already exists; use --force to overwrite it")
    writable_file(path, example="cutover.yaml")
    schema = path.with_name(SCHEMA_NAME)
    writable_file(schema, example=SCHEMA_NAME)
    path.write_text(PLAN_TEMPLATE, encoding="utf-8")
    # The schema is cutover's, not the user's: refreshed on every init to match this version.
    schema.write_text(plan_schema_text(), encoding="utf-8")
    click.echo(f"wrote {path}: edit source and target, then run `cutover verify --plan {path}`")
    click.echo(f"wrote {schema}: the plan's JSON Schema, for editors (see {path}'s first line)")


@main.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write only the HTML, to this file (default: every derived file beside RESULTS).",
)
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With a sign-off bundle beside RESULTS: verify it and show the outcome in signoff.html.",
)
@user_errors
def report(results: Path, output: Path | None, public_key: Path | None) -> None:
    """Re-render report.html, junit.xml, results.sarif and summary.md from a results.json.

    When a sign-off bundle (signoff.dsse.json) sits beside RESULTS, also write signoff.html:
    the report with the reviewer, decision, time and signature status filled in. report.html
    itself never changes after rendering, because the sign-off signs its bytes.
    """
    from harness.report.folder import rerender, write_signoff_page
    from harness.results.files import load_results

    if output is not None:
        from harness.report.html import write_html
        from harness.report.output import writable_file

        loaded = load_results(results)  # what to render, then where: both before rendering
        writable_file(output, option="-o", example="report.html", create_parents=True)
        write_html(loaded, output)
        click.echo(f"report: {output}")
        return
    written = rerender(results)
    kept = " (signed off: left as it is)" if written.html_kept else ""
    click.echo(f"report: {written.html}{kept}")
    for path in (written.junit, written.sarif, written.summary):
        click.echo(f"report: {path}")
    page = write_signoff_page(results, public_key=public_key)
    if page is not None:
        click.echo(f"report: {page}")


@main.command(name="schema")
@click.option(
    "--write",
    "write_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write plan.schema.json there instead of printing it.",
)
@user_errors
def schema_cmd(write_dir: Path | None) -> None:
    """Print the JSON Schema of the plan file (for editors and CI validation)."""
    from harness.plan.schema import plan_schema_text

    text = plan_schema_text()
    if write_dir is None:
        click.echo(text, nl=False)
        return
    from harness.report.output import writable_folder

    writable_folder(write_dir, option="--write")
    (write_dir / "plan.schema.json").write_text(text, encoding="utf-8")
    click.echo(f"wrote {write_dir / 'plan.schema.json'}")


if __name__ == "__main__":  # pragma: no cover
    main()
