"""Hugging Face transformers backend: a local model folder (or GGUF file), its chat template, batched generate.

Heavy imports (torch, transformers) happen when the model loads. Prompts are
left-padded so that every conversation in a batch ends where generation starts.
A ``.gguf`` model is converted once into a cached folder (:mod:`ovmer.llm.gguf`).

``dtype="auto"`` is bfloat16 on a CPU with bfloat16 instructions, float32 on
other CPUs and the checkpoint's own dtype on CUDA (:func:`ovmer.devices.llm_dtype_name`);
a dtype other than the checkpoint's enters the store key, so float32 and
bfloat16 replies are never mixed up (and keys of runs in the checkpoint's dtype
are what they always were).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ovmer.devices import DTYPE_CHOICES, llm_dtype_name, resolve_device
from ovmer.errors import OvmerError
from ovmer.keys import folder_fingerprint
from ovmer.llm.client import NO_CHAT_TEMPLATE_FIX, ChatMessage, LLMBackend, Reply, conversation_dicts
from ovmer.llm.gguf import convert_gguf, is_gguf
from ovmer.llm.presets import GenerationSettings

DTYPES = DTYPE_CHOICES


def checkpoint_dtype(folder: Path) -> str:
    """The dtype a checkpoint's config.json names (``dtype``, formerly ``torch_dtype``); float32 if none."""
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return "float32"
    return str(config.get("dtype") or config.get("torch_dtype") or "float32")


class TransformersBackend(LLMBackend):
    name = "transformers"

    def __init__(
        self,
        model: str,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 8,
        model_id: str | None = None,
        trust_remote_code: bool = False,
        progress: bool = True,
    ) -> None:
        if dtype not in DTYPES:
            raise OvmerError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if batch_size < 1:
            raise OvmerError(f"batch_size must be at least 1, got {batch_size}")
        gguf = convert_gguf(model, progress=progress) if is_gguf(model) else None
        self.folder = gguf.folder if gguf else Path(model).expanduser()
        if not (self.folder / "config.json").is_file():
            raise OvmerError(
                f"{self.folder}: not a local model folder (no config.json); the transformers backend "
                "loads a downloaded checkpoint folder (e.g. Qwen2.5-7B-Instruct) or a .gguf file"
            )
        self.gguf = gguf
        self.device_request = device
        self.dtype = dtype
        self.batch_size = batch_size
        self._model_id = model_id or (gguf.model_id if gguf else self.folder.resolve().name)
        self._revision = gguf.revision if gguf else folder_fingerprint(self.folder)
        self.trust_remote_code = trust_remote_code
        self._model: Any = None
        self._tokenizer: Any = None
        self.device: str | None = None
        self._resolved_dtype: str | None = None

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def revision(self) -> str:
        return self._revision

    @property
    def resolved_dtype(self) -> str:
        """The float type the model runs in (resolving ``auto`` needs the device, hence torch)."""
        if self._resolved_dtype is None:
            device = self.device or str(resolve_device(self.device_request))
            self._resolved_dtype = llm_dtype_name(self.dtype, device, checkpoint_dtype(self.folder))
        return self._resolved_dtype

    def key_fields(self) -> dict[str, Any]:
        dtype = self.resolved_dtype
        return {} if dtype == checkpoint_dtype(self.folder) else {"dtype": dtype}

    def run_info(self) -> dict[str, Any]:
        info = {
            **super().run_info(),
            "folder": str(self.folder),
            "device": self.device or self.device_request,
            "dtype": self._resolved_dtype or self.dtype,
            "revision": self.revision,
        }
        if self.gguf:
            info["gguf"] = str(self.gguf.file)
        return info

    def load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = str(resolve_device(self.device_request))
        self.device = device
        tokenizer = AutoTokenizer.from_pretrained(self.folder, trust_remote_code=self.trust_remote_code)
        if not tokenizer.chat_template:
            raise OvmerError(f"{self.folder}: the tokenizer has no chat template; {NO_CHAT_TEMPLATE_FIX}")
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(
            self.folder, dtype=getattr(torch, self.resolved_dtype), trust_remote_code=self.trust_remote_code
        )
        model.to(device)
        model.eval()
        self._tokenizer, self._model = tokenizer, model

    def render(self, conversation: Sequence[ChatMessage]) -> str:
        """The conversation as the model sees it, through its chat template."""
        self.load()
        return self._tokenizer.apply_chat_template(
            conversation_dicts(conversation), tokenize=False, add_generation_prompt=True
        )

    def _generation_kwargs(self, settings: GenerationSettings) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": settings.token_limit,
            "do_sample": settings.do_sample,
            "repetition_penalty": settings.repetition_penalty,
            "pad_token_id": self._tokenizer.pad_token_id,
        }
        if settings.stop_strings:
            # A stopping criterion: each row ends at the token completing a stop string.
            kwargs.update(stop_strings=list(settings.stop_strings), tokenizer=self._tokenizer)
        if settings.do_sample:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p, top_k=0)
        else:
            # Override sampling defaults a checkpoint's generation_config may carry.
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs

    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings: GenerationSettings) -> list[str]:
        self.load()
        import torch

        if settings.do_sample and settings.seed is not None:
            torch.manual_seed(settings.seed)
        replies: list[str] = []
        kwargs = self._generation_kwargs(settings)
        ends = self._end_tokens()
        for start in range(0, len(batch), self.batch_size):
            texts = [self.render(conversation) for conversation in batch[start : start + self.batch_size]]
            # The chat template already holds the special tokens; don't add BOS twice.
            inputs = self._tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            inputs = inputs.to(self.device)
            with torch.inference_mode():
                output = self._model.generate(**inputs, **kwargs)
            new_tokens = output[:, inputs["input_ids"].shape[1] :]
            texts = self._tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            for row, text in zip(new_tokens, texts, strict=True):
                # Cut: the budget ran out (no end-of-sequence, padding or stop string ended the row).
                stopped = any(stop in text for stop in settings.stop_strings)
                ended = not ends.isdisjoint(row.tolist())
                cut = len(row) >= kwargs["max_new_tokens"] and not stopped and not ended
                replies.append(Reply(settings.cut_at_stop(text).strip(), cut=cut))
        return replies

    def _end_tokens(self) -> set[int]:
        """The token ids that end a row before the budget: end-of-sequence (any of them) and padding."""
        ends = self._model.generation_config.eos_token_id
        ends = set(ends if isinstance(ends, list) else [ends])
        return {int(t) for t in ends | {self._tokenizer.eos_token_id, self._tokenizer.pad_token_id} if t is not None}

    def close(self) -> None:
        self._model = None
        self._tokenizer = None
