"""Which of the package's own modules a piece of code uses, read from the source (nothing is imported).

A reproduction step is keyed on the source of the modules its notebook uses, so
that editing an unrelated module does not re-run it. :class:`ModuleGraph` parses
every module of the package once and follows, from a set of entry modules:

- ``import ovmer.x`` / ``from ovmer.x import y`` anywhere in a module (inside
  functions too), relative imports included; ``if TYPE_CHECKING:`` blocks are
  not followed, they never run;
- the packages above every module reached (importing ``a.b.c`` runs ``a`` and
  ``a.b``);
- string literals naming a module (``"ovmer.scoring.cli"``, lazy registry
  targets ``"ovmer.llm.replay:ReplayBackend"``); a string naming a sub-package
  brings every module below it, since such names are completed at run time.

The data files a module ships beside it (its folder's non-Python files and those of
sub-folders that are not packages: prompt texts, the asset manifest) count as its source.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from ovmer.errors import OvmerError

PACKAGE = "ovmer"
# what a string literal naming a module looks like: "ovmer.a.b" or "ovmer.a.b:attr"
_MODULE_STRING = re.compile(rf"^{PACKAGE}(?:\.\w+)+(?::[\w.]+)?$")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _data_lookups(nodes: list[ast.AST]) -> set[int]:
    """ids of the string arguments of ``resources.files("pkg")`` calls: a package's data, not its modules."""
    found = set()
    for node in nodes:
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "files":
                found.add(id(node.args[0]))
    return found


def referenced_names(tree: ast.AST, module: str = "", is_package: bool = False) -> list[tuple[str, bool]]:
    """``(dotted name, from a string)`` for every name ``tree`` imports or spells in a string.

    ``from a import b`` gives ``a`` and ``a.b``; ``module`` (and whether it is a
    package) resolves relative imports. A string naming a package may be completed
    at run time (``f"{package}.{name}"``), so it is marked; the argument of
    ``resources.files(...)`` is not (it reads data).
    """
    nodes = list(_runtime_nodes(tree))
    data = _data_lookups(nodes)
    names: list[tuple[str, bool]] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [(alias.name, False) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, *filter(None, [base])])
            names.append((base, False))
            names += [(f"{base}.{alias.name}", False) for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_STRING.match(node.value):
            names.append((node.value.partition(":")[0], id(node) not in data))
    return names


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source, filename=where)
    except SyntaxError as exc:
        raise OvmerError(f"{where}: cannot be parsed ({exc.msg}, line {exc.lineno})") from None


class ModuleGraph:
    """The import graph of the package found in ``root`` (the folder holding ``ovmer/``)."""

    def __init__(self, root: str | Path | None = None, package: str = PACKAGE) -> None:
        self.root = Path(root) if root is not None else Path(__file__).resolve().parent.parent.parent
        self.package = package

    @cached_property
    def files(self) -> dict[str, Path]:
        """Module name -> its file (a package's ``__init__.py``)."""
        top = self.root / self.package
        if not (top / "__init__.py").is_file():
            raise OvmerError(f"{top}: not a Python package (no __init__.py)")
        found = {}
        for path in sorted(top.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(self.root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
        return found

    def _is_package(self, module: str) -> bool:
        return self.files[module].name == "__init__.py"

    def _resolve(self, name: str, completed: bool = False) -> list[str]:
        """The package modules a referenced dotted name stands for (none for other libraries).

        ``completed``: the name is a string that may be completed at run time, so a
        package brings every module below it.
        """
        parts = name.split(".")
        while parts and ".".join(parts) not in self.files:
            parts.pop()  # ``from a.b import function``: the module is a.b
        if not parts:
            return []
        module = ".".join(parts)
        found = [".".join(parts[:k]) for k in range(1, len(parts) + 1)]  # the packages above run too
        if completed and module == name and self._is_package(module):
            found += [m for m in self.files if m.startswith(f"{module}.")]
        return found

    @cached_property
    def _edges(self) -> dict[str, frozenset[str]]:
        edges = {}
        for module, path in self.files.items():
            tree = _parse(path.read_text(encoding="utf-8"), str(path))
            names = referenced_names(tree, module, self._is_package(module))
            edges[module] = frozenset(m for name, completed in names for m in self._resolve(name, completed))
            edges[module] -= {module}
        return edges

    def entry_modules(self, source: str, where: str = "code") -> list[str]:
        """The package modules a piece of source code (a notebook's cells) refers to."""
        names = referenced_names(_parse(source, where))
        return sorted({m for name, completed in names for m in self._resolve(name, completed)})

    def closure(self, entries: Iterable[str]) -> list[str]:
        """``entries`` and every package module they reach, sorted."""
        entries = list(entries)
        unknown = [m for m in entries if m not in self.files]
        if unknown:
            raise OvmerError(f"{unknown[0]!r} is not a module of {self.root / self.package}")
        seen: set[str] = set()
        todo = list(entries)
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(self._edges[module] - seen)
        return sorted(seen)

    def data_files(self, modules: Iterable[str]) -> list[Path]:
        """The non-Python files shipped beside ``modules`` (their folders and non-package sub-folders)."""
        found: set[Path] = set()
        for folder in {self.files[m].parent for m in modules}:
            stack = [folder]
            while stack:
                current = stack.pop()
                for path in current.iterdir():
                    if path.is_dir():
                        if path.name != "__pycache__" and not (path / "__init__.py").is_file():
                            stack.append(path)
                    elif path.suffix not in (".py", ".pyc"):
                        found.add(path)
        return sorted(found)

    def fingerprint(self, entries: Iterable[str]) -> dict[str, str]:
        """sha256 of every source and data file the ``entries`` use, keyed by path below ``root``."""
        modules = self.closure(entries)
        paths = [self.files[m] for m in modules] + self.data_files(modules)
        return {p.relative_to(self.root).as_posix(): file_sha256(p) for p in sorted(paths)}

    def route(self, entries: Iterable[str], target: str) -> list[str]:
        """A shortest chain of references from one of ``entries`` to ``target`` (empty: not reached)."""
        parents: dict[str, str | None] = {m: None for m in entries}
        queue = list(parents)
        while queue:
            module = queue.pop(0)
            if module == target:
                chain = [module]
                while parents[chain[-1]] is not None:
                    chain.append(parents[chain[-1]])  # type: ignore[arg-type]
                return chain[::-1]
            for nxt in sorted(self._edges[module]):
                if nxt not in parents:
                    parents[nxt] = module
                    queue.append(nxt)
        return []
