"""Engines: where the model stages run (this process, or replicas on a Ray cluster).

``ENGINES`` is the name table (one file per engine); :func:`resolve_engine`
turns a name or an instance into an engine. Ray is imported only when the
``ray`` engine runs.
"""

from __future__ import annotations

from typing import Any

from ovmer.engines.base import Engine, StageWork, Worker, each_sample, portable, run_work
from ovmer.registry import Registry

__all__ = ["ENGINES", "Engine", "StageWork", "Worker", "each_sample", "engine_name", "portable", "resolve_engine",
           "run_work"]

ENGINES: Registry[type[Engine]] = Registry("engine", Engine, missing_hint="(local or ray)")
ENGINES.register("local", "ovmer.engines.local:LocalEngine", "this process (the default)")
ENGINES.register("ray", "ovmer.engines.ray_engine:RayEngine",
                 "one replica per model copy on a Ray cluster (pip install 'ovmer[distributed]')")


def engine_name(name: str | None) -> str:
    """The registered name of engine ``name`` (empty: ``local``); unknown names get a did-you-mean error."""
    return ENGINES.canonical((name or "local").strip().lower())


def resolve_engine(engine: str | Engine | None = None, **options: Any) -> Engine:
    """An engine instance: ``engine`` itself, or the one named (default ``local``) built with ``options``."""
    if isinstance(engine, Engine):
        return engine
    return ENGINES.get(engine_name(engine))(**options)
