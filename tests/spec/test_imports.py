"""registry_impl's top-level parts import each other without a cycle, and importing them leaves global state alone.

The graph is read from the source (``ast``), so a cycle fails here even when import order happens to let it load:
every ``import`` counts, function-local ones included; only ``if TYPE_CHECKING:`` blocks are left out. A node is
a top-level subpackage or module of ``registry_impl`` (``api``, ``auth``, ``storage``, ``errors``, ...).
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import registry_impl

PACKAGE = "registry_impl"
ROOT = Path(registry_impl.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in _runtime_imports(ast.Module([child], [])))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _runtime_imports(node)


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    if base == PACKAGE:  # from registry_impl import errors
        return [f"{PACKAGE}.{alias.name}" for alias in node.names]
    return [base]


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == PACKAGE and len(parts) > 1 else None


def import_graph() -> dict[str, dict[str, str]]:
    """``{part: {imported part: a file that imports it}}`` over registry_impl's top-level parts."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        source = _top(module)
        if source is None:
            continue
        graph.setdefault(source, {})
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(module, path.name == "__init__.py", node):
                part = _top(target)
                if part is not None and part != source:
                    graph[source].setdefault(part, str(path.relative_to(ROOT.parent)))
    return graph


def find_cycle(graph: dict[str, dict[str, str]]) -> list[str]:
    """One cycle as ``[a, b, ..., a]``, or ``[]``."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def test_no_import_cycle_among_top_level_parts() -> None:
    graph = import_graph()
    assert {"api", "auth", "storage", "errors"} <= set(graph)
    cycle = find_cycle(graph)
    edges = [f"{a} -> {b} ({graph[a][b]})" for a, b in itertools.pairwise(cycle)]
    assert not cycle, "import cycle: " + "; ".join(edges)


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b": "x"}, "b": {"c": "y"}, "c": {"a": "z"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": "x"}, "b": {}}) == []


def test_importing_the_server_leaves_the_warnings_filters_alone() -> None:
    probe = (
        "import warnings; before = list(warnings.filters); "
        "import registry_impl, registry_impl.errors, registry_impl.api.app, registry_impl.auth; "
        "assert warnings.filters == before, warnings.filters[: len(warnings.filters) - len(before)]"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
