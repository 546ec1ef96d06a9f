"""Generation settings and the named presets every stage records with its results."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ovmer.errors import OvmerError
from ovmer.registry import Registry


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding parameters, backend-neutral.

    ``do_sample=False`` means greedy decoding; temperature and top_p are then
    ignored by the backends (an OpenAI-style server is sent temperature 0).
    """

    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    max_new_tokens: int = 512
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise OvmerError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.do_sample and self.temperature <= 0:
            raise OvmerError(f"sampling needs a positive temperature, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise OvmerError(f"top_p must lie in (0, 1], got {self.top_p}")
        if self.repetition_penalty <= 0:
            raise OvmerError(f"repetition_penalty must be positive, got {self.repetition_penalty}")

    def as_dict(self) -> dict[str, Any]:
        """The canonical form that enters store keys: greedy runs drop the unused sampling knobs."""
        data = dataclasses.asdict(self)
        if not self.do_sample:
            data.pop("temperature")
            data.pop("top_p")
            data.pop("seed")
        return data

    def replace(self, **changes: Any) -> GenerationSettings:
        """A copy with some fields changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


PRESETS: Registry[GenerationSettings] = Registry("generation preset", GenerationSettings)
PRESETS.register(
    "deterministic", GenerationSettings(),
    "greedy decoding: the same prompt gives the same reply on the same backend",
)
PRESETS.register(
    "paper",
    GenerationSettings(do_sample=True, temperature=0.7, top_p=0.8, repetition_penalty=1.05, max_new_tokens=512),
    "the released AffectGPT/MERTools code's vLLM sampling settings",
)
DEFAULT_PRESET = "deterministic"


def get_preset(name: str | GenerationSettings | None = None) -> GenerationSettings:
    """The preset called ``name`` (default: deterministic); a settings object passes through."""
    if isinstance(name, GenerationSettings):
        return name
    return PRESETS.get(DEFAULT_PRESET if name is None else str(name).strip().lower())
