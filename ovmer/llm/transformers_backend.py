"""Hugging Face transformers backend: a local model folder, its chat template, batched generate.

Heavy imports (torch, transformers) happen when the model loads. Prompts are
left-padded so that every conversation in a batch ends where generation starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ovmer.devices import DTYPE_CHOICES, resolve_device, resolve_dtype
from ovmer.errors import OvmerError
from ovmer.keys import folder_fingerprint
from ovmer.llm.client import ChatMessage, LLMBackend, conversation_dicts
from ovmer.llm.presets import GenerationSettings

DTYPES = DTYPE_CHOICES


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
    ) -> None:
        self.folder = Path(model).expanduser()
        if not (self.folder / "config.json").is_file():
            raise OvmerError(
                f"{self.folder}: not a local model folder (no config.json); the transformers backend "
                "loads a downloaded checkpoint folder, e.g. Qwen2.5-7B-Instruct"
            )
        if dtype not in DTYPES:
            raise OvmerError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if batch_size < 1:
            raise OvmerError(f"batch_size must be at least 1, got {batch_size}")
        self.device_request = device
        self.dtype = dtype
        self.batch_size = batch_size
        self._model_id = model_id or self.folder.resolve().name
        self._revision = folder_fingerprint(self.folder)
        self.trust_remote_code = trust_remote_code
        self._model: Any = None
        self._tokenizer: Any = None
        self.device: str | None = None

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def revision(self) -> str:
        return self._revision

    def run_info(self) -> dict[str, Any]:
        return {
            **super().run_info(),
            "folder": str(self.folder),
            "device": self.device or self.device_request,
            "dtype": self.dtype,
            "revision": self.revision,
        }

    def load(self) -> None:
        if self._model is not None:
            return
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = str(resolve_device(self.device_request))
        # "auto" here keeps the checkpoint's own dtype (from_pretrained's "auto"), unlike the media models.
        torch_dtype: Any = "auto" if self.dtype == "auto" else resolve_dtype(self.dtype, device, cuda_default="bfloat16")
        tokenizer = AutoTokenizer.from_pretrained(self.folder, trust_remote_code=self.trust_remote_code)
        if tokenizer.chat_template is None:
            raise OvmerError(
                f"{self.folder}: the tokenizer has no chat template; use an instruction-tuned model"
            )
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(
            self.folder, dtype=torch_dtype, trust_remote_code=self.trust_remote_code
        )
        model.to(device)
        model.eval()
        self._tokenizer, self._model, self.device = tokenizer, model, device

    def render(self, conversation: Sequence[ChatMessage]) -> str:
        """The conversation as the model sees it, through its chat template."""
        self.load()
        return self._tokenizer.apply_chat_template(
            conversation_dicts(conversation), tokenize=False, add_generation_prompt=True
        )

    def _generation_kwargs(self, settings: GenerationSettings) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": settings.max_new_tokens,
            "do_sample": settings.do_sample,
            "repetition_penalty": settings.repetition_penalty,
            "pad_token_id": self._tokenizer.pad_token_id,
        }
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
        for start in range(0, len(batch), self.batch_size):
            texts = [self.render(conversation) for conversation in batch[start : start + self.batch_size]]
            # The chat template already holds the special tokens; don't add BOS twice.
            inputs = self._tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            inputs = inputs.to(self.device)
            with torch.inference_mode():
                output = self._model.generate(**inputs, **kwargs)
            new_tokens = output[:, inputs["input_ids"].shape[1] :]
            replies.extend(
                text.strip() for text in self._tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            )
        return replies

    def close(self) -> None:
        self._model = None
        self._tokenizer = None
