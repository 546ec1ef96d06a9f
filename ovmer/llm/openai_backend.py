"""OpenAI-compatible chat-completions backend (``vllm serve``, llama.cpp's server, hosted APIs).

Standard library only (``urllib``). Each conversation is one POST to
``{base_url}/chat/completions``; up to ``concurrency`` run at once in a thread
pool. Connection errors, timeouts, HTTP 429/5xx and malformed replies are
retried with exponential backoff; other HTTP errors (a bad request, a wrong
key) fail at once since repeating them cannot help.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ovmer.errors import OvmerError
from ovmer.llm.client import ChatMessage, LLMBackend, LLMError, Outcome
from ovmer.llm.presets import GenerationSettings
from ovmer.messages import to_openai_messages

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class _Retryable(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OpenAIBackend(LLMBackend):
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        api_key_env: str | None = DEFAULT_KEY_ENV,
        require_api_key: bool = False,
        timeout: float = 120.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
        concurrency: int = 8,
        extra_sampling: bool = True,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise OvmerError(f"base_url must start with http:// or https://, got {base_url!r}")
        if concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise OvmerError(
                f"need concurrency >= 1, max_retries >= 0 and timeout > 0; got {concurrency}, "
                f"{max_retries}, {timeout}"
            )
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.api_key_env = api_key_env
        self.api_key = os.environ.get(api_key_env) if api_key_env else None
        if require_api_key and not self.api_key:
            raise OvmerError(f"environment variable {api_key_env} holding the API key is not set")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.concurrency = concurrency
        # vLLM and llama.cpp accept repetition_penalty; OpenAI's hosted API rejects unknown fields.
        self.extra_sampling = extra_sampling

    @property
    def model_id(self) -> str:
        return self.model

    def run_info(self) -> dict[str, Any]:
        return {**super().run_info(), "base_url": self.base_url, "extra_sampling": self.extra_sampling}

    def request_body(
        self, conversation: Sequence[ChatMessage], settings: GenerationSettings
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(conversation),
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

    def _post_once(self, payload: bytes, stop: Sequence[str] = ()) -> str:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", errors="replace")
            message = f"HTTP {exc.code} {exc.reason}: {detail}".strip()
            if exc.code in RETRY_STATUSES:
                raise _Retryable(message, _retry_after(exc.headers.get("Retry-After"))) from exc
            raise LLMError(f"{self.url}: {message}") from exc
        except TimeoutError as exc:
            raise _Retryable(f"no reply within {self.timeout:g} s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Retryable(f"no reply within {self.timeout:g} s") from exc
            raise _Retryable(f"cannot connect ({exc.reason})") from exc
        except (ConnectionError, OSError) as exc:
            raise _Retryable(f"connection failed ({exc})") from exc
        return _reply_text(body, stop)

    def complete(self, conversation: Sequence[ChatMessage], settings: GenerationSettings) -> str:
        """One conversation, with retries; :class:`LLMError` naming the endpoint if all attempts fail."""
        payload = json.dumps(self.request_body(conversation, settings), ensure_ascii=False).encode("utf-8")
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            try:
                return settings.cut_at_stop(self._post_once(payload, settings.stop_strings))
            except _Retryable as exc:
                if attempt + 1 == attempts:
                    raise LLMError(f"{self.url}: {exc} (after {attempts} attempt(s))") from exc
                delay = min(self.backoff_max, self.backoff * 2**attempt)
                if exc.retry_after is not None:
                    delay = min(self.backoff_max, max(delay, exc.retry_after))
                time.sleep(delay)
        raise AssertionError("unreachable")

    def generate_outcomes(
        self,
        batch: Sequence[Sequence[ChatMessage]],
        settings: GenerationSettings,
        names: Sequence[str] | None = None,
    ) -> list[Outcome]:
        def run(conversation: Sequence[ChatMessage]) -> Outcome:
            try:
                return self.complete(conversation, settings)
            except Exception as exc:  # returned per conversation so the others go on
                return exc

        if len(batch) <= 1 or self.concurrency == 1:
            return [run(conversation) for conversation in batch]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batch))) as pool:
            return list(pool.map(run, batch))

    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings: GenerationSettings) -> list[str]:
        outcomes = self.generate_outcomes(batch, settings)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return [str(outcome) for outcome in outcomes]


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date; fall back to our own backoff


def _reply_text(body: bytes, stop: Sequence[str] = ()) -> str:
    """``choices[0].message.content`` of a chat-completions reply; malformed replies are retryable.

    A server leaves out the stop string it stopped at; vLLM's names it (``stop_reason``) and it is
    put back, so that the reply reads as the other backends return it.
    """
    excerpt = body[:200].decode("utf-8", errors="replace")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _Retryable(f"malformed JSON in the reply ({exc.__class__.__name__}): {excerpt!r}") from exc
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise _Retryable(f"reply lacks choices[0].message.content: {excerpt!r}") from exc
    if content is None:
        return ""
    if not isinstance(content, str):
        raise _Retryable(f"reply content is {type(content).__name__}, not text: {excerpt!r}")
    stopped_at = data["choices"][0].get("stop_reason")
    if isinstance(stopped_at, str) and stopped_at in stop:
        content += stopped_at
    return content.strip()
