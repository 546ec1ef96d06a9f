"""Where data, outputs and caches live.

Defaults are relative to the project root (the folder holding ``pyproject.toml``
next to this package, else the working directory) and can be moved with
environment variables: ``OVMER_DATA`` (fetched assets and derived caches) and
``OVMER_OUTPUT`` (results store, tables, executed notebooks).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd()


def data_dir() -> Path:
    """Folder the assets are fetched into (``OVMER_DATA`` or ``<root>/data``)."""
    env = os.environ.get("OVMER_DATA")
    return Path(env).expanduser() if env else project_root() / "data"


def output_dir() -> Path:
    """Folder for stage results, tables and executed notebooks."""
    env = os.environ.get("OVMER_OUTPUT")
    return Path(env).expanduser() if env else project_root() / "output"


def cache_dir() -> Path:
    """Derived, rebuildable caches (compiled label maps, fitted extractors)."""
    return data_dir() / "cache"


def figures_dir() -> Path:
    return project_root() / "figures"
