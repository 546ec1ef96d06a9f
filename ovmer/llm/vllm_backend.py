"""vLLM offline-engine backend (GPU). ``vllm`` is imported only when this backend loads."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ovmer.errors import OvmerError
from ovmer.keys import model_revision
from ovmer.llm.client import ChatMessage, LLMBackend, conversation_dicts
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
        self.model = model
        self.dtype = dtype
        self.tensor_parallel_size = tensor_parallel_size
        self.gpu_memory_utilization = gpu_memory_utilization
        self.max_model_len = max_model_len
        # Skips graph capture/compilation: slower generation, much faster start (short runs, CPU).
        self.enforce_eager = enforce_eager
        self._model_id = model_id or Path(model).name or model
        self._engine: Any = None
        self._revision: object = _UNRESOLVED

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def revision(self) -> str | None:
        """The model files' fingerprint, so changed weights or templates invalidate stored replies."""
        if self._revision is _UNRESOLVED:
            self._revision = model_revision(self.model)
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
        self._engine = vllm.LLM(**options)

    def sampling_params(self, settings: GenerationSettings) -> Any:
        vllm = import_vllm()
        if settings.do_sample:
            return vllm.SamplingParams(
                temperature=settings.temperature,
                top_p=settings.top_p,
                repetition_penalty=settings.repetition_penalty,
                max_tokens=settings.max_new_tokens,
                seed=settings.seed,
            )
        return vllm.SamplingParams(
            temperature=0.0,
            repetition_penalty=settings.repetition_penalty,
            max_tokens=settings.max_new_tokens,
        )

    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings: GenerationSettings) -> list[str]:
        self.load()
        conversations = [conversation_dicts(conversation) for conversation in batch]
        outputs = self._engine.chat(conversations, self.sampling_params(settings), use_tqdm=False)
        return [output.outputs[0].text.strip() for output in outputs]

    def close(self) -> None:
        self._engine = None
