"""LLaVA-NeXT-Video through transformers' ``LlavaNextVideoForConditionalGeneration``.

Video frames are not tiled like LLaVA-NeXT images: each frame is resized on
its short side, centre-cropped and normalised (the checkpoint's video
preprocessing), here by the PIL ``LlavaImageProcessor`` built from the
checkpoint's video preprocessor settings, so no torchvision is needed. The
vision tower's patch grid of every frame is average-pooled by
``spatial_pool_stride`` before the projector, which fixes the number of
``<video>`` tokens: ``frames * (grid_h // stride) * (grid_w // stride)``.
"""

from __future__ import annotations

from typing import Any

import torch

from ovmer.describe.adapter import DescribeAdapter
from ovmer.describe.adapters import _hf
from ovmer.describe.message import Message
from ovmer.describe.registry import get_baseline

# Per-frame preprocessing settings shared by the image and video preprocessor configs; anyres keys
# (grid pinpoints, padding) are image-only and must not leak into frame processing.
FRAME_KEYS = (
    "do_resize", "size", "resample", "do_center_crop", "crop_size", "do_rescale", "rescale_factor",
    "do_normalize", "image_mean", "image_std", "do_convert_rgb",
)


class LlavaNextVideoAdapter(DescribeAdapter):
    spec = get_baseline("LLaVA-NeXT-Video")

    model: Any = None

    def load(self) -> None:
        from transformers import LlavaNextVideoForConditionalGeneration

        source = _hf.model_source(self)
        device = _hf.resolve_device(self.device)
        self.model = _hf.load_model(
            LlavaNextVideoForConditionalGeneration, source, _hf.resolve_dtype(self.dtype, device), device
        )
        self.tokenizer = _hf.load_tokenizer(source)
        settings = _hf.read_preprocessor_config(source, ("video_preprocessor_config.json", "preprocessor_config.json"))
        frame_settings = {key: settings[key] for key in FRAME_KEYS if key in settings}
        self.frame_processor = _hf.image_processor_class("LlavaImageProcessor")(do_pad=False, **frame_settings)
        config = self.model.config
        self.video_token = _hf.placeholder_token(self.tokenizer, config.video_token_index, "video")
        self.patch_size = config.vision_config.patch_size
        self.pool_stride = config.spatial_pool_stride

    def build_inputs(self, message: Message) -> dict[str, Any]:
        """Token ids and pixels for one message (no model call; used by tests to count tokens)."""
        frames = _hf.message_frames(message)
        pixels = self.frame_processor(images=list(frames), return_tensors="np")["pixel_values"]
        num_frames, _, height, width = pixels.shape
        grid_h, grid_w = height // self.patch_size, width // self.patch_size
        tokens_per_frame = (grid_h // self.pool_stride) * (grid_w // self.pool_stride)
        prompt = f"USER: {self.video_token}\n{message.text()} ASSISTANT:"
        if message.system:
            prompt = f"{message.system} {prompt}"
        inputs = _hf.tokenize_with_placeholders(
            self.tokenizer, prompt, {self.video_token: num_frames * tokens_per_frame},
            {self.video_token: self.model.config.video_token_index},
        )
        inputs["pixel_values_videos"] = torch.from_numpy(pixels).unsqueeze(0)
        return inputs

    def describe(self, message: Message) -> str:
        if self.model is None:
            self.load()
        return _hf.generate_text(
            self.model, self.tokenizer, self.build_inputs(message),
            max_new_tokens=self.max_new_tokens, do_sample=self.do_sample, float_keys=("pixel_values_videos",),
        )
