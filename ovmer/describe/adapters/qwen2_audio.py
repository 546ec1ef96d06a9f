"""Qwen2-Audio-7B-Instruct through transformers' ``Qwen2AudioForConditionalGeneration``.

The waveform (16 kHz) goes through the checkpoint's Whisper feature
extractor, padded to its fixed window (30 s; longer audio is cut there, as
upstream does). The audio encoder halves the mel frames twice (a strided
convolution, then pooling), so ``L`` valid mel frames become
``((L - 1) // 2 + 1 - 2) // 2 + 1`` ``<|AUDIO|>`` tokens in the ChatML prompt.
"""

from __future__ import annotations

from typing import Any

from ovmer.describe.adapters import _hf
from ovmer.describe.registry import get_baseline
from ovmer.messages import Chat

DEFAULT_SYSTEM = "You are a helpful assistant."


def audio_token_count(valid_mel_frames: int) -> int:
    """Tokens the audio encoder emits for ``valid_mel_frames`` mel frames (stride-2 conv, then stride-2 pool)."""
    after_conv = (valid_mel_frames - 1) // 2 + 1
    return (after_conv - 2) // 2 + 1


class Qwen2AudioAdapter(_hf.TransformersAdapter):
    spec = get_baseline("Qwen2-Audio-7B-Instruct")
    model_class = "Qwen2AudioForConditionalGeneration"
    float_keys = ("input_features",)

    def load_processors(self, source: str) -> None:
        from transformers import WhisperFeatureExtractor

        self.feature_extractor = WhisperFeatureExtractor.from_pretrained(source)
        config = self.model.config
        self.audio_token = _hf.placeholder_token(self.tokenizer, config.audio_token_index, "audio")

    def build_inputs(self, message: Chat) -> dict[str, Any]:
        """Token ids and mel features for one message (no model call; used by tests to count tokens)."""
        features, num_tokens = _hf.whisper_audio_inputs(self.feature_extractor, message, audio_token_count)
        prompt = _hf.chatml_prompt(
            message.system or DEFAULT_SYSTEM,
            f"Audio 1: <|audio_bos|>{self.audio_token}<|audio_eos|>\n{message.text()}",
        )
        inputs = _hf.tokenize_with_placeholders(
            self.tokenizer, prompt, {self.audio_token: num_tokens},
            {self.audio_token: self.model.config.audio_token_index},
        )
        inputs.update(features)
        return inputs
