"""Qwen2-Audio-7B-Instruct through transformers' ``Qwen2AudioForConditionalGeneration``.

The waveform (16 kHz) goes through the checkpoint's Whisper feature
extractor, padded to its fixed window (30 s; longer audio is cut there, as
upstream does). The audio encoder halves the mel frames twice (a strided
convolution, then pooling), so ``L`` valid mel frames become
``((L - 1) // 2 + 1 - 2) // 2 + 1`` ``<|AUDIO|>`` tokens in the ChatML prompt.
"""

from __future__ import annotations

from typing import Any

import torch

from ovmer.describe.adapter import DescribeAdapter
from ovmer.describe.adapters import _hf
from ovmer.describe.message import AUDIO_SAMPLE_RATE, Message
from ovmer.describe.registry import get_baseline

DEFAULT_SYSTEM = "You are a helpful assistant."


def audio_token_count(valid_mel_frames: int) -> int:
    """Tokens the audio encoder emits for ``valid_mel_frames`` mel frames (stride-2 conv, then stride-2 pool)."""
    after_conv = (valid_mel_frames - 1) // 2 + 1
    return (after_conv - 2) // 2 + 1


class Qwen2AudioAdapter(DescribeAdapter):
    spec = get_baseline("Qwen2-Audio-7B-Instruct")

    model: Any = None

    def load(self) -> None:
        from transformers import Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

        source = _hf.model_source(self)
        device = _hf.resolve_device(self.device)
        self.model = _hf.load_model(
            Qwen2AudioForConditionalGeneration, source, _hf.resolve_dtype(self.dtype, device), device
        )
        self.tokenizer = _hf.load_tokenizer(source)
        self.feature_extractor = WhisperFeatureExtractor.from_pretrained(source)
        config = self.model.config
        self.audio_token = _hf.placeholder_token(self.tokenizer, config.audio_token_index, "audio")

    def build_inputs(self, message: Message) -> dict[str, Any]:
        """Token ids and mel features for one message (no model call; used by tests to count tokens)."""
        waveform = _hf.message_audio(message)
        features = self.feature_extractor(
            waveform, sampling_rate=AUDIO_SAMPLE_RATE, return_attention_mask=True,
            padding="max_length", return_tensors="pt",
        )
        mask = features["attention_mask"]
        num_tokens = _hf.check_audio_tokens(message, audio_token_count(int(mask.sum())))
        system = message.system or DEFAULT_SYSTEM
        prompt = (
            f"<|im_start|>system\n{system}<|im_end|>\n"
            f"<|im_start|>user\nAudio 1: <|audio_bos|>{self.audio_token}<|audio_eos|>\n{message.text()}<|im_end|>\n"
            "<|im_start|>assistant\n"
        )
        inputs = _hf.tokenize_with_placeholders(
            self.tokenizer, prompt, {self.audio_token: num_tokens},
            {self.audio_token: self.model.config.audio_token_index},
        )
        inputs["input_features"] = features["input_features"]
        inputs["feature_attention_mask"] = mask.to(torch.long)
        return inputs

    def describe(self, message: Message) -> str:
        if self.model is None:
            self.load()
        return _hf.generate_text(
            self.model, self.tokenizer, self.build_inputs(message),
            max_new_tokens=self.max_new_tokens, do_sample=self.do_sample, float_keys=("input_features",),
        )
