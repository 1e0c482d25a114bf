"""Specification of the package layout: the folder list shows the stream, imports never circle,
and scenario modules hold only their tests (the capability registry parametrizes them)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.capabilities import BUILT_IN_AREAS, CAPABILITIES

REPO = Path(__file__).resolve().parents[1]
HARNESS = REPO / "harness"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in HARNESS.rglob("*.py")}


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (never executed)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def _loaded(name: str) -> list[str]:
    """The harness modules importing ``name`` executes: the module and each package above it."""
    parts = name.split(".")
    return [m for i in range(1, len(parts) + 1) if (m := ".".join(parts[:i])) in MODULES]


def import_graph() -> dict[str, set[str]]:
    """Module → the harness modules it imports, at module level or inside functions alike.

    A module's own packages are left out: they are already importing when it runs.
    """
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets.update(_loaded(alias.name))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    name = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    name = node.module or ""
                targets.update(_loaded(name))
                for alias in node.names:  # from package import submodule
                    targets.update(_loaded(f"{name}.{alias.name}"))
        graph[module] = {t for t in targets if t != module and not module.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


class TestLayout:
    def test_no_harness_module_imports_itself_through_a_circle(self) -> None:
        assert cycles(import_graph()) == []

    def test_the_cycle_finder_finds_a_planted_circle(self) -> None:
        graph = import_graph()
        graph["harness.plan.model"] = {*graph["harness.plan.model"], "harness.plan.load"}
        assert ["harness.plan.load", "harness.plan.model"] in cycles(graph)

    def test_the_top_level_holds_at_most_ten_modules(self) -> None:
        top = sorted(p.name for p in HARNESS.glob("*.py"))
        assert len(top) <= 10, top

    @pytest.mark.parametrize("path", sorted((REPO / "scenarios").glob("test_*.py")), ids=str)
    def test_scenario_modules_hold_only_their_tests(self, path: Path) -> None:
        names = {
            node.name
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef)
        }
        assert "pytest_generate_tests" not in names


class TestRegistry:
    def test_every_capability_argument_is_taken_by_a_scenario(self) -> None:
        source = "\n".join(p.read_text() for p in (REPO / "scenarios").glob("test_*.py"))
        for capability in CAPABILITIES:
            for items in capability.items:
                assert f"{items.argname}:" in source, (capability.area, items.argname)

    def test_an_argument_shared_by_capabilities_is_one_builder(self) -> None:
        by_name: dict[str, object] = {}
        for capability in CAPABILITIES:
            for items in capability.items:
                assert by_name.setdefault(items.argname, items) is items

    def test_every_section_is_a_plan_key(self) -> None:
        from harness.plan.model import Plan

        for capability in CAPABILITIES:
            assert capability.section is None or capability.section in Plan.model_fields

    def test_the_report_order_is_the_registry_order(self) -> None:
        assert BUILT_IN_AREAS[:4] == ("connectivity", "schema", "row_count", "rows")
        assert len(set(BUILT_IN_AREAS)) == len(BUILT_IN_AREAS)
