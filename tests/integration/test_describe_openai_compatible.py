"""The openai-compatible describe baseline against a chat-completions server on 127.0.0.1.

The server records every request; the tests check its shape exactly: the frames
(decoded back from their data URLs, compared with what the decoder gives), the
audio, the subtitle's place, the model and sampling fields; and what the store
keeps of canned, slow, malformed and failing replies.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from llm_helpers import ChatServer, Reply
from media_helpers import make_mer2025_layout

from ovmer.describe.adapter import FramePolicy
from ovmer.describe.media import load_audio, load_video_frames
from ovmer.describe.prompts import render_describe_prompt
from ovmer.describe.runner import describe_store, run_describe
from ovmer.errors import OvmerError
from ovmer.keys import payload_sha256
from ovmer.messages import png_bytes

NAMES = tuple(f"sample_{i:08d}" for i in range(1, 5))
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_mer2025_layout(tmp_path_factory.mktemp("served") / "data", NAMES, seconds=1.0, fps=8)


def describe(server: ChatServer, data: Path, out: Path, setting: str = "S1", **options):
    options = {"model": "org/Tiny-VL-1B", "base_url": server.base_url, "max_retries": 1, "backoff": 0.01,
               "timeout": 5.0} | options
    return run_describe("openai-compatible", setting, data, store_root=out, progress=False, adapter_options=options,
                        limit=options.pop("limit", None))


def data_url_bytes(url: str, mime: str) -> bytes:
    prefix = f"data:{mime};base64,"
    assert url.startswith(prefix), url[:40]
    return base64.b64decode(url[len(prefix):], validate=True)


def png_pixels(data: bytes) -> np.ndarray:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.mode == "RGB"
    return np.asarray(image)


def user_items(body: dict) -> list[dict]:
    system, user = body["messages"]
    assert system["role"] == "system" and isinstance(system["content"], str)
    assert user["role"] == "user"
    return user["content"]


def kinds(items: list[dict]) -> list[str]:
    return [item["type"] for item in items]


def test_frames_audio_and_subtitle_are_sent_as_the_decoder_gave_them(dataset, tmp_path):
    with ChatServer(lambda i, body: Reply(content=f"  description {i}  ")) as server:
        summary = describe(server, dataset, tmp_path, num_frames=3, max_side=32, image_format="png")
    assert (summary.done, summary.failed) == (4, 0)
    assert len(server.requests) == 4
    by_subtitle = {}
    for body in server.requests:
        items = user_items(body)
        assert kinds(items) == ["image_url"] * 3 + ["input_audio", "text"]
        by_subtitle[items[-1]["text"].split('"')[1]] = body
    body = by_subtitle["subtitle of sample_00000002"]
    items = user_items(body)
    # the model, greedy decoding and the adapter's length limit
    assert {k: v for k, v in body.items() if k != "messages"} == {
        "model": "org/Tiny-VL-1B", "max_tokens": 256, "temperature": 0.0}
    # frames: the 3 uniformly sampled frames, shrunk to a longer side of 32 px, losslessly
    clip = dataset / "video" / "sample_00000002.mp4"
    expected = load_video_frames(clip, FramePolicy(num_frames=3), max_side=32).frames
    sent = np.stack([png_pixels(data_url_bytes(item["image_url"]["url"], "image/png")) for item in items[:3]])
    assert sent.shape == (3, 24, 32, 3)
    np.testing.assert_array_equal(sent, expected)
    # audio: the sample's 16 kHz wav, as 16-bit PCM
    audio = items[3]["input_audio"]
    assert audio["format"] == "wav"
    with wave.open(io.BytesIO(base64.b64decode(audio["data"]))) as handle:
        assert (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) == (16000, 1, 2)
        pcm = np.frombuffer(handle.readframes(handle.getnframes()), "<i2")
    waveform = load_audio(dataset / "audio" / "sample_00000002.wav").waveform
    np.testing.assert_array_equal(pcm, np.round(np.clip(waveform, -1, 1) * 32767).astype("<i2"))
    # text: the subtitle line first, then the instruction: the rendered prompt of the subtitle setting
    prompt = render_describe_prompt("subtitle", {"video", "audio"}, "subtitle of sample_00000002")
    assert items[4]["text"] == prompt.text
    assert items[4]["text"].index("subtitle of sample_00000002") < items[4]["text"].index(prompt.parts[-1].text)
    assert body["messages"][0]["content"] == prompt.system
    # the store: under the served model's name, the reply's text stripped, what was sent recorded
    store = describe_store("Tiny-VL-1B", "subtitle", tmp_path)
    records = store.latest()
    assert sorted(records) == list(NAMES)
    record = records["sample_00000002"]
    assert record.value == record.raw.strip() and record.raw.startswith("description")
    assert record.meta["server"] == server.base_url
    assert record.meta["payload_bytes"] == len(json.dumps(body, ensure_ascii=False).encode())
    assert record.meta["payload_sha256"] == payload_sha256(json.dumps(body, ensure_ascii=False).encode())


def test_jpeg_frames_are_close_to_the_frames(dataset, tmp_path):
    from PIL import Image

    with ChatServer() as server:
        describe(server, dataset, tmp_path, setting="S0", limit=1, num_frames=2)
    items = user_items(server.requests[0])
    assert kinds(items) == ["image_url", "image_url", "input_audio", "text"]
    expected = load_video_frames(dataset / "video" / "sample_00000001.mp4", FramePolicy(num_frames=2)).frames
    for item, frame in zip(items[:2], expected, strict=True):
        data = data_url_bytes(item["image_url"]["url"], "image/jpeg")
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and image.size == (64, 48)
        assert np.abs(np.asarray(image).astype(int) - frame.astype(int)).mean() < 4  # lossy, but the same picture
    # S0: no subtitle anywhere, the video+audio prompt without its subtitle line
    prompt = render_describe_prompt("nosubtitle", {"video", "audio"}, None)
    assert items[-1]["text"] == prompt.text and "subtitle of" not in json.dumps(server.requests[0])


def test_leaving_a_modality_out(dataset, tmp_path):
    with ChatServer() as server:
        describe(server, dataset, tmp_path, limit=1, modalities="video", num_frames=2, name="video-only")
        describe(server, dataset, tmp_path, limit=1, modalities="audio", name="audio-only")
    video_only, audio_only = map(user_items, server.requests)
    assert kinds(video_only) == ["image_url", "image_url", "text"]
    assert video_only[-1]["text"] == render_describe_prompt("subtitle", {"video"}, "subtitle of sample_00000001").text
    assert kinds(audio_only) == ["input_audio", "text"]
    assert audio_only[-1]["text"] == render_describe_prompt("subtitle", {"audio"}, "subtitle of sample_00000001").text
    assert describe_store("video-only", "subtitle", tmp_path).path.is_file()
    assert describe_store("audio-only", "subtitle", tmp_path).path.is_file()


def test_an_audio_only_run_needs_no_video_files(dataset, tmp_path):
    data = Path(shutil.copytree(dataset, tmp_path / "data"))
    shutil.rmtree(data / "video")
    with ChatServer() as server:
        summary = describe(server, data, tmp_path / "out", modalities="audio")
    assert (summary.done, summary.failed) == (4, 0)


def test_video_url_sends_the_clip_file_itself(dataset, tmp_path):
    with ChatServer() as server:
        describe(server, dataset, tmp_path, limit=1, video_url=True, modalities="video")
    items = user_items(server.requests[0])
    assert kinds(items) == ["video_url", "text"]
    sent = data_url_bytes(items[0]["video_url"]["url"], "video/mp4")
    assert sent == (dataset / "video" / "sample_00000001.mp4").read_bytes()


def test_video_url_of_face_crops_is_a_clear_error_record(dataset, tmp_path):
    with ChatServer() as server:
        summary = run_describe("openai-compatible", "S0", dataset, store_root=tmp_path, progress=False,
                               visual="faces", adapter_options={"model": "m", "base_url": server.base_url,
                                                                "video_url": True})
    assert summary.failed == 4 and server.requests == []  # refused before anything was sent
    for name, record in describe_store("m", "nosubtitle", tmp_path).latest().items():
        assert record.status == "error"
        assert f"a video_url needs the clip's video file, but '{dataset}/openface_face/{name}/{name}.npy'" in record.error


def test_the_key_holds_the_model_and_the_request_but_not_the_address(dataset, tmp_path):
    def run(server, **options):
        return describe(server, dataset, tmp_path, limit=2, name="keyed", **({"num_frames": 2} | options))

    with ChatServer() as first, ChatServer() as second:
        assert run(first).done == 2
        assert run(second).skipped == 2 and second.requests == []  # another address: the same model
        assert run(first, model="org/Other-VL").done == 2  # another model under the same name
        assert run(first, model="org/Other-VL", num_frames=3).done == 2  # another frame count
        assert run(first, model="org/Other-VL", num_frames=3, image_format="png").done == 2
        assert run(first, model="org/Other-VL", num_frames=3, image_format="png").skipped == 2
    assert len(first.requests) == 8


def test_each_sample_is_encoded_once_however_many_attempts(dataset, tmp_path, monkeypatch):
    import ovmer.messages

    encoded = []
    monkeypatch.setattr(ovmer.messages, "png_bytes", lambda frame: encoded.append(1) or png_bytes(frame))

    def flaky(index: int, body: dict) -> Reply:
        return Reply(status=503, raw_body=b"busy") if index < 2 else Reply(content="fine")

    with ChatServer(flaky) as server:
        summary = describe(server, dataset, tmp_path, limit=1, num_frames=2, image_format="png", max_retries=2)
    assert summary.done == 1 and len(server.requests) == 3
    assert server.requests[0] == server.requests[1] == server.requests[2]
    assert len(encoded) == 2  # two frames, encoded once


def test_failing_replies_become_error_records_after_a_good_one(dataset, tmp_path):
    def replies(index: int, body: dict) -> Reply:
        text = user_items(body)[-1]["text"]
        if "sample_00000001" in text:
            return Reply(content="a good description")
        if "sample_00000002" in text:
            return Reply(status=400, raw_body=b'{"error": "too many images"}')
        if "sample_00000003" in text:
            return Reply(raw_body=b"<html>not json</html>")
        return Reply(content="late", delay=1.5)

    with ChatServer(replies) as server:
        summary = describe(server, dataset, tmp_path, concurrency=1, timeout=0.5, max_retries=1, num_frames=1)
    assert (summary.done, summary.failed) == (1, 3)
    records = describe_store("Tiny-VL-1B", "subtitle", tmp_path).latest()
    assert records["sample_00000001"].status == "ok"
    assert "HTTP 400" in records["sample_00000002"].error and "too many images" in records["sample_00000002"].error
    assert "malformed JSON" in records["sample_00000003"].error
    assert "no reply within 0.5 s" in records["sample_00000004"].error
    assert all(server.base_url in records[n].error for n in NAMES[1:])
    texts = [user_items(body)[-1]["text"] for body in server.requests]
    assert sum("sample_00000002" in t for t in texts) == 1  # a 400 is not retried
    assert sum("sample_00000003" in t for t in texts) == 2  # a malformed reply is


def test_an_unreachable_server_stops_the_run_without_error_records(dataset, tmp_path):
    with ChatServer() as server:
        dead = server.base_url
    with pytest.raises(OvmerError, match="stopped after the first 3 samples"):
        run_describe("openai-compatible", "S0", dataset, store_root=tmp_path, progress=False,
                     adapter_options={"model": "m", "base_url": dead, "max_retries": 0, "concurrency": 1})
    assert not describe_store("m", "nosubtitle", tmp_path).path.exists()


def test_samples_are_described_concurrently(dataset, tmp_path):
    with ChatServer(lambda i, body: Reply(content="slow", delay=0.3)) as server:
        summary = describe(server, dataset, tmp_path, concurrency=4, num_frames=1)
    assert summary.done == 4 and server.max_in_flight >= 2


def test_the_command_line(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SERVED_KEY", "sk-served")
    with ChatServer() as server:
        result = subprocess.run(
            [sys.executable, "-m", "ovmer", "describe", "--baseline", "openai-compatible", "--setting", "S1",
             "--data", str(dataset), "--output", str(tmp_path), "--limit", "2", "--no-progress",
             "--base-url", server.base_url, "--model", "org/Tiny-VL-1B", "--api-key-env", "TEST_SERVED_KEY",
             "--num-frames", "2", "--max-side", "16", "--image-format", "png", "--modalities", "video",
             "--preset", "paper", "--max-new-tokens", "64"],
            capture_output=True, text=True, timeout=120, cwd=ROOT,
        )
    assert result.returncode == 0, result.stderr
    assert "describe Tiny-VL-1B S1: 2 done" in result.stdout
    assert server.headers[0]["Authorization"] == "Bearer sk-served"
    body = server.requests[0]
    assert body["max_tokens"] == 64 and body["temperature"] == 0.7 and body["repetition_penalty"] == 1.05
    items = user_items(body)
    assert kinds(items) == ["image_url", "image_url", "text"]
    assert png_pixels(data_url_bytes(items[0]["image_url"]["url"], "image/png")).shape == (12, 16, 3)
    assert describe_store("Tiny-VL-1B", "subtitle", tmp_path).path.is_file()


def test_server_options_are_refused_for_other_baselines(dataset, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ovmer", "describe", "--baseline", "Video-LLaVA", "--setting", "S0",
         "--data", str(dataset), "--model", "x", "--num-frames", "2"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ovmer describe: error: --model, --num-frames: options of --baseline openai-compatible, not of Video-LLaVA")


def test_a_served_model_named_like_a_baseline_needs_its_own_name(dataset, tmp_path):
    with pytest.raises(OvmerError, match="name of baseline 'Video-LLaVA': give another with --name"):
        run_describe("openai-compatible", "S0", dataset, store_root=tmp_path, progress=False,
                     adapter_options={"model": "LanguageBind/video-llava"})
