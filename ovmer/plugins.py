"""User code that feeds the package's registries without editing the package.

Two routes, both ending in :meth:`ovmer.registry.Registry.register` with
``builtin=False`` (so a name that a built-in already has is refused):

- **included files**: :func:`include` imports a Python file, or every ``*.py``
  file of a folder (sorted by name), before any registry is read, the way
  lm-evaluation-harness reads ``--include_path``. ``ovmer --include PATH ...``
  calls it; the paths are also put into ``OVMER_INCLUDE`` so that processes the
  run starts (notebook kernels, workers) import the same code when they first
  read a registry (:func:`include_from_environment`).
- **entry points** of installed distributions: a registry made with
  ``entry_points="ovmer.backends"`` adds every entry point of that group on
  its first lookup (name -> ``"module:attr"``, imported only when used). The
  groups: ``ovmer.adapters`` (describe adapters: the class's ``spec`` is the
  baseline), ``ovmer.backends``, ``ovmer.protocols``, ``ovmer.transcribers``,
  ``ovmer.label_parsers`` and ``ovmer.artefacts`` (tables and figures).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

from ovmer.errors import OvmerError

INCLUDE_ENV = "OVMER_INCLUDE"
# The module name of an included file whose own name is taken (or not an identifier).
MODULE_PREFIX = "ovmer_user_"

_imported: dict[Path, ModuleType] = {}
_environment_read = False


class IncludeError(OvmerError):
    """An included path that does not exist or whose code fails to import."""


def _module_files(path: Path) -> list[Path]:
    if path.is_file():
        if path.suffix != ".py":
            raise IncludeError(f"--include {path}: not a Python file (.py)")
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if p.name != "__init__.py")
        if not files:
            raise IncludeError(f"--include {path}: the folder holds no .py files")
        return files
    raise IncludeError(f"--include {path}: no such file or folder")


def _found_elsewhere(name: str, path: Path) -> bool:
    """Whether ``import name`` would find another module (a user's ``torch.py`` must not shadow torch)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    return spec is not None and (spec.origin is None or Path(spec.origin).resolve() != path)


def _import_file(path: Path) -> ModuleType:
    # The file's own name, as if its folder were on sys.path (it is, below): its sibling modules
    # can then `import` it without running it twice; a taken name falls back to a prefixed one.
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) and Path(existing.__file__).resolve() == path:
        return existing  # a sibling imported it already
    if existing is not None or not name.isidentifier() or _found_elsewhere(name, path):
        name = MODULE_PREFIX + "".join(c if c.isalnum() else "_" for c in path.stem) + f"_{len(_imported)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise IncludeError(f"--include {path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if str(path.parent) not in sys.path:  # the file's own folder, so that its sibling modules import
        sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except OvmerError as exc:  # a refused registration (a name clash) is already one clear line
        del sys.modules[name]
        raise IncludeError(f"--include {path}: {exc}") from exc
    except Exception as exc:
        del sys.modules[name]
        frames = traceback.extract_tb(exc.__traceback__)
        frame = next((f for f in reversed(frames) if Path(f.filename).resolve() == path), frames[-1])
        raise IncludeError(
            f"--include {path}: importing it failed at {Path(frame.filename).name}:{frame.lineno}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return module


def include(*paths: str | os.PathLike[str]) -> list[ModuleType]:
    """Import the user modules at ``paths`` (files, or folders of ``*.py``), each file once per process.

    Returns the modules. The paths are added to ``OVMER_INCLUDE`` for the processes this one starts.
    """
    modules: list[ModuleType] = []
    for raw in paths:
        if not str(raw).strip():
            continue
        path = Path(raw).expanduser().resolve()
        for file in _module_files(path):
            if file not in _imported:
                _imported[file] = _import_file(file)
            modules.append(_imported[file])
        known = [p for p in os.environ.get(INCLUDE_ENV, "").split(os.pathsep) if p]
        if str(path) not in known:
            os.environ[INCLUDE_ENV] = os.pathsep.join([*known, str(path)])
    return modules


def include_from_environment() -> list[ModuleType]:
    """Import the paths in ``OVMER_INCLUDE`` (once per process; later calls do nothing)."""
    global _environment_read
    if _environment_read:
        return []
    _environment_read = True
    return include(*os.environ.get(INCLUDE_ENV, "").split(os.pathsep))


def included_files() -> list[Path]:
    """The user files imported so far, in import order."""
    return list(_imported)


def entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
    """The installed distributions' entry points of ``group``, by name."""
    return sorted(importlib.metadata.entry_points(group=group), key=lambda ep: ep.name)
