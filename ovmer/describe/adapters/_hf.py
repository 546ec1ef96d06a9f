"""Shared transformers plumbing for native adapters.

Device and dtype resolution, loading a model/tokenizer/preprocessor from a
local folder or hub id, checking the media of a message, placeholder
expansion, and generate-then-decode. The base classes at the end hold what
adapters share beyond that: :class:`TransformersAdapter` (load model and
tokenizer, then generate from ``build_inputs``), :class:`LlavaVideoAdapter`
(the ``USER: <video> ... ASSISTANT:`` video prompt) and the ChatML prompt and
Whisper audio features of the Qwen audio models. Imported only by adapter
modules, so torch and transformers load only when a model does.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ovmer import devices
from ovmer.describe.adapter import DescribeAdapter
from ovmer.errors import OvmerError
from ovmer.messages import AUDIO_SAMPLE_RATE, Chat

resolve_device = devices.resolve_device


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto`` is float32 on CPU and bfloat16 (float16 where unsupported) on CUDA."""
    return devices.resolve_dtype(dtype, device, cuda_default="bfloat16")


def model_source(adapter: DescribeAdapter) -> str:
    """The folder to load from: ``model_path`` if given (it must exist), else the registry's hub id."""
    if adapter.model_path is None:
        return adapter.spec.checkpoint
    path = Path(adapter.model_path).expanduser()
    if not path.is_dir():
        raise OvmerError(
            f"model folder {path} for {adapter.spec.name} does not exist; download {adapter.spec.checkpoint} there "
            "or pass --model-path to the folder that holds its config.json"
        )
    return str(path)


def load_model(model_cls: Any, source: str, dtype: torch.dtype, device: torch.device) -> Any:
    """``model_cls.from_pretrained`` in ``dtype``, moved to ``device``, in eval mode."""
    try:
        model = model_cls.from_pretrained(source, dtype=dtype)
    except OSError as exc:
        raise OvmerError(f"could not load {model_cls.__name__} from {source}: {exc}") from exc
    return model.to(device).eval()


def load_tokenizer(source: str) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source)
    except OSError as exc:
        raise OvmerError(f"could not load the tokenizer from {source}: {exc}") from exc


def read_preprocessor_config(source: str, filenames: Iterable[str]) -> dict[str, Any]:
    """The first of ``filenames`` found in ``source`` (folder or hub id), parsed."""
    names = list(filenames)
    for name in names:
        local = Path(source) / name
        if local.is_file():
            return json.loads(local.read_text(encoding="utf-8"))
        if not Path(source).is_dir():
            from transformers.utils import cached_file

            found = cached_file(source, name, _raise_exceptions_for_missing_entries=False)
            if found:
                return json.loads(Path(found).read_text(encoding="utf-8"))
    raise OvmerError(f"none of {', '.join(names)} found in {source}")


def image_processor_class(name: str) -> Any:
    """The PIL/numpy image processor ``name``: transformers 5 calls it ``<name>Pil`` (no torchvision needed)."""
    import transformers

    cls = getattr(transformers, f"{name}Pil", None) or getattr(transformers, name, None)
    if cls is None:
        raise OvmerError(f"transformers {transformers.__version__} has no image processor {name}")
    return cls


def placeholder_token(tokenizer: Any, token_id: int, what: str) -> str:
    """The text form of a model's placeholder token id (taken from the model config, so they agree)."""
    token = tokenizer.convert_ids_to_tokens(int(token_id))
    if token is None or tokenizer.convert_tokens_to_ids(token) != token_id:
        raise OvmerError(f"the tokenizer has no {what} token with id {token_id} (the model config's id)")
    return token


def message_frames(message: Chat) -> np.ndarray:
    """The message's video frames, checked: uint8 ``(T, H, W, 3)`` with ``T >= 1``."""
    part = message.video()
    if part is None:
        raise OvmerError(f"sample {message.name}: this model needs video frames but the message has none")
    frames = np.asarray(part.frames)
    where = f"sample {message.name}" + (f" ({part.source})" if part.source else "")
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise OvmerError(f"{where}: frames must be uint8 (T, H, W, 3); got {frames.dtype} {frames.shape}")
    if min(frames.shape[:3]) == 0:
        raise OvmerError(f"{where}: no video frames (shape {frames.shape})")
    return frames


