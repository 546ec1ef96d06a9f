"""Video-LLaVA through transformers' ``VideoLlavaForConditionalGeneration``.

Frames go one by one through ``VideoLlavaImageProcessor`` (CLIP resize,
centre crop, normalise; no torchvision), are stacked as
``pixel_values_videos`` of shape ``(1, T, 3, H, W)``, and the ``<video>``
placeholder is repeated once per output token of the video tower: every frame
gives one token per patch plus CLIP's class token.
"""

from __future__ import annotations

import numpy as np

from ovmer.describe.adapters import _hf
from ovmer.describe.registry import get_baseline


class VideoLlavaAdapter(_hf.LlavaVideoAdapter):
    spec = get_baseline("Video-LLaVA")
    model_class = "VideoLlavaForConditionalGeneration"

    def load_processors(self, source: str) -> None:
        self.image_processor = _hf.image_processor_class("VideoLlavaImageProcessor").from_pretrained(source)
        super().load_processors(source)

    def frame_pixels(self, frames: np.ndarray) -> np.ndarray:
        processed = self.image_processor(images=list(frames), return_tensors="np")
        return processed.get("pixel_values", processed.get("pixel_values_images"))

    def tokens_per_frame(self, height: int, width: int) -> int:
        # one token per patch plus CLIP's class token
        return (height // self.patch_size) * (width // self.patch_size) + 1
