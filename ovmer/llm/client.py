"""The per-backend contract: a batch of chat conversations in, one reply text per conversation out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from ovmer.errors import OvmerError
from ovmer.llm.presets import GenerationSettings

Role = Literal["system", "user", "assistant"]
ROLES: tuple[str, ...] = ("system", "user", "assistant")

# One conversation's result: the reply text, or the exception that stopped it.
Outcome = str | BaseException


class LLMError(OvmerError):
    """A backend could not produce a reply (server error, timeout, malformed answer)."""


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise OvmerError(f"chat message role must be one of {', '.join(ROLES)}, got {self.role!r}")
        if not isinstance(self.content, str):
            raise OvmerError(f"chat message content must be text, got {type(self.content).__name__}")

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


Conversation = list[ChatMessage]


def conversation_dicts(conversation: Sequence[ChatMessage]) -> list[dict[str, str]]:
    """The OpenAI/HF chat-template form ``[{"role": ..., "content": ...}]``."""
    return [message.as_dict() for message in conversation]


class LLMBackend:
    """Base class of every backend.

    Subclasses set ``name`` and implement :meth:`generate`. ``model_id`` names
    the model in store keys; ``revision`` (when known) fingerprints its files
    so that changed weights invalidate cached replies.
    """

    name: ClassVar[str] = "base"

    @property
    def model_id(self) -> str:
        raise NotImplementedError

    @property
    def revision(self) -> str | None:
        return None

    def describe(self) -> dict[str, Any]:
        """What to record with each result besides the key (endpoint, device, dtype...)."""
        return {"backend": self.name, "model": self.model_id}

    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings: GenerationSettings) -> list[str]:
        """One reply per conversation, in order. Raises if any conversation fails."""
        raise NotImplementedError

    def generate_outcomes(
        self,
        batch: Sequence[Sequence[ChatMessage]],
        settings: GenerationSettings,
        names: Sequence[str] | None = None,
    ) -> list[Outcome]:
        """Like :meth:`generate` but one failure does not sink the others.

        ``names`` are the samples the conversations belong to; backends that
        serve by sample (replay) need them, the others ignore them. The default
        runs the batch at once, so a failure is reported for every member.
        """
        try:
            replies = self.generate(batch, settings)
        except Exception as exc:
            return [exc] * len(batch)
        if len(replies) != len(batch):
            error = LLMError(f"{self.name} backend returned {len(replies)} replies for {len(batch)} prompts")
            return [error] * len(batch)
        return list(replies)

    def bind(self, stage: str, baseline: str, setting: str) -> None:
        """Hook called by a stage before it runs (replay loads that task's stored replies)."""

    def close(self) -> None:
        """Release models, pools or connections (optional)."""
