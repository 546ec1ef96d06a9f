"""Lazy backend registry: ``name -> "module:Class"``; only the chosen backend's module is imported."""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from ovmer.errors import OvmerError
from ovmer.llm.client import LLMBackend

BACKENDS: dict[str, str] = {
    "transformers": "ovmer.llm.transformers_backend:TransformersBackend",
    "vllm": "ovmer.llm.vllm_backend:VLLMBackend",
    "openai": "ovmer.llm.openai_backend:OpenAIBackend",
    "replay": "ovmer.llm.replay:ReplayBackend",
}


def _unknown(name: str, choices: list[str]) -> OvmerError:
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return OvmerError(f"unknown LLM backend {name!r}{hint} (backends: {', '.join(sorted(choices))})")


def backend_class(name: str) -> type[LLMBackend]:
    """Import and return the class registered as ``name``."""
    if name not in BACKENDS:
        raise _unknown(name, list(BACKENDS))
    module_name, _, class_name = BACKENDS[name].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)


def load_backend(name: str, **options: Any) -> LLMBackend:
    """Build backend ``name`` with ``options`` (``None`` values mean "backend default")."""
    cls = backend_class(name)
    return cls(**{k: v for k, v in options.items() if v is not None})


def resolve_backend(backend: str | LLMBackend, model: str | None = None, **options: Any) -> LLMBackend:
    """A backend instance from an instance or a registry name plus ``model`` and options."""
    if isinstance(backend, LLMBackend):
        return backend
    if model is None:
        if backend == "replay":
            model = "released"
        elif backend in BACKENDS:
            raise OvmerError(f"the {backend} backend needs a model (a folder, or the served model's name)")
    return load_backend(backend, model=model, **options)
