"""OpenAI-compatible chat-completions backend (``vllm serve``, llama.cpp's server, hosted APIs).

Each conversation is one POST to ``{base_url}/chat/completions`` through the
package's one chat-completions client (:mod:`ovmer.llm.chat_completions`: its
retry policy, timeouts and thread pool); up to ``concurrency`` run at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ovmer.errors import OvmerError
from ovmer.llm.chat_completions import (
    DEFAULT_BASE_URL,
    DEFAULT_KEY_ENV,
    ChatCompletionsClient,
    encode_body,
    run_concurrently,
)
from ovmer.llm.client import ChatMessage, LLMBackend, Outcome, Reply, was_cut
from ovmer.llm.presets import GenerationSettings
from ovmer.messages import to_openai_messages

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_KEY_ENV", "OpenAIBackend"]


class OpenAIBackend(LLMBackend):
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        concurrency: int = 8,
        extra_sampling: bool = True,
        **client_options: Any,
    ) -> None:
        """``client_options``: :class:`ChatCompletionsClient`'s (``api_key_env``, ``timeout``, ``max_retries``...)."""
        if concurrency < 1:
            raise OvmerError(f"need concurrency >= 1, got {concurrency}")
        self.client = ChatCompletionsClient(base_url, **client_options)
        self.model = model
        self.base_url = self.client.base_url
        self.url = self.client.url
        self.concurrency = concurrency
        # vLLM and llama.cpp accept repetition_penalty; OpenAI's hosted API rejects unknown fields.
        self.extra_sampling = extra_sampling

    @property
    def model_id(self) -> str:
        return self.model

    def run_info(self) -> dict[str, Any]:
        return {**super().run_info(), "base_url": self.base_url, "extra_sampling": self.extra_sampling}

    def request_body(
        self, conversation: Sequence[ChatMessage], settings: GenerationSettings,
        messages: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The chat-completions body; ``messages`` replaces the default conversion of ``conversation``
        (the describe adapter encodes its media its own way)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(conversation) if messages is None else messages,
            "max_tokens": settings.token_limit,
        }
        if settings.stop_strings:
            body["stop"] = list(settings.stop_strings)
        if settings.do_sample:
            body.update(temperature=settings.temperature, top_p=settings.top_p)
            if settings.seed is not None:
                body["seed"] = settings.seed
        else:
            body["temperature"] = 0.0
        if self.extra_sampling and settings.repetition_penalty != 1.0:
            body["repetition_penalty"] = settings.repetition_penalty
        return body

    def complete(self, conversation: Sequence[ChatMessage], settings: GenerationSettings) -> str:
        """One conversation, with retries; :class:`LLMError` naming the endpoint if all attempts fail."""
        body = encode_body(self.request_body(conversation, settings))
        reply = self.client.post(body, stop=settings.stop_strings)
        return Reply(settings.cut_at_stop(reply), cut=was_cut(reply))

    def generate_outcomes(
        self,
        batch: Sequence[Sequence[ChatMessage]],
        settings: GenerationSettings,
        names: Sequence[str] | None = None,
    ) -> list[Outcome]:
        return run_concurrently(lambda conversation: self.complete(conversation, settings), batch, self.concurrency)

    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings: GenerationSettings) -> list[str]:
        outcomes = self.generate_outcomes(batch, settings)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return [outcome for outcome in outcomes if isinstance(outcome, str)]
