"""Lazy backend registry: only the chosen backend's module is imported."""

from __future__ import annotations

from typing import Any

from ovmer.errors import OvmerError
from ovmer.llm.client import LLMBackend
from ovmer.registry import Registry

BACKENDS: Registry[type[LLMBackend]] = Registry("LLM backend", LLMBackend, entry_points="ovmer.backends")
BACKENDS.register("transformers", "ovmer.llm.transformers_backend:TransformersBackend",
                  "a local model folder through Hugging Face transformers")
BACKENDS.register("vllm", "ovmer.llm.vllm_backend:VLLMBackend", "vLLM's offline engine (GPU)")
BACKENDS.register("openai", "ovmer.llm.openai_backend:OpenAIBackend",
                  "any OpenAI-compatible chat-completions server")
BACKENDS.register("replay", "ovmer.llm.replay:ReplayBackend", "stored or released replies, no model")


def backend_class(name: str) -> type[LLMBackend]:
    """Import and return the class registered as ``name``."""
    return BACKENDS.get(name)


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
