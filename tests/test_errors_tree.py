"""The tree of error classes drawn in harness.errors' docstring names every one there is."""

from __future__ import annotations

import importlib
import pkgutil
import re

import harness
import harness.errors
from harness.errors import HarnessError


def all_subclasses(cls: type) -> set[type]:
    """Every class below ``cls``, however deep."""
    direct: list[type] = cls.__subclasses__()
    return {deeper for sub in direct for deeper in (sub, *all_subclasses(sub))}


def import_every_harness_module() -> None:
    for module in pkgutil.walk_packages(harness.__path__, prefix="harness."):
        importlib.import_module(module.name)


class TestErrorTree:
    def test_every_harness_error_subclass_is_drawn_in_the_errors_docstring(self) -> None:
        import_every_harness_module()
        subclasses = {
            cls for cls in all_subclasses(HarnessError) if cls.__module__.startswith("harness.")
        }
        assert subclasses, "found no subclass of HarnessError at all"
        missing = sorted(
            f"{cls.__name__} (in {cls.__module__})"
            for cls in subclasses
            if not re.search(rf"\b{cls.__name__}\b", harness.errors.__doc__ or "")
        )
        assert not missing, f"add to the tree in harness/errors.py: {', '.join(missing)}"
