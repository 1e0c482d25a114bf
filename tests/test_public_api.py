"""Specification of the public surface: ``harness.__all__`` is the stable API, and only it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import harness


def test_the_public_names_are_listed_in_all() -> None:
    assert isinstance(harness.__all__, list | tuple)
    assert harness.__all__, "harness/__init__.py re-exports the stable API in __all__"


def test_all_is_sorted_without_duplicates() -> None:
    assert list(harness.__all__) == sorted(set(harness.__all__))


def test_every_lazily_imported_name_is_listed() -> None:
    assert set(harness._MODULE_OF) == set(harness.__all__)


@pytest.mark.parametrize("name", harness.__all__)
def test_each_listed_name_resolves_to_a_documented_harness_object(name: str) -> None:
    value = getattr(harness, name)
    assert getattr(value, "__module__", "").startswith("harness.")
    assert (value.__doc__ or "").strip(), f"harness.{name} needs a docstring"


@pytest.mark.parametrize("name", harness.__all__)
def test_each_listed_name_is_importable_from_the_package(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from harness import {name}", namespace)  # the name comes from __all__
    assert namespace[name] is getattr(harness, name)


def test_nothing_else_is_public_by_accident() -> None:
    # In a fresh interpreter, so only what harness/__init__.py itself offers is seen; submodules
    # (harness.plan, harness.checks, …) are reachable as attributes but are not the API.
    probe = (
        "import json, types, harness\n"
        "print(json.dumps(sorted(n for n in dir(harness)\n"
        "    if not n.startswith('_') and not isinstance(getattr(harness, n), types.ModuleType))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == sorted(harness.__all__)