def message_audio(message: Chat) -> np.ndarray:
    """The message's waveform, checked: 1-D, finite, non-empty, at 16 kHz."""
    part = message.audio()
    if part is None:
        raise OvmerError(f"sample {message.name}: this model needs audio but the message has none")
    where = f"sample {message.name}" + (f" ({part.source})" if part.source else "")
    waveform = np.asarray(part.waveform, dtype=np.float32)
    if part.sample_rate != AUDIO_SAMPLE_RATE:
        raise OvmerError(f"{where}: audio must be resampled to {AUDIO_SAMPLE_RATE} Hz, got {part.sample_rate} Hz")
    if waveform.ndim != 1 or waveform.size == 0:
        raise OvmerError(f"{where}: audio must be a non-empty mono waveform; got shape {waveform.shape}")
    if not np.isfinite(waveform).all():
        raise OvmerError(f"{where}: audio contains NaN or infinite samples")
    return waveform


def check_audio_tokens(message: Chat, count: int) -> int:
    """``count`` if the audio gives the model at least one token, else an error naming the sample."""
    if count < 1:
        part = message.audio()
        where = f"sample {message.name}" + (f" ({part.source})" if part is not None and part.source else "")
        seconds = part.waveform.size / part.sample_rate if part is not None else 0.0
        raise OvmerError(f"{where}: audio too short ({seconds:.3f} s) to give the audio encoder one frame")
    return count


def frame_rate(message: Chat, default: float) -> float:
    """Frames per second of the sampled frames, from their timestamps when known."""
    part = message.video()
    stamps = part.timestamps if part is not None else ()
    if len(stamps) >= 2 and stamps[-1] > stamps[0]:
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])
    return default


def tokenize_with_placeholders(
    tokenizer: Any, text: str, expansions: Mapping[str, int], token_ids: Mapping[str, int]
) -> dict[str, torch.Tensor]:
    """Tokenize ``text`` after repeating each placeholder ``expansions[token]`` times.

    Every placeholder must appear once in ``text``; the token ids are checked
    after tokenization, so a tokenizer that splits a placeholder fails here
    with a clear message instead of deep inside the model.
    """
    for token, count in expansions.items():
        if text.count(token) != 1:
            raise OvmerError(f"prompt must contain the placeholder {token!r} exactly once")
        text = text.replace(token, token * count)
    encoded = tokenizer(text, return_tensors="pt")
    ids = encoded["input_ids"][0]
    for token, count in expansions.items():
        found = int((ids == token_ids[token]).sum())
        if found != count:
            raise OvmerError(f"expected {count} {token!r} tokens after tokenization, found {found}")
    return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}


def generate_text(
    model: Any,
    tokenizer: Any,
    inputs: Mapping[str, Any],
    *,
    max_new_tokens: int,
    do_sample: bool,
    float_keys: Iterable[str] = (),
) -> str:
    """Run ``generate`` on one prompt and decode only the new tokens.

    Tensors go to the model's device; those named in ``float_keys`` (pixels,
    mel features) are cast to the model's dtype.
    """
    device, dtype = model.device, model.dtype
    cast = set(float_keys)
    batch = {}
    for key, value in inputs.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device=device, dtype=dtype) if key in cast else value.to(device)
        batch[key] = value
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    options: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": do_sample}
    if pad_id is not None:
        options["pad_token_id"] = pad_id
    with torch.inference_mode():
        output = model.generate(**batch, **options)
    prompt_length = batch["input_ids"].shape[1]
    return tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True).strip()


