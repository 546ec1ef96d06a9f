"""The per-model contract of the ASR stage, shaped like the describe adapters'.

A transcriber knows one speech recogniser: ``load()`` builds it (heavy imports
happen there) and ``transcribe(waveform)`` turns 16 kHz mono float32 audio into
text. One file per backend in :mod:`ovmer.describe.transcribers`, plus one line
in :data:`ovmer.describe.asr.ASR_BACKENDS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from ovmer.errors import OvmerError

SAMPLE_RATE = 16_000
Task = Literal["transcribe", "translate"]


class Transcriber(ABC):
    """Base of the ASR backends: ``load()`` then ``transcribe(waveform)`` on 16 kHz mono float32."""

    backend: ClassVar[str] = ""

    def __init__(
        self,
        model_path: str,
        device: str = "cpu",
        dtype: str = "auto",
        language: str | None = None,
        task: Task = "transcribe",
        max_new_tokens: int = 200,
    ) -> None:
        if task not in ("transcribe", "translate"):
            raise OvmerError(f"ASR task must be transcribe or translate, got {task!r}")
        self.model_path = model_path
        self.device = device
        self.dtype = dtype
        self.language = language
        self.task = task
        self.max_new_tokens = max_new_tokens

    def settings(self) -> dict[str, Any]:
        """Everything besides the audio that the text depends on (part of the store key)."""
        return {"backend": self.backend, "language": self.language, "task": self.task,
                "max_new_tokens": self.max_new_tokens, "dtype": self.dtype}

    @abstractmethod
    def load(self) -> None:
        """Build the model (called once, and only when a clip is left to do)."""

    @abstractmethod
    def transcribe(self, waveform: np.ndarray) -> str:
        """The text spoken in ``waveform``."""


def check_model_folder(model_path: str | None) -> Path:
    """The local folder of an ASR checkpoint, which must exist."""
    if not model_path:
        raise OvmerError("ASR needs --model-path: a local folder holding a Whisper checkpoint")
    path = Path(model_path).expanduser()
    if not path.exists():
        raise OvmerError(f"{path}: ASR model folder does not exist")
    return path
