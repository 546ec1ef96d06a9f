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

import numpy as np

from ovmer.describe.adapters import _hf
from ovmer.describe.registry import get_baseline

# Per-frame preprocessing settings shared by the image and video preprocessor configs; anyres keys
# (grid pinpoints, padding) are image-only and must not leak into frame processing.
FRAME_KEYS = (
    "do_resize", "size", "resample", "do_center_crop", "crop_size", "do_rescale", "rescale_factor",
    "do_normalize", "image_mean", "image_std", "do_convert_rgb",
)


class LlavaNextVideoAdapter(_hf.LlavaVideoAdapter):
    spec = get_baseline("LLaVA-NeXT-Video")
    model_class = "LlavaNextVideoForConditionalGeneration"

    def load_processors(self, source: str) -> None:
        settings = _hf.read_preprocessor_config(source, ("video_preprocessor_config.json", "preprocessor_config.json"))
        frame_settings = {key: settings[key] for key in FRAME_KEYS if key in settings}
        self.frame_processor = _hf.image_processor_class("LlavaImageProcessor")(do_pad=False, **frame_settings)
        super().load_processors(source)
        self.pool_stride = self.model.config.spatial_pool_stride

    def frame_pixels(self, frames: np.ndarray) -> np.ndarray:
        return self.frame_processor(images=list(frames), return_tensors="np")["pixel_values"]

    def tokens_per_frame(self, height: int, width: int) -> int:
        grid_h, grid_w = height // self.patch_size, width // self.patch_size
        return (grid_h // self.pool_stride) * (grid_w // self.pool_stride)
