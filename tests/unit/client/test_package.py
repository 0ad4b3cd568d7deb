"""The client package's surface: exports exactly ``__all__``, imports nothing but registry_spec, httpx and stdlib."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import registry_client as client

PACKAGE = Path(client.__file__).parent
ALLOWED = {"registry_spec", "httpx"}


def test_all_names_exist_and_nothing_else_public_is_exported() -> None:
    assert sorted(client.__all__) == sorted(set(client.__all__))
    for name in client.__all__:
        assert hasattr(client, name), name


def test_imports_only_the_spec_httpx_and_the_standard_library() -> None:
    for module in PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if name.startswith("registry_client") or top in ALLOWED or top == "__future__":
                    continue
                assert top in sys.stdlib_module_names, f"{module.name} imports {name}"
