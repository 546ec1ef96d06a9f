"""Any multimodal model behind an OpenAI-compatible chat-completions server, as a describe baseline.

``vllm serve``, SGLang and hosted multimodal APIs take one chat request per
sample: the prompt's system turn, then a user turn of the sampled frames (each
an ``image_url`` data URL, JPEG or PNG; or the clip as one ``video_url``), the
audio (an ``input_audio`` 16 kHz WAV), and the text: the subtitle line in the
subtitle setting, then the instruction. Which modalities are sent, how many
frames and how large are options; each changes the run's spec (so the prompt
names only what the model is given) and its store key.

The key holds the served model's name and the sha256 of the request recipe
(every field of the body besides the sample's prompt and media, which the
describe key holds already, and how media are encoded): a re-run against
another model, other sampling settings or another encoding redoes the sample.
The server's address is how to reach the model, not what it is, so it goes
into the records' meta, with the sha256 of the exact bytes each request sent.
Requests go through the package's one chat-completions client
(:mod:`ovmer.llm.chat_completions`): one retry policy, timeouts, ``concurrency``
samples in flight; each sample's media is encoded once, however many attempts
it takes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from ovmer.describe.adapter import BaselineSpec, DescribeAdapter, FramePolicy, Modality
from ovmer.describe.registry import BASELINES, get_baseline
from ovmer.errors import OvmerError
from ovmer.keys import payload_sha256, request_sha256
from ovmer.llm.chat_completions import DEFAULT_BASE_URL, encode_body
from ovmer.llm.openai_backend import OpenAIBackend
from ovmer.llm.presets import GenerationSettings, get_preset
from ovmer.messages import Chat, ImageFormat, OpenAIMedia

MEDIA: tuple[str, ...] = ("video", "audio")
# Bumped when the request's layout changes in a way the recipe's fields do not show.
REQUEST_LAYOUT = 1


def parse_modalities(value: str | Iterable[str] | None, default: Iterable[str]) -> frozenset[Modality]:
    """``"video,audio"``, ``"video"``, ``["audio"]`` ... as the spec's modalities (text is always there)."""
    if value is None:
        chosen = {m for m in default if m != "text"}
    else:
        items = value.replace("+", ",").split(",") if isinstance(value, str) else list(value)
        chosen = {str(m).strip().lower() for m in items if str(m).strip()} - {"text"}
    unknown = sorted(chosen - set(MEDIA))
    if unknown or not chosen:
        raise OvmerError(f"modalities must be video, audio or both (comma-separated); got {value!r}")
    return frozenset({*chosen, "text"})  # type: ignore[arg-type]


def store_name(model: str) -> str:
    """The folder name a served model's records go under: the last part of its name, file-safe."""
    tail = model.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"[^0-9A-Za-z._+-]+", "-", tail).strip("-.") or "served-model"


class OpenAICompatibleAdapter(DescribeAdapter):
    spec = get_baseline("openai-compatible")

    def __init__(
        self,
        model_path: str | None = None,
        device: str = "cpu",
        dtype: str = "auto",
        max_new_tokens: int = 256,
        do_sample: bool = False,
        *,
        model: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        name: str | None = None,
        modalities: str | Iterable[str] | None = None,
        num_frames: int | None = None,
        fps: float | None = None,
        max_frames: int | None = None,
        max_side: int | None = None,
        image_format: ImageFormat = "jpeg",
        jpeg_quality: int = 90,
        video_url: bool = False,
        settings: GenerationSettings | str | None = None,
        **server_options: Any,
    ) -> None:
        """``server_options`` are the text backend's: ``api_key_env``, ``timeout``, ``max_retries``,
        ``concurrency``, ``extra_sampling``... (:class:`~ovmer.llm.openai_backend.OpenAIBackend`)."""
        super().__init__(model_path, device, dtype, max_new_tokens, do_sample)
        if not model:
            raise OvmerError("openai-compatible needs --model: the model's name on the server")
        if model_path:
            raise OvmerError("openai-compatible reads no local weights: --model names the served model, "
                             "--base-url the server")
        if num_frames is not None and fps is not None:
            raise OvmerError("give --num-frames or --fps, not both")
        for what, value in (("num_frames", num_frames), ("max_frames", max_frames), ("max_side", max_side)):
            if value is not None and value < 1:
                raise OvmerError(f"{what} must be at least 1, got {value}")
        if fps is not None and fps <= 0:
            raise OvmerError(f"fps must be positive, got {fps}")
        self.model = model
        self.name = name or store_name(model)
        self.modalities = parse_modalities(modalities, self.spec.modalities)
        self.frames = self._frame_policy(num_frames, fps, max_frames)
        self.frame_max_side = max_side
        self.media = OpenAIMedia(image_format=image_format, jpeg_quality=jpeg_quality, video_url=video_url)
        if settings is None:
            settings = get_preset("paper" if do_sample else "deterministic")
        self.settings = get_preset(settings).replace(max_new_tokens=max_new_tokens)
        # The text stages' backend does the sending: one client, one retry policy, one body layout.
        self.backend = OpenAIBackend(model, base_url, **server_options)
        self.concurrency = self.backend.concurrency

    def _frame_policy(self, num_frames: int | None, fps: float | None, max_frames: int | None) -> FramePolicy:
        if num_frames is not None:
            return FramePolicy(num_frames=num_frames)
        if fps is not None:
            return FramePolicy(fps=fps, max_frames=max_frames)
        if max_frames is not None:
            raise OvmerError("--max-frames caps sampling by --fps: give --fps too, or --num-frames")
        return self.spec.frame_policy

    def run_spec(self, registered: BaselineSpec) -> BaselineSpec:
        if self.name in BASELINES:
            raise OvmerError(
                f"served model {self.model!r} would be stored as {self.name!r}, the name of baseline "
                f"{BASELINES.canonical(self.name)!r}: give another with --name"
            )
        return dataclasses.replace(
            registered, name=self.name, modalities=self.modalities, frames=self.frames, checkpoint=self.model,
            notes=f"{self.model} at {self.backend.base_url}",
        )

    def load(self) -> None:
        """Nothing to load: the server holds the model (an unreachable one fails the first samples)."""

    def recipe(self) -> dict[str, Any]:
        """The request body without the sample's prompt and media, plus how media are encoded."""
        body = self.backend.request_body([], self.settings, messages=[])
        body.pop("messages")
        media = dataclasses.asdict(self.media)
        if self.media.image_format != "jpeg":
            media.pop("jpeg_quality")
        return {
            "body": body,
            "media": media,
            "modalities": sorted(m for m in self.modalities if m != "text"),
            "max_side": self.frame_max_side,
            "layout": REQUEST_LAYOUT,
        }

    def generation_settings(self) -> dict[str, object]:
        recipe = self.recipe()
        return {"served_model": self.model, "request": recipe, "request_sha256": request_sha256(recipe)}

    def request_payload(self, message: Chat) -> bytes:
        """The exact bytes of this sample's request (its frames encoded here, once)."""
        messages = message.to_openai_messages(self.media)
        return encode_body(self.backend.request_body(message, self.settings, messages=messages))

    def describe_record(self, message: Chat) -> tuple[str, dict[str, object]]:
        payload = self.request_payload(message)
        text = self.backend.client.post(payload)
        return text, {"server": self.backend.base_url, "payload_sha256": payload_sha256(payload),
                      "payload_bytes": len(payload)}

    def describe(self, message: Chat) -> str:
        return self.describe_record(message)[0]
