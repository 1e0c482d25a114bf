"""What cutover installs, and the check that what runs is what it installed.

The distribution is **cutover-harness** (``cutover`` on PyPI is another project); the command
is ``cutover``. The wheel installs the repository's top-level packages as they are —
``harness``, ``reports``, ``scenarios``, ``schemas`` — and PyPI has unrelated distributions
with some of those import names (``harness``, ``reports``, ``scenarios``). Two distributions
with one import name in one environment overwrite each other's files, so cutover is meant to
be installed on its own (``pipx install cutover-harness``; the GitHub Action uses a private
venv): docs/install.md.

Isolation can still be undone (a folder on ``PYTHONPATH``, a package of the same name
installed into cutover's environment), and a foreign ``reports`` or ``schemas`` would change
what the report looks like or what results.json is validated against without a word. So
every ``cutover`` command first checks that each of its packages resolves beside
``harness``, and stops in one line if one does not: a check that cannot trust its own code
must not decide anything.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from harness.errors import HarnessError

DISTRIBUTION = "cutover-harness"
"""The name to ``pip``/``pipx install``; ``importlib.metadata`` knows cutover by it."""
PACKAGES = ("harness", "reports", "scenarios", "schemas")
"""The top-level import packages the wheel installs (pyproject.toml's packages.find)."""


def foreign_packages() -> dict[str, Path]:
    """Each of :data:`PACKAGES` that Python finds as another regular package (one with an
    ``__init__.py``) than the one beside ``harness``, with where it finds it.

    A folder without ``__init__.py`` (a repository's ``reports/`` of report output) is only
    a namespace portion; it is left alone here, so a command run from such a folder is not
    refused, and :func:`bind_packages` makes sure it is never imported in cutover's place."""
    home = Path(__file__).resolve().parent.parent
    foreign = {}
    for name in PACKAGES[1:]:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.has_location:
            continue  # not found at all, or a namespace portion: nothing of another's runs
        origin = Path(spec.origin).resolve()
        if origin.parent.parent != home:
            foreign[name] = origin.parent
    return foreign


def bind_packages() -> None:
    """Import cutover's own packages now, from beside ``harness``.

    Under ``python -m`` (and in pytest) the working directory is on ``sys.path`` ahead of an
    editable install's finder, so a ``reports/`` folder there — the default report folder,
    created by the run itself — would otherwise be imported as the ``reports`` package the
    report templates are loaded from. Bound first, the real one stays bound."""
    home = Path(__file__).resolve().parent.parent
    for name in PACKAGES[1:]:
        if name in sys.modules:
            continue
        init = home / name / "__init__.py"
        if not init.is_file():
            continue  # not installed beside harness: the import will say so where it is used
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(init.parent)]
        )
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


def check_packages() -> None:
    """Raise a one-line :class:`HarnessError` when a package of cutover's is not its own;
    otherwise bind them (:func:`bind_packages`)."""
    foreign = foreign_packages()
    if not foreign:
        bind_packages()
        return
    name, where = next(iter(foreign.items()))
    raise HarnessError(
        f"the '{name}' package Python finds ({where}) is not cutover's (which sits beside "
        f"{Path(__file__).resolve().parent}): another package or a folder on PYTHONPATH has "
        f"its name; install cutover on its own: pipx install {DISTRIBUTION} (docs/install.md)"
    )
