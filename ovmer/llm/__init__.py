"""LLM text stages' client: typed chat messages in, text out, over pluggable backends.

Backends (``transformers``, ``vllm``, ``openai``, ``replay``) are looked up by
name in :mod:`ovmer.llm.registry` and imported only when chosen, so importing
this package never imports torch or transformers.
"""

from ovmer.llm.client import ChatMessage, LLMBackend, Outcome
from ovmer.llm.presets import PRESETS, GenerationSettings, get_preset
from ovmer.llm.prompts import PromptTemplate, load_prompt
from ovmer.llm.registry import BACKENDS, backend_class, load_backend

__all__ = [
    "BACKENDS",
    "PRESETS",
    "ChatMessage",
    "GenerationSettings",
    "LLMBackend",
    "Outcome",
    "PromptTemplate",
    "backend_class",
    "get_preset",
    "load_backend",
    "load_prompt",
]
