"""Generation settings and the named presets every stage records with its results.

Two fields may be left to the stage: ``max_new_tokens`` and ``stop``. ``None``
means "the stage's default" (:class:`ReplyLimit`): the extract and group stages
ask for one bracketed list, so by default their replies stop right after its
closing bracket and have a small token budget; every other use gets 512 tokens
and no stop string. An explicit value (``--max-new-tokens``, ``stop=()``) always
wins, and the ``paper`` preset spells out the authors' settings (512 tokens, no
stop), so its replies and keys are what they always were.

A short budget must not change what is parsed: a stage's default limit also sets
``extend_to``, and a reply that ran into the small budget before its stop string
is generated again with ``extend_to`` tokens (:mod:`ovmer.llm.text_stage`), so a
list longer than the budget is never parsed cut.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ovmer.errors import OvmerError
from ovmer.registry import Registry

DEFAULT_MAX_NEW_TOKENS = 512


@dataclass(frozen=True)
class ReplyLimit:
    """How long a stage's replies need to be: at most ``max_new_tokens``, ending at the first ``stop`` string.

    A stop string is kept in the reply, so a complete reply reads the same whether or not
    generation stopped there.
    """

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    stop: tuple[str, ...] = ()
    extend_to: int | None = None  # a reply cut at max_new_tokens is generated again with this budget

    def __post_init__(self) -> None:
        if self.extend_to is not None and self.extend_to <= self.max_new_tokens:
            raise OvmerError(f"extend_to ({self.extend_to}) must exceed max_new_tokens ({self.max_new_tokens})")


NO_LIMIT = ReplyLimit()


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding parameters, backend-neutral.

    ``do_sample=False`` means greedy decoding; temperature and top_p are then
    ignored by the backends (an OpenAI-style server is sent temperature 0).
    ``max_new_tokens`` and ``stop`` left at ``None`` take the stage's
    :class:`ReplyLimit` (:meth:`resolved`).
    """

    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    max_new_tokens: int | None = None
    seed: int | None = None
    stop: tuple[str, ...] | None = None
    extend_to: int | None = None  # set by a stage's default limit only (see ReplyLimit)

    def __post_init__(self) -> None:
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise OvmerError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.do_sample and self.temperature <= 0:
            raise OvmerError(f"sampling needs a positive temperature, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise OvmerError(f"top_p must lie in (0, 1], got {self.top_p}")
        if self.repetition_penalty <= 0:
            raise OvmerError(f"repetition_penalty must be positive, got {self.repetition_penalty}")
        if self.extend_to is not None and self.extend_to < 1:
            raise OvmerError(f"extend_to must be at least 1, got {self.extend_to}")
        if self.stop is not None:
            if isinstance(self.stop, str) or not all(isinstance(s, str) and s for s in self.stop):
                raise OvmerError(f"stop must be a sequence of non-empty strings, got {self.stop!r}")
            object.__setattr__(self, "stop", tuple(self.stop))

    def resolved(self, limit: ReplyLimit = NO_LIMIT) -> GenerationSettings:
        """These settings with the fields left to the stage filled from ``limit``."""
        if self.max_new_tokens is not None:
            # An explicit budget is the user's: a reply cut there stays cut.
            return dataclasses.replace(self, stop=limit.stop if self.stop is None else self.stop)
        return dataclasses.replace(
            self,
            max_new_tokens=limit.max_new_tokens,
            stop=limit.stop if self.stop is None else self.stop,
            extend_to=limit.extend_to,
        )

    def extended(self) -> GenerationSettings:
        """The settings a cut reply is generated again with: ``extend_to`` tokens, no further extension."""
        if self.extend_to is None:
            raise OvmerError("these settings have no longer budget to extend a reply to")
        return dataclasses.replace(self, max_new_tokens=self.extend_to, extend_to=None)

    @property
    def token_limit(self) -> int:
        return DEFAULT_MAX_NEW_TOKENS if self.max_new_tokens is None else self.max_new_tokens

    @property
    def stop_strings(self) -> tuple[str, ...]:
        return self.stop or ()

    def cut_at_stop(self, text: str) -> str:
        """``text`` up to and including its first stop string (all of it when none occurs).

        Backends stop on a token that completes a stop string, which may run past it
        (``"]."``); cutting here makes every backend return the same reply.
        """
        ends = [text.find(s) + len(s) for s in self.stop_strings if s in text]
        return text[: min(ends)] if ends else text

    def as_dict(self) -> dict[str, Any]:
        """The canonical form that enters store keys: greedy runs drop the unused sampling knobs.

        Stop strings and ``extend_to`` appear only when set, so settings without them keep the
        keys they always had.
        """
        data = dataclasses.asdict(self)
        data["max_new_tokens"] = self.token_limit
        if self.stop_strings:
            data["stop"] = list(self.stop_strings)
        else:
            data.pop("stop")
        if self.extend_to is None:
            data.pop("extend_to")
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
    "greedy decoding: the same prompt gives the same reply on the same backend; "
    "label lists stop at their closing bracket",
)
PRESETS.register(
    "paper",
    GenerationSettings(do_sample=True, temperature=0.7, top_p=0.8, repetition_penalty=1.05, max_new_tokens=512,
                       stop=()),
    "the released AffectGPT/MERTools code's vLLM sampling settings (512 new tokens, no stop strings)",
)
DEFAULT_PRESET = "deterministic"


def get_preset(name: str | GenerationSettings | None = None) -> GenerationSettings:
    """The preset called ``name`` (default: deterministic); a settings object passes through."""
    if isinstance(name, GenerationSettings):
        return name
    return PRESETS.get(DEFAULT_PRESET if name is None else str(name).strip().lower())
