"""Video-LLaVA through transformers' ``VideoLlavaForConditionalGeneration``.

Frames go one by one through ``VideoLlavaImageProcessor`` (CLIP resize,
centre crop, normalise; no torchvision), are stacked as
``pixel_values_videos`` of shape ``(1, T, 3, H, W)``, and the ``<video>``
placeholder is repeated once per output token of the video tower: every frame
gives one token per patch plus CLIP's class token.
"""

from __future__ import annotations

from typing import Any

import torch

from ovmer.describe.adapter import DescribeAdapter
from ovmer.describe.adapters import _hf
from ovmer.describe.message import Message
from ovmer.describe.registry import get_baseline


class VideoLlavaAdapter(DescribeAdapter):
    spec = get_baseline("Video-LLaVA")

    model: Any = None

    def load(self) -> None:
        from transformers import VideoLlavaForConditionalGeneration

        source = _hf.model_source(self)
        device = _hf.resolve_device(self.device)
        self.model = _hf.load_model(
            VideoLlavaForConditionalGeneration, source, _hf.resolve_dtype(self.dtype, device), device
        )
        self.tokenizer = _hf.load_tokenizer(source)
        self.image_processor = _hf.image_processor_class("VideoLlavaImageProcessor").from_pretrained(source)
        config = self.model.config
        self.video_token = _hf.placeholder_token(self.tokenizer, config.video_token_index, "video")
        self.patch_size = config.vision_config.patch_size

    def build_inputs(self, message: Message) -> dict[str, Any]:
        """Token ids and pixels for one message (no model call; used by tests to count tokens)."""
        frames = _hf.message_frames(message)
        processed = self.image_processor(images=list(frames), return_tensors="np")
        pixels = processed.get("pixel_values", processed.get("pixel_values_images"))
        num_frames, _, height, width = pixels.shape
        # one token per patch plus CLIP's class token, for every frame
        tokens_per_frame = (height // self.patch_size) * (width // self.patch_size) + 1
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
