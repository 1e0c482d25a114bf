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
    a namespace portion, which an installed regular package always wins over; it is left
    alone here, so a command run from such a folder is not refused."""
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


def check_packages() -> None:
    """Raise a one-line :class:`HarnessError` when a package of cutover's is not its own."""
    foreign = foreign_packages()
    if not foreign:
        return
    name, where = next(iter(foreign.items()))
    raise HarnessError(
        f"the '{name}' package Python finds ({where}) is not cutover's (which sits beside "
        f"{Path(__file__).resolve().parent}): another package or a folder on PYTHONPATH has "
        f"its name; install cutover on its own: pipx install {DISTRIBUTION} (docs/install.md)"
    )
