"""transformers' ``WhisperForConditionalGeneration`` and ``WhisperProcessor`` from a local folder.

Any Whisper checkpoint saved with ``save_pretrained``; greedy decoding; clips
longer than 30 s are cut into 30 s windows (Whisper's fixed input length).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ovmer.describe.transcriber import SAMPLE_RATE, Transcriber, check_model_folder
from ovmer.devices import resolve_dtype

WINDOW_SECONDS = 30


class WhisperTranscriber(Transcriber):
    """transformers Whisper from a local folder; greedy decoding, 30 s windows."""

    backend = "whisper"

    def load(self) -> None:
        path = check_model_folder(self.model_path)
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self._torch = torch
        self._dtype = resolve_dtype(self.dtype, self.device, cuda_default="float16")
        self.processor = WhisperProcessor.from_pretrained(str(path))
        model = WhisperForConditionalGeneration.from_pretrained(str(path), dtype=self._dtype)
        self.model = model.to(self.device).eval()
        # The decoder's positions bound prompt + answer; leave room for the 4 prompt tokens.
        room = int(self.model.config.max_target_positions) - 4
        self._max_new = max(1, min(self.max_new_tokens, room))

    def transcribe(self, waveform: np.ndarray) -> str:
        window = WINDOW_SECONDS * SAMPLE_RATE
        pieces = [waveform[i : i + window] for i in range(0, max(1, len(waveform)), window)]
        features = self.processor.feature_extractor(
            pieces, sampling_rate=SAMPLE_RATE, return_tensors="pt"
        ).input_features.to(self.device, self._dtype)
        kwargs: dict[str, Any] = {"max_new_tokens": self._max_new, "do_sample": False}
        if self.language is not None or self.task != "transcribe":
            kwargs.update(language=self.language, task=self.task)
        with self._torch.inference_mode():
            ids = self.model.generate(features, **kwargs)
        texts = self.processor.batch_decode(ids, skip_special_tokens=True)
        return " ".join(t.strip() for t in texts if t.strip())
