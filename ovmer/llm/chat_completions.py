"""The one HTTP client of OpenAI-compatible chat-completions servers (``vllm serve``, SGLang, hosted APIs).

Standard library only (``urllib``). :class:`ChatCompletionsClient` POSTs one
request body to ``{base_url}/chat/completions`` and returns the reply's text:
connection errors, timeouts, HTTP 429/5xx and malformed replies are retried
with exponential backoff (honouring ``Retry-After``); other HTTP errors (a bad
request, a wrong key) fail at once since repeating them cannot help.
:func:`run_concurrently` runs several requests at once in a thread pool, one
result or exception each. The text backend (:mod:`ovmer.llm.openai_backend`)
and the multimodal describe adapter
(:mod:`ovmer.describe.adapters.openai_compatible`) both send through these.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ovmer.errors import OvmerError
from ovmer.llm.client import LLMError, Reply

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Retryable(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChatCompletionsClient:
    """POST request bodies to one server, with the retry policy above; safe to share between threads."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key_env: str | None = DEFAULT_KEY_ENV,
        require_api_key: bool = False,
        timeout: float = 120.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise OvmerError(f"base_url must start with http:// or https://, got {base_url!r}")
        if max_retries < 0 or timeout <= 0:
            raise OvmerError(f"need max_retries >= 0 and timeout > 0; got {max_retries}, {timeout}")
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

    def post(self, payload: bytes, stop: Sequence[str] = ()) -> str:
        """One request body (JSON bytes, see :func:`encode_body`), with retries; :class:`LLMError` if all fail.

        The same bytes are sent on every attempt: a request is encoded once. ``stop`` are the
        request's stop strings (see :func:`_reply_text`).
        """
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            try:
                return self._post_once(payload, stop)
            except _Retryable as exc:
                if attempt + 1 == attempts:
                    raise LLMError(f"{self.url}: {exc} (after {attempts} attempt(s))") from exc
                delay = min(self.backoff_max, self.backoff * 2**attempt)
                if exc.retry_after is not None:
                    delay = min(self.backoff_max, max(delay, exc.retry_after))
                time.sleep(delay)
        raise AssertionError("unreachable")


def encode_body(body: dict[str, Any]) -> bytes:
    """A request body as the JSON bytes that are sent (and hashed)."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def run_concurrently(
    work: Callable[[Item], Result], items: Sequence[Item], concurrency: int
) -> list[Result | BaseException]:
    """``work(item)`` for every item, up to ``concurrency`` at once; each result or its exception, in order."""
    if concurrency < 1:
        raise OvmerError(f"need concurrency >= 1, got {concurrency}")

    def run(item: Item) -> Result | BaseException:
        try:
            return work(item)
        except Exception as exc:  # returned per item so the others go on
            return exc

    if len(items) <= 1 or concurrency == 1:
        return [run(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(run, items))


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
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise _Retryable(f"reply lacks choices[0].message.content: {excerpt!r}") from exc
    cut = choice.get("finish_reason") == "length"
    if content is None:
        return Reply("", cut=cut)
    if not isinstance(content, str):
        raise _Retryable(f"reply content is {type(content).__name__}, not text: {excerpt!r}")
    stopped_at = choice.get("stop_reason")
    if isinstance(stopped_at, str) and stopped_at in stop:
        content += stopped_at
    return Reply(content.strip(), cut=cut)