def chatml_prompt(system: str, user: str) -> str:
    """A one-turn ChatML prompt (Qwen models) that ends where the assistant's reply starts."""
    return (
        f"<|im_start|>system\n{system}<|im_end|>\n"
        f"<|im_start|>user\n{user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def whisper_audio_inputs(
    feature_extractor: Any, message: Chat, token_count: Callable[[int], int]
) -> tuple[dict[str, Any], int]:
    """Whisper mel features of the message's audio, padded to the extractor's window, and the audio token count.

    ``token_count`` maps the number of valid (unpadded) mel frames to the
    tokens the model's audio encoder emits for them.
    """
    waveform = message_audio(message)
    features = feature_extractor(
        waveform, sampling_rate=AUDIO_SAMPLE_RATE, return_attention_mask=True,
        padding="max_length", return_tensors="pt",
    )
    mask = features["attention_mask"].to(torch.long)
    inputs = {"input_features": features["input_features"], "feature_attention_mask": mask}
    return inputs, check_audio_tokens(message, token_count(int(mask.sum())))


class TransformersAdapter(DescribeAdapter):
    """A native adapter run by transformers: ``load`` builds the model and tokenizer, ``describe`` generates.

    Subclasses name the transformers ``model_class``, load their preprocessors
    and placeholder tokens in :meth:`load_processors`, and turn a message into
    model inputs in :meth:`build_inputs`; ``float_keys`` are the inputs cast
    to the model's dtype.
    """

    model_class: str
    float_keys: tuple[str, ...] = ()

    model: Any = None

    def load(self) -> None:
        import transformers

        source = model_source(self)
        device = resolve_device(self.device)
        self.model = load_model(
            getattr(transformers, self.model_class), source, resolve_dtype(self.dtype, device), device
        )
        self.tokenizer = load_tokenizer(source)
        self.load_processors(source)

    def load_processors(self, source: str) -> None:
        """Everything besides model and tokenizer (preprocessors, placeholder tokens); runs after both."""

    @abstractmethod
    def build_inputs(self, message: Chat) -> dict[str, Any]:
        """Model inputs (token ids, pixels, features) for one message; no model call."""

    def describe(self, message: Chat) -> str:
        if self.model is None:
            self.load()
        return generate_text(
            self.model, self.tokenizer, self.build_inputs(message),
            max_new_tokens=self.max_new_tokens, do_sample=self.do_sample, float_keys=self.float_keys,
        )


class LlavaVideoAdapter(TransformersAdapter):
    """LLaVA-style video models: ``USER: <video>\n{text} ASSISTANT:`` with one ``<video>`` per visual token.

    Subclasses turn the frames into pixels ``(T, 3, H, W)`` (:meth:`frame_pixels`)
    and say how many tokens one frame of that size gives (:meth:`tokens_per_frame`).
    """

    float_keys = ("pixel_values_videos",)

    def load_processors(self, source: str) -> None:
        config = self.model.config
        self.video_token = placeholder_token(self.tokenizer, config.video_token_index, "video")
        self.patch_size = config.vision_config.patch_size

    @abstractmethod
    def frame_pixels(self, frames: np.ndarray) -> np.ndarray:
        """Pixels ``(T, 3, H, W)`` of the frames, as the checkpoint preprocesses them."""

    @abstractmethod
    def tokens_per_frame(self, height: int, width: int) -> int:
        """``<video>`` tokens one frame of that size gives."""

    def build_inputs(self, message: Chat) -> dict[str, Any]:
        """Token ids and pixels for one message (no model call; used by tests to count tokens)."""
        pixels = self.frame_pixels(message_frames(message))
        num_frames, _, height, width = pixels.shape
        prompt = f"USER: {self.video_token}\n{message.text()} ASSISTANT:"
        if message.system:
            prompt = f"{message.system} {prompt}"
        inputs = tokenize_with_placeholders(
            self.tokenizer, prompt, {self.video_token: num_frames * self.tokens_per_frame(height, width)},
            {self.video_token: self.model.config.video_token_index},
        )
        inputs["pixel_values_videos"] = torch.from_numpy(pixels).unsqueeze(0)
        return inputs
