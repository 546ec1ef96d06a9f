"""Qwen2.5-Omni (thinker only) through ``Qwen2_5OmniThinkerForConditionalGeneration``.

The thinker reads audio, video and text together and writes text; the talker
(speech output) is never loaded. Inputs are built without torchvision:

- video: every frame goes through the PIL Qwen2-VL image processor (smart
  resize to the video pixel budget, normalise, cut into 14x14 patches); the
  image processor repeats each frame over the temporal patch, so pairs of
  consecutive frames are regrouped here into the video layout
  ``(t, h-blocks, w-blocks, merge, merge, channel, temporal, patch, patch)``
  that the video processor would produce. An odd last frame is repeated.
  ``video_grid_thw`` is ``(T / 2, grid_h, grid_w)`` and the merger turns every
  2x2 patch block into one ``<|VIDEO|>`` token.
- audio: Whisper features of the 16 kHz waveform; ``L`` valid mel frames give
  ``((L - 1) // 2 + 1 - 2) // 2 + 1`` ``<|AUDIO|>`` tokens.

Audio and video are given as two segments of the user turn (not interleaved
in 2-second chunks as with ``use_audio_in_video``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ovmer.describe.adapters import _hf
from ovmer.describe.adapters.qwen2_audio import audio_token_count  # same audio encoder as Qwen2-Audio
from ovmer.describe.registry import get_baseline
from ovmer.errors import OvmerError
from ovmer.messages import Chat

DEFAULT_SYSTEM = (
    "You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of perceiving auditory "
    "and visual inputs, as well as generating text and speech."
)
# The video pixel budget of the transformers Qwen2.5-Omni processor (per frame).
VIDEO_MIN_PIXELS = 128 * 28 * 28
VIDEO_MAX_PIXELS = 768 * 28 * 28


def frames_to_video_patches(
    frame_patches: np.ndarray, num_frames: int, grid_h: int, grid_w: int, channels: int,
    temporal_patch: int, patch: int,
) -> np.ndarray:
    """Regroup per-frame image patches (each frame repeated over the temporal patch) into video patches.

    ``frame_patches`` has shape ``(num_frames * grid_h * grid_w, channels * temporal_patch * patch * patch)``;
    frame ``f`` of temporal group ``t`` is taken from its own image, so the result equals the
    video processor's ``(t, patches, channels, temporal, patch, patch)`` layout, flattened.
    """
    per_frame = frame_patches.reshape(num_frames, grid_h * grid_w, channels, temporal_patch, patch, patch)
    single = per_frame[:, :, :, 0]  # the repeats are copies of the same frame
    groups = single.reshape(num_frames // temporal_patch, temporal_patch, grid_h * grid_w, channels, patch, patch)
    video = groups.transpose(0, 2, 3, 1, 4, 5)  # (t, patches, channels, temporal, patch, patch)
    return np.ascontiguousarray(video).reshape(-1, channels * temporal_patch * patch * patch)


class Qwen25OmniAdapter(_hf.TransformersAdapter):
    spec = get_baseline("Qwen2.5-Omni")
    model_class = "Qwen2_5OmniThinkerForConditionalGeneration"
    float_keys = ("pixel_values_videos", "input_features")

    def __init__(self, *args: Any, video_min_pixels: int = VIDEO_MIN_PIXELS,
                 video_max_pixels: int = VIDEO_MAX_PIXELS, default_fps: float = 2.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.video_min_pixels = video_min_pixels
        self.video_max_pixels = video_max_pixels
        self.default_fps = default_fps

    def generation_settings(self) -> dict[str, object]:
        settings = super().generation_settings()
        settings.update(video_min_pixels=self.video_min_pixels, video_max_pixels=self.video_max_pixels)
        return settings

    def load_processors(self, source: str) -> None:
        from transformers import WhisperFeatureExtractor

        self.image_processor = _hf.image_processor_class("Qwen2VLImageProcessor").from_pretrained(source)
        self.feature_extractor = WhisperFeatureExtractor.from_pretrained(source)
        config = self.model.config

        def token(attribute: str, fallback: str, what: str) -> str:
            token_id = getattr(config, attribute, None)
            if token_id is None:
                token_id = self.tokenizer.convert_tokens_to_ids(fallback)
            return _hf.placeholder_token(self.tokenizer, token_id, what)

        self.audio_token = token("audio_token_index", "<|AUDIO|>", "audio")
        self.video_token = token("video_token_index", "<|VIDEO|>", "video")
        self.audio_bos = token("audio_start_token_id", "<|audio_bos|>", "audio start")
        self.audio_eos = token("audio_end_token_id", "<|audio_eos|>", "audio end")
        self.vision_bos = token("vision_start_token_id", "<|vision_bos|>", "vision start")
        self.vision_eos = token("vision_end_token_id", "<|vision_eos|>", "vision end")

    def _video_inputs(self, message: Chat) -> tuple[dict[str, Any], int]:
        frames = _hf.message_frames(message)
        proc = self.image_processor
        temporal = proc.temporal_patch_size
        if len(frames) % temporal:  # pad with the last frame, like the video processor
            pad = temporal - len(frames) % temporal
            frames = np.concatenate([frames, np.repeat(frames[-1:], pad, axis=0)])
        out = proc(
            images=list(frames), return_tensors="np",
            size={"shortest_edge": self.video_min_pixels, "longest_edge": self.video_max_pixels},
        )
        grids = out["image_grid_thw"]
        if not (grids == grids[0]).all():
            raise OvmerError(f"sample {message.name}: frames of different sizes in one video")
        _, grid_h, grid_w = (int(v) for v in grids[0])
        patches = frames_to_video_patches(
            out["pixel_values"], len(frames), grid_h, grid_w, 3, temporal, proc.patch_size
        )
        grid_t = len(frames) // temporal
        fps = _hf.frame_rate(message, self.default_fps)
        inputs = {
            "pixel_values_videos": torch.from_numpy(patches),
            "video_grid_thw": torch.tensor([[grid_t, grid_h, grid_w]], dtype=torch.long),
            "video_second_per_grid": torch.tensor([temporal / fps], dtype=torch.float32),
        }
        return inputs, grid_t * grid_h * grid_w // proc.merge_size**2

    def build_inputs(self, message: Chat) -> dict[str, Any]:
        """Token ids, pixels and mel features for one message (no model call; used by tests)."""
        if message.video() is None and message.audio() is None:
            raise OvmerError(f"sample {message.name}: Qwen2.5-Omni needs video and/or audio")
        media: dict[str, Any] = {}
        expansions: dict[str, int] = {}
        segments = ""
        if message.video() is not None:
            video_inputs, count = self._video_inputs(message)
            media.update(video_inputs)
            expansions[self.video_token] = count
            segments += f"{self.vision_bos}{self.video_token}{self.vision_eos}"
        if message.audio() is not None:
            audio_inputs, count = _hf.whisper_audio_inputs(self.feature_extractor, message, audio_token_count)
            media.update(audio_inputs)
            expansions[self.audio_token] = count
            segments += f"{self.audio_bos}{self.audio_token}{self.audio_eos}"
        prompt = _hf.chatml_prompt(message.system or DEFAULT_SYSTEM, f"{segments}{message.text()}")
        token_ids = {tok: self.tokenizer.convert_tokens_to_ids(tok) for tok in expansions}
        inputs = _hf.tokenize_with_placeholders(self.tokenizer, prompt, expansions, token_ids)
        inputs.update(media)
        return inputs
