"""Render the self-contained HTML report from a run's ``results.json``.

The page is built only from the results mapping, never from live objects, so a report can be
re-rendered later (or on another machine) from the archived JSON and come out byte-identical.
:mod:`harness.report.view` shapes the mapping; the templates only lay it out.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from harness.report.signoff import UNSIGNED, SignOff
from harness.report.view import build_report

__all__ = ["render_html", "write_html"]

TEMPLATE = "report.html.j2"


# --- public API ---------------------------------------------------------------------------


def render_html(results: Mapping[str, Any], signoff: SignOff = UNSIGNED) -> str:
    """Render ``results`` (a parsed ``results.json``) as one self-contained HTML page.

    Deterministic: the same mapping always gives byte-identical output, because nothing
    reads the clock or the environment and everything without a given order is sorted.
    Optional keys may be absent; the page then says so instead of failing. ``signoff`` fills
    the sign-off block (only signoff.html has one; report.html is itself signed).
    """
    template = _environment().get_template(TEMPLATE)
    return template.render(report=build_report(results, signoff))


def write_html(results: Mapping[str, Any], path: Path, signoff: SignOff = UNSIGNED) -> Path:
    """Render ``results`` to ``path`` (parents created) and return the path written.

    The page goes to a sibling temporary file first and is then renamed over ``path``, so a
    reader (a CI artefact upload, a browser refresh) never sees half a report.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    # Bytes, not text mode: no newline translation, so the file is identical on every OS.
    partial.write_bytes(render_html(results, signoff).encode("utf-8"))
    partial.replace(path)
    return path


@functools.cache
def _environment() -> jinja2.Environment:
    """The one Jinja environment; templates ship in the ``reports`` package so installs match."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
