"""The per-backend contract: a batch of chat conversations in, one reply text per conversation out.

Conversations are sequences of :class:`~ovmer.messages.ChatMessage` (a
:class:`~ovmer.messages.Chat` is one); the message type lives in
:mod:`ovmer.messages` and is re-exported here under its old import path.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from ovmer.errors import OvmerError
from ovmer.llm.presets import GenerationSettings
from ovmer.messages import ROLES, ChatMessage, Role
from ovmer.messages import text_messages as conversation_dicts

__all__ = ["ROLES", "ChatMessage", "Conversation", "LLMBackend", "LLMError", "Outcome", "Reply", "ReplyError",
           "Role", "conversation_dicts"]

# What to do about a model whose tokenizer has no chat template (a base model).
NO_CHAT_TEMPLATE_FIX = (
    "use an instruction-tuned (chat) model, or give this one a template: a chat_template.jinja file in "
    "its folder (or chat_template in tokenizer_config.json)"
)


class Reply(str):
    """A reply's text that knows whether generation ran into the token budget (``cut``).

    Backends that can tell (transformers, vLLM, an OpenAI-style server's ``finish_reason``)
    return these; a plain ``str`` reply counts as complete. A stage with a short budget
    generates a cut reply again with a longer one (:attr:`GenerationSettings.extend_to`).
    """

    cut: bool

    def __new__(cls, text: str, cut: bool = False) -> Reply:
        reply = super().__new__(cls, text)
        reply.cut = cut
        return reply

    def __reduce__(self) -> tuple[Any, ...]:  # Ray replicas send replies back pickled
        return (Reply, (str(self), self.cut))


def was_cut(reply: object) -> bool:
    """Whether ``reply`` is a :class:`Reply` that ended at the token budget."""
    return bool(getattr(reply, "cut", False))


# One conversation's result: the reply text, or the exception that stopped it.
Outcome = str | BaseException
Conversation = Sequence[ChatMessage]


class LLMError(OvmerError):
    """A backend could not produce a reply (server error, timeout, malformed answer)."""


class ReplyError(LLMError):
    """A reply came back but cannot be used (empty, a refusal, prose instead of a list).

    ``raw`` is the reply's text: the stage's error record keeps it, so the reason can be seen.
    """

    def __init__(self, message: str, raw: str | None = None) -> None:
        super().__init__(message)
        self.raw = raw


class LLMBackend(ABC):
    """Base class of every backend.

    Subclasses set ``name`` and implement :attr:`model_id` and :meth:`generate`.
    ``model_id`` names the model in store keys; ``revision`` (when known)
    fingerprints its files so that changed weights invalidate cached replies.
    """

    name: ClassVar[str] = "base"

    @property
    @abstractmethod
    def model_id(self) -> str:
        """The model's name in store keys."""

    @property
    def revision(self) -> str | None:
        return None

    def key_fields(self) -> dict[str, Any]:
        """What replies depend on besides the model, revision, prompt and settings (e.g. a dtype).

        Added to every store key of this backend; empty by default, which leaves the key as it was.
        """
        return {}

    def run_info(self) -> dict[str, Any]:
        """What to record with each result besides the key (endpoint, device, dtype...)."""
        return {"backend": self.name, "model": self.model_id}

    def describe(self) -> dict[str, Any]:
        """Deprecated name of :meth:`run_info` (kept for one release)."""
        warnings.warn("LLMBackend.describe() is renamed run_info()", DeprecationWarning, stacklevel=2)
        return self.run_info()

    @abstractmethod
    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings: GenerationSettings) -> list[str]:
        """One reply per conversation, in order. Raises if any conversation fails."""

    def generate_outcomes(
        self,
        batch: Sequence[Sequence[ChatMessage]],
        settings: GenerationSettings,
        names: Sequence[str] | None = None,
    ) -> list[Outcome]:
        """Like :meth:`generate` but one failure does not sink the others.

        ``names`` are the samples the conversations belong to; backends that
        serve by sample (replay) need them, the others ignore them. The default
        runs the batch at once; when that fails (one over-long prompt, an
        out-of-memory batch), each conversation is retried on its own, so only
        the members that fail alone get the exception.
        """
        try:
            return self._checked(batch, self.generate(batch, settings))
        except Exception as exc:
            if len(batch) <= 1:
                return [exc] * len(batch)
        outcomes: list[Outcome] = []
        for conversation in batch:
            try:
                outcomes.extend(self._checked([conversation], self.generate([conversation], settings)))
            except Exception as exc:  # this member's own failure
                outcomes.append(exc)
        return outcomes

    def _checked(self, batch: Sequence[Sequence[ChatMessage]], replies: Sequence[str]) -> list[Outcome]:
        if len(replies) != len(batch):
            raise LLMError(f"{self.name} backend returned {len(replies)} replies for {len(batch)} prompts")
        return list(replies)

    def bind(self, stage: str, baseline: str, setting: str) -> None:  # noqa: B027 (a hook: no-op by default)
        """Hook called by a stage before it runs (replay loads that task's stored replies)."""

    def close(self) -> None:  # noqa: B027 (optional)
        """Release models, pools or connections (optional)."""
