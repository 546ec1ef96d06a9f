"""The package's import graph: no cycles among its modules, and no heavy library behind `import ovmer`.

The graph is read from the source with `ast`: an edge A -> B for every import of
ovmer module B written at module level in A (function bodies, which run later,
and `if TYPE_CHECKING:` blocks, which never run, do not count).
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import sys
from collections.abc import Iterator
from pathlib import Path

import ovmer

PACKAGE_DIR = Path(ovmer.__file__).resolve().parent
HEAVY = ("torch", "transformers", "vllm", "ray")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.If) and is_type_checking(node.test):
            pending.extend(node.orelse)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(node, field, []) or []:
                    pending.extend(child.body if isinstance(child, (ast.ExceptHandler, ast.match_case)) else [child])


def imported_names(name: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Fully qualified names an import statement in module `name` imports."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = node.module or ""
    if node.level:
        package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    yield base
    for alias in node.names:
        yield f"{base}.{alias.name}"


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for node in module_level_imports(tree):
            for target in imported_names(name, node):
                # `from pkg import name`: name is a submodule, or an attribute of pkg.
                if target in MODULES and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def third_party_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    tops = set()
    for node in module_level_imports(tree):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return tops


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a closed path) per strongly connected component that has one (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [shortest_cycle(graph, component) for component in components]


def shortest_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """The shortest closed path through the component's first module (breadth-first)."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & members):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def test_the_graph_reader_resolves_relative_and_from_imports() -> None:
    graph = import_graph()
    assert "ovmer" in graph and "ovmer.registry" in graph
    assert any(graph.values()), "no import between the package's modules was found"
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_the_packages_modules() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def needs_heavy_extra(graph: dict[str, set[str]]) -> set[str]:
    """Modules that import a heavy library at module level, directly or through another ovmer module."""
    heavy = {name for name, path in MODULES.items() if third_party_imports(path) & set(HEAVY)}
    changed = True
    while changed:
        grown = {name for name, targets in graph.items() if targets & heavy} - heavy
        heavy |= grown
        changed = bool(grown)
    return heavy


class RecordHeavyImports(importlib.abc.MetaPathFinder):
    """Refuses, and remembers, any import of a heavy library."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001, ANN201 - importlib's signature
        if fullname.split(".")[0] in HEAVY:
            self.attempts.append(fullname)
            raise ImportError(f"{fullname} is heavy: an ovmer module imported it at import time")
        return None


def test_importing_ovmer_and_its_light_modules_imports_no_heavy_library() -> None:
    heavy = needs_heavy_extra(import_graph())
    # Only the model adapters (the `models` extra) may import a heavy library at module level.
    outside = sorted(name for name in heavy if not name.startswith("ovmer.describe.adapters."))
    assert not outside, f"modules that import torch/transformers/vllm/ray at module level: {outside}"
    # `python -m ovmer` entry points run the CLI when imported, so they are left out.
    light = sorted(name for name in set(MODULES) - heavy if not name.endswith("__main__"))
    # Import every light module afresh, with the heavy libraries hidden and refused, then put
    # sys.modules back as it was so later tests see the same module objects.
    saved = {key: mod for key, mod in sys.modules.items() if key.split(".")[0] in ("ovmer", *HEAVY)}
    recorder = RecordHeavyImports()
    for key in saved:
        del sys.modules[key]
    sys.meta_path.insert(0, recorder)
    failures = {}
    try:
        for name in light:
            try:
                importlib.import_module(name)
            except ImportError as error:
                failures[name] = str(error)
    finally:
        sys.meta_path.remove(recorder)
        for key in [key for key in sys.modules if key.split(".")[0] in ("ovmer", *HEAVY)]:
            del sys.modules[key]
        sys.modules.update(saved)
    assert not recorder.attempts, f"heavy imports at import time: {sorted(set(recorder.attempts))}"
    assert not failures, failures
