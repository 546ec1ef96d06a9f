"""Native describe adapters on tiny random-weight checkpoints built offline (CPU, seconds each).

For every adapter: load from ``model_path``, describe a synthetic message, and
check through forward hooks what the model received — the number of
placeholder tokens in the ids that reached the embedding layer, and the
frames / mel frames that reached the encoders.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402
from describe_models_helpers import (  # noqa: E402
    EXPECTED_TOKENS,
    TEST_FRAMES,
    TINY_ADAPTER_KWARGS,
    TINY_BUILDERS,
    tiny_message,
)

from ovmer.describe.adapters import _hf  # noqa: E402
from ovmer.describe.message import AudioPart, Message, TextPart  # noqa: E402
from ovmer.describe.registry import create_adapter  # noqa: E402
from ovmer.errors import OvmerError  # noqa: E402

# The submodule that receives the raw media, and how many units (frames, patches, mel frames) it must get.
ENCODER_INPUTS = {
    "Video-LLaVA": [("model.video_tower", lambda x: x.shape[0], TEST_FRAMES)],
    "LLaVA-NeXT-Video": [("model.vision_tower", lambda x: x.shape[0], TEST_FRAMES)],
    # 60 valid mel frames of a 100-frame window: the encoder gets the whole padded window
    "Qwen2-Audio-7B-Instruct": [("model.audio_tower", lambda x: x.shape[-1], 100)],
    # 8 frames -> 4 temporal groups x 16 patches; the audio encoder gets only the 60 valid mel frames
    "Qwen2.5-Omni": [("model.visual", lambda x: x.shape[0], 4 * 16), ("model.audio_tower", lambda x: x.shape[-1], 60)],
}


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-describe-models")
    return {name: build(root / name) for name, build in TINY_BUILDERS.items()}


def _loaded(tiny_models: dict[str, Path], name: str):
    adapter = create_adapter(name, model_path=str(tiny_models[name]), max_new_tokens=4,
                             **TINY_ADAPTER_KWARGS.get(name, {}))
    adapter.load()
    return adapter


class _FirstCall:
    """Records the first positional input a module receives (the prefill step of generate)."""

    def __init__(self, module: torch.nn.Module, kwarg: str | None = None) -> None:
        self.value = None
        self.kwarg = kwarg
        self.handle = module.register_forward_pre_hook(self, with_kwargs=True)

    def __call__(self, module, args, kwargs):
        if self.value is None:
            self.value = args[0] if args else kwargs[self.kwarg]
        return None


@pytest.mark.parametrize("name", list(TINY_BUILDERS))
def test_adapter_describes_and_the_model_sees_every_media_token(tiny_models, name: str) -> None:
    adapter = _loaded(tiny_models, name)
    modules = dict(adapter.model.named_modules())
    embed = _FirstCall(adapter.model.get_input_embeddings(), kwarg="input")
    encoders = [(_FirstCall(modules[path], kwarg=None if path != "model.visual" else "hidden_states"), size, n)
                for path, size, n in ENCODER_INPUTS[name]]
    text = adapter.describe(tiny_message())
    assert isinstance(text, str)
    seen_ids = embed.value[0]
    for token, count in EXPECTED_TOKENS[name].items():
        assert int((seen_ids == adapter.tokenizer.convert_tokens_to_ids(token)).sum()) == count, token
    for hook, size, expected in encoders:
        assert hook.value is not None and size(hook.value) == expected


@pytest.mark.parametrize("name", list(TINY_BUILDERS))
def test_greedy_descriptions_are_reproducible(tiny_models, name: str) -> None:
    adapter = _loaded(tiny_models, name)
    message = tiny_message(seed=3)
    first = adapter.describe(message)
    assert adapter.describe(message) == first
    # the prompt text reaches the model: a different instruction changes the ids
    other = replace(message, parts=(TextPart("listen to the voice"), *message.parts[1:]))
    assert not torch.equal(adapter.build_inputs(message)["input_ids"], adapter.build_inputs(other)["input_ids"])


def test_video_llava_prompt_layout(tiny_models) -> None:
    adapter = _loaded(tiny_models, "Video-LLaVA")
    inputs = adapter.build_inputs(tiny_message())
    assert tuple(inputs["pixel_values_videos"].shape) == (1, TEST_FRAMES, 3, 28, 28)
    tokens = adapter.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0].tolist())
    video_at = tokens.index("<video>")
    assert tokens[video_at - 2: video_at] == ["<unk>", ":"]  # "... USER: <video>"
    assert tokens[-2:] == ["<unk>", ":"]  # "... ASSISTANT:"


def test_llava_next_video_frames_use_the_video_preprocessing(tiny_models) -> None:
    # the image config asks for 112 px with anyres padding; frames must follow the video config (56 px crop)
    adapter = _loaded(tiny_models, "LLaVA-NeXT-Video")
    pixels = adapter.build_inputs(tiny_message(frames=3))["pixel_values_videos"]
    assert tuple(pixels.shape) == (1, 3, 3, 56, 56)
    assert not adapter.frame_processor.do_pad


def test_qwen2_audio_long_audio_fills_the_window(tiny_models) -> None:
    adapter = _loaded(tiny_models, "Qwen2-Audio-7B-Instruct")
    inputs = adapter.build_inputs(tiny_message(audio_seconds=2.5))
    token_id = adapter.tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    # the 1-second window holds 100 mel frames -> 50 -> 25 tokens; the rest is cut as upstream does
    assert int((inputs["input_ids"] == token_id).sum()) == 25
    assert isinstance(adapter.describe(tiny_message(audio_seconds=2.5)), str)


def test_omni_pads_an_odd_frame_count_and_times_the_grid(tiny_models) -> None:
    adapter = _loaded(tiny_models, "Qwen2.5-Omni")
    inputs = adapter.build_inputs(tiny_message(frames=7))
    assert inputs["video_grid_thw"].tolist() == [[4, 4, 4]]
    # timestamps are 0.5 s apart -> 2 fps -> a temporal patch of 2 frames spans 1 s
    assert inputs["video_second_per_grid"].tolist() == [1.0]
    assert isinstance(adapter.describe(tiny_message(frames=7)), str)


def test_omni_accepts_audio_only_or_video_only(tiny_models) -> None:
    adapter = _loaded(tiny_models, "Qwen2.5-Omni")
    full = tiny_message()
    audio_only = replace(full, parts=tuple(p for p in full.parts if p.kind != "video"))
    video_only = replace(full, parts=tuple(p for p in full.parts if p.kind != "audio"))
    audio_inputs = adapter.build_inputs(audio_only)
    assert "pixel_values_videos" not in audio_inputs and "input_features" in audio_inputs
    assert "input_features" not in adapter.build_inputs(video_only)
    assert isinstance(adapter.describe(audio_only), str)
    with pytest.raises(OvmerError, match="needs video and/or audio"):
        adapter.build_inputs(replace(full, parts=(TextPart("hi"),)))


def test_omni_video_patches_match_the_video_processor_layout() -> None:
    from ovmer.describe.adapters.qwen2_5_omni import frames_to_video_patches

    frames, channels, temporal, patch, merge, grid_h, grid_w = 4, 3, 2, 2, 2, 4, 6
    rng = np.random.default_rng(0)
    video = rng.normal(size=(frames, channels, grid_h * patch, grid_w * patch)).astype(np.float32)

    def image_patches(image: np.ndarray) -> np.ndarray:  # the image processor's layout, frame repeated in time
        x = image.reshape(channels, grid_h // merge, merge, patch, grid_w // merge, merge, patch)
        x = x.transpose(1, 4, 2, 5, 0, 3, 6)[:, :, :, :, :, None]
        x = np.broadcast_to(x, (*x.shape[:5], temporal, patch, patch))
        return x.reshape(grid_h * grid_w, -1)

    per_frame = np.concatenate([image_patches(f) for f in video])
    # the video processor's layout, written independently from the (T, C, H, W) clip
    v = video.reshape(frames // temporal, temporal, channels, grid_h // merge, merge, patch, grid_w // merge,
                      merge, patch)
    expected = v.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(-1, channels * temporal * patch * patch)
    got = frames_to_video_patches(per_frame, frames, grid_h, grid_w, channels, temporal, patch)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["Video-LLaVA", "LLaVA-NeXT-Video"])
def test_video_models_refuse_messages_without_usable_frames(tiny_models, name: str) -> None:
    adapter = _loaded(tiny_models, name)
    message = tiny_message(name="clip_007")
    no_video = replace(message, parts=tuple(p for p in message.parts if p.kind != "video"))
    with pytest.raises(OvmerError, match="sample clip_007: this model needs video frames"):
        adapter.describe(no_video)
    video = message.video()
    float_frames = replace(message, parts=(message.parts[0], replace(video, frames=video.frames / 255.0)))
    with pytest.raises(OvmerError, match=r"clip_007 \(clip_007.mp4\): frames must be uint8"):
        adapter.describe(float_frames)
    empty = replace(message, parts=(message.parts[0], replace(video, frames=video.frames[:0])))
    with pytest.raises(OvmerError, match="no video frames"):
        adapter.describe(empty)


def test_audio_model_refuses_bad_audio(tiny_models) -> None:
    adapter = _loaded(tiny_models, "Qwen2-Audio-7B-Instruct")
    text = TextPart("listen")
    cases = {
        "resampled to 16000 Hz": AudioPart(np.zeros(8000, np.float32), sample_rate=8000, source="a.wav"),
        "non-empty mono": AudioPart(np.zeros((2, 800), np.float32), source="a.wav"),
        "NaN": AudioPart(np.full(800, np.nan, np.float32), source="a.wav"),
    }
    for problem, part in cases.items():
        with pytest.raises(OvmerError, match=rf"sample s1 \(a.wav\): .*{problem}"):
            adapter.describe(Message(name="s1", parts=(text, part)))
    with pytest.raises(OvmerError, match="needs audio"):
        adapter.describe(Message(name="s1", parts=(text,)))
    # 160 samples = 1 mel frame, which the encoder reduces to no token at all
    with pytest.raises(OvmerError, match=r"sample s1 \(a.wav\): audio too short"):
        adapter.describe(Message(name="s1", parts=(text, AudioPart(np.zeros(160, np.float32), source="a.wav"))))


def test_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    adapter = create_adapter("Video-LLaVA", model_path=str(tmp_path / "absent"))
    with pytest.raises(OvmerError, match="absent for Video-LLaVA does not exist; download LanguageBind/Video-LLaVA-7B-hf"):
        adapter.load()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_an_error_not_a_silent_cpu_run(tiny_models) -> None:
    adapter = create_adapter("Video-LLaVA", model_path=str(tiny_models["Video-LLaVA"]), device="cuda")
    with pytest.raises(OvmerError, match="no CUDA GPU"):
        adapter.load()


def test_dtype_resolution() -> None:
    cpu = torch.device("cpu")
    assert _hf.resolve_dtype("auto", cpu) is torch.float32
    assert _hf.resolve_dtype("bf16", cpu) is torch.bfloat16
    assert _hf.resolve_dtype("float16", cpu) is torch.float16
    with pytest.raises(OvmerError, match="unknown dtype 'int8'"):
        _hf.resolve_dtype("int8", cpu)
    with pytest.raises(OvmerError, match="unknown device"):
        _hf.resolve_device("tpu:0")


def test_bfloat16_weights_on_cpu(tiny_models) -> None:
    adapter = create_adapter("Qwen2-Audio-7B-Instruct", model_path=str(tiny_models["Qwen2-Audio-7B-Instruct"]),
                             dtype="bfloat16", max_new_tokens=2)
    adapter.load()
    assert adapter.model.dtype is torch.bfloat16
    assert isinstance(adapter.describe(tiny_message()), str)


def test_audio_token_formulas() -> None:
    from ovmer.describe.adapters.qwen2_5_omni import audio_token_count as omni_count
    from ovmer.describe.adapters.qwen2_audio import audio_token_count

    # 30 s of audio = 3000 mel frames -> 750 tokens (Qwen2-Audio's 25 tokens per second)
    assert audio_token_count(3000) == 750
    assert [audio_token_count(n) for n in (60, 100, 4, 3, 2, 1)] == [15, 25, 1, 1, 0, 0]
    assert all(omni_count(n) == audio_token_count(n) for n in range(1, 400))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", list(TINY_BUILDERS))
def test_adapter_on_cuda_in_half_precision(tiny_models, name: str) -> None:
    adapter = create_adapter(name, model_path=str(tiny_models[name]), device="cuda", dtype="float16",
                             max_new_tokens=4, **TINY_ADAPTER_KWARGS.get(name, {}))
    adapter.load()
    assert adapter.model.dtype is torch.float16 and adapter.model.device.type == "cuda"
    embed = _FirstCall(adapter.model.get_input_embeddings(), kwarg="input")
    assert isinstance(adapter.describe(tiny_message()), str)
    for token, count in EXPECTED_TOKENS[name].items():
        assert int((embed.value[0] == adapter.tokenizer.convert_tokens_to_ids(token)).sum()) == count
