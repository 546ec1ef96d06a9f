"""LLM-stage test helpers: a tiny random chat model built offline; a local chat-completions server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = [
    "The man frowns and speaks in a low voice; he seems angry and disappointed.",
    "She smiles while talking about the trip, sounding cheerful, excited and a little proud.",
    "You are an expert in human emotions. Reply with the emotion labels as a list.",
    "happy, sad, angry, worried, surprised, neutral, calm, anxious, nervous, relaxed",
    "Clues: the subtitle says that he cannot believe it. Output: [surprised, confused]",
]


def build_tiny_chat_model(folder: Path, seed: int = 0, **config: Any) -> Path:
    """A 2-layer random Qwen2 causal LM with a byte-level BPE tokenizer and a chat template, all offline.

    ``config`` overrides the model's size settings (``Qwen2Config`` fields).
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL_TOKENS,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(CORPUS * 4, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    settings = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 8,
        "max_position_embeddings": 2048,
        "tie_word_embeddings": False,  # tied random weights just echo the last prompt token
    } | config
    model_config = Qwen2Config(
        vocab_size=len(tokenizer),
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        **settings,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(model_config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@dataclass
class Reply:
    """What the fake server sends for one request."""

    content: str | None = "ok"
    status: int = 200
    delay: float = 0.0
    raw_body: bytes | None = None  # sent as-is instead of a well-formed completion
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[int, dict[str, Any]], Reply]


def echo_responder(index: int, body: dict[str, Any]) -> Reply:
    return Reply(content=f"echo: {body['messages'][-1]['content'][:30]}")


class ChatServer:
    """A real HTTP server on 127.0.0.1 speaking the chat-completions protocol, run in a thread."""

    def __init__(self, responder: Responder = echo_responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with server._lock:
                    index = len(server.requests)
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                finished = False

                def finish() -> None:
                    # A request stops counting once its reply is ready, before a byte of it is sent:
                    # the client may start its next request as soon as it has read this reply, which
                    # can be before this thread runs again.
                    nonlocal finished
                    if not finished:
                        finished = True
                        with server._lock:
                            server.in_flight -= 1

                try:
                    if self.path != "/v1/chat/completions":
                        reply = Reply(status=404, raw_body=b'{"error": "not found"}')
                    else:
                        reply = server.responder(index, body)
                    time.sleep(reply.delay)
                    payload = reply.raw_body
                    if payload is None:
                        payload = json.dumps(
                            {
                                "id": f"cmpl-{index}",
                                "object": "chat.completion",
                                "model": body["model"],
                                "choices": [
                                    {
                                        "index": 0,
                                        "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": reply.content},
                                    }
                                ],
                            }
                        ).encode()
                    finish()
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                finally:
                    finish()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
