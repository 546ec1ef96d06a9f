"""whisperx: CTranslate2 Whisper with VAD batching (``pip install whisperx``, see environment_whisperx.yml).

The whisperx package is imported only when the model loads.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ovmer.describe.transcriber import Transcriber
from ovmer.devices import dtype_name
from ovmer.errors import OvmerError


class WhisperXTranscriber(Transcriber):
    """whisperx (``pip install whisperx``, see environment_whisperx.yml); batched with VAD."""

    backend = "whisperx"

    def __init__(self, *args: Any, batch_size: int = 16, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_size = batch_size

    def load(self) -> None:
        try:
            whisperx = importlib.import_module("whisperx")
        except ImportError as exc:
            raise OvmerError(
                "the whisperx backend needs the whisperx package; create the environment in "
                "environment_whisperx.yml, or use --backend whisper"
            ) from exc
        on_gpu = self.device.startswith("cuda")
        # CTranslate2 runs float16 on a GPU (what "auto" means for ASR) and float32 otherwise.
        half = on_gpu and dtype_name(self.dtype, self.device, cuda_default="float16") == "float16"
        self.model = whisperx.load_model(
            self.model_path, self.device, compute_type="float16" if half else "float32",
            language=self.language, task=self.task,
        )

    def transcribe(self, waveform: np.ndarray) -> str:
        result = self.model.transcribe(waveform.astype(np.float32), batch_size=self.batch_size)
        return " ".join(seg["text"].strip() for seg in result.get("segments", []) if seg.get("text", "").strip())
