"""The OpenAI-compatible backend against a real chat-completions server on 127.0.0.1."""

from __future__ import annotations

import time

import pytest
from llm_helpers import ChatServer, Reply

from ovmer.errors import OvmerError
from ovmer.llm import ChatMessage, get_preset
from ovmer.llm.client import LLMError
from ovmer.llm.openai_backend import OpenAIBackend

HELLO = [ChatMessage("system", "Be brief."), ChatMessage("user", "hello")]
GREEDY = get_preset("deterministic")


def backend(server: ChatServer, **options) -> OpenAIBackend:
    defaults = {"timeout": 2.0, "max_retries": 2, "backoff": 0.01, "backoff_max": 0.05}
    return OpenAIBackend("served-model", base_url=server.base_url, **(defaults | options))


def test_success_sends_the_conversation_and_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    with ChatServer() as server:
        client = backend(server, api_key_env="TEST_LLM_KEY")
        assert client.generate([HELLO], GREEDY) == ["echo: hello"]
        client.generate([HELLO], get_preset("paper").replace(seed=7))
    greedy, paper = server.requests
    assert greedy == {
        "model": "served-model",
        "max_tokens": 512,
        "temperature": 0.0,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}],
    }
    assert paper["temperature"] == 0.7 and paper["top_p"] == 0.8 and paper["seed"] == 7
    assert paper["repetition_penalty"] == 1.05 and paper["max_tokens"] == 512
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


def test_hosted_api_mode_drops_nonstandard_fields() -> None:
    with ChatServer() as server:
        backend(server, extra_sampling=False).generate([HELLO], get_preset("paper"))
    assert "repetition_penalty" not in server.requests[0]


def test_a_required_key_that_is_not_set_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(OvmerError, match="NO_SUCH_KEY_VAR"):
        OpenAIBackend("m", api_key_env="NO_SUCH_KEY_VAR", require_api_key=True)


def test_500s_are_retried_until_success() -> None:
    def flaky(index: int, body: dict) -> Reply:
        return Reply(status=500, raw_body=b"overloaded") if index < 2 else Reply(content="fine")

    with ChatServer(flaky) as server:
        assert backend(server).generate([HELLO], GREEDY) == ["fine"]
    assert len(server.requests) == 3


def test_persistent_500s_fail_after_the_retries() -> None:
    with (
        ChatServer(lambda i, b: Reply(status=503, raw_body=b"down")) as server,
        pytest.raises(LLMError, match=r"HTTP 503.*after 3 attempt"),
    ):
        backend(server).generate([HELLO], GREEDY)
    assert len(server.requests) == 3


def test_client_errors_are_not_retried() -> None:
    with (
        ChatServer(lambda i, b: Reply(status=400, raw_body=b'{"error": "unknown field"}')) as server,
        pytest.raises(LLMError, match="HTTP 400.*unknown field"),
    ):
        backend(server).generate([HELLO], GREEDY)
    assert len(server.requests) == 1


def test_malformed_json_is_an_error_naming_the_problem() -> None:
    with (
        ChatServer(lambda i, b: Reply(raw_body=b'{"choices": [')) as server,
        pytest.raises(LLMError, match="malformed JSON"),
    ):
        backend(server, max_retries=1).generate([HELLO], GREEDY)
    assert len(server.requests) == 2
    with (
        ChatServer(lambda i, b: Reply(raw_body=b'{"choices": []}')) as server,
        pytest.raises(LLMError, match=r"lacks choices\[0\]"),
    ):
        backend(server, max_retries=0).generate([HELLO], GREEDY)


def test_a_reply_slower_than_the_timeout_times_out() -> None:
    with ChatServer(lambda i, b: Reply(content="late", delay=0.6)) as server:
        started = time.monotonic()
        with pytest.raises(LLMError, match=r"no reply within 0.2 s.*after 2 attempt"):
            backend(server, timeout=0.2, max_retries=1).generate([HELLO], GREEDY)
        assert time.monotonic() - started < 1.5


def test_a_slow_reply_within_the_timeout_succeeds() -> None:
    with ChatServer(lambda i, b: Reply(content="slow but fine", delay=0.3)) as server:
        assert backend(server, timeout=2.0).generate([HELLO], GREEDY) == ["slow but fine"]
    assert len(server.requests) == 1


def test_concurrency_is_bounded_and_one_failure_spares_the_rest() -> None:
    def slow(index: int, body: dict) -> Reply:
        text = body["messages"][-1]["content"]
        if text == "bad":
            return Reply(status=400, raw_body=b"no")
        return Reply(content=text.upper(), delay=0.15)

    batch = [[ChatMessage("user", text)] for text in ("a", "b", "bad", "c", "d", "e")]
    with ChatServer(slow) as server:
        outcomes = backend(server, concurrency=2).generate_outcomes(batch, GREEDY)
    assert outcomes[:2] == ["A", "B"] and outcomes[3:] == ["C", "D", "E"]
    assert isinstance(outcomes[2], LLMError) and "HTTP 400" in str(outcomes[2])
    assert server.max_in_flight == 2


def test_connection_refused_is_retried_then_reported() -> None:
    with ChatServer() as server:
        url = server.base_url
    client = OpenAIBackend("m", base_url=url, max_retries=1, backoff=0.01, timeout=1.0)
    with pytest.raises(LLMError, match="cannot connect.*after 2 attempt"):
        client.generate([HELLO], GREEDY)


def test_retry_after_header_is_honoured_within_the_cap() -> None:
    def busy(index: int, body: dict) -> Reply:
        return (
            Reply(status=429, raw_body=b"slow down", headers={"Retry-After": "0.3"})
            if index == 0
            else Reply()
        )

    with ChatServer(busy) as server:
        started = time.monotonic()
        backend(server, backoff_max=1.0).generate([HELLO], GREEDY)
        assert time.monotonic() - started >= 0.3
