"""The one chat message: typed parts, the describe accessors, and the transformers / OpenAI conversions."""

from __future__ import annotations

import base64
import io
import warnings
import wave

import numpy as np
import pytest

from ovmer.errors import OvmerError
from ovmer.llm.client import conversation_dicts
from ovmer.messages import (
    AudioPart,
    Chat,
    ChatMessage,
    SubtitlePart,
    TextPart,
    VideoPart,
    png_bytes,
    text_messages,
    to_hf_messages,
    to_openai_messages,
    wav_bytes,
)

FRAMES = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
WAVE = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0], dtype=np.float32)


def sample_chat() -> Chat:
    return Chat.user(
        [VideoPart(FRAMES, source="a.mp4"), AudioPart(WAVE), SubtitlePart("I am\n fine", 'Subtitle: "{subtitle}"'),
         TextPart("Describe the emotion.")],
        system="You are an expert.", name="sample_1",
    )


def test_text_messages_are_one_string_per_turn() -> None:
    chat = [ChatMessage("system", "Be brief."), ChatMessage("user", "hello")]
    expected = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]
    assert to_hf_messages(chat) == to_openai_messages(chat) == text_messages(chat) == expected
    assert conversation_dicts(chat) == expected  # the old name of the text form
    assert ChatMessage("user", "hello") == ChatMessage("user", [TextPart("hello")])
    assert ChatMessage("user", "hello").content == "hello" and not ChatMessage("user", "x").has_media


def test_roles_and_content_are_checked() -> None:
    with pytest.raises(OvmerError, match="role must be one of system, user, assistant"):
        ChatMessage("robot", "hi")  # type: ignore[arg-type]
    with pytest.raises(OvmerError, match="content must be text or parts, got int"):
        ChatMessage("user", 3)  # type: ignore[arg-type]
    with pytest.raises(OvmerError, match="content must be text, got bytes"):
        ChatMessage("user", [TextPart(b"x")])  # type: ignore[arg-type]


def test_describe_accessors_and_the_subtitle_part() -> None:
    chat = sample_chat()
    assert chat.name == "sample_1" and chat.system == "You are an expert." and len(chat) == 2
    assert chat.video().source == "a.mp4" and chat.audio().sample_rate == 16_000
    assert chat.subtitle() == "I am\n fine"  # as given
    assert chat.text() == 'Subtitle: "I am fine"\nDescribe the emotion.'  # rendered on one line
    assert chat[-1].content == chat.text() and chat[-1].has_media
    swapped = chat.with_parts([TextPart("only text")])
    assert swapped.text() == "only text" and swapped.system == chat.system and swapped.name == chat.name
    assert Chat.user([TextPart("x")]).system is None


def test_to_hf_messages_types_the_parts_and_joins_text_runs() -> None:
    system, user = sample_chat().to_hf_messages()
    assert system == {"role": "system", "content": "You are an expert."}
    video, audio, text = user["content"]
    assert video["type"] == "video" and video["video"] is FRAMES
    assert audio["type"] == "audio" and audio["audio"] is WAVE and audio["sampling_rate"] == 16_000
    assert text == {"type": "text", "text": 'Subtitle: "I am fine"\nDescribe the emotion.'}


def test_to_openai_messages_sends_frames_as_png_and_audio_as_wav() -> None:
    pil = pytest.importorskip("PIL.Image")
    _, user = sample_chat().to_openai_messages()
    assert user["role"] == "user"
    images = [item for item in user["content"] if item["type"] == "image_url"]
    assert len(images) == len(FRAMES)
    for frame, item in zip(FRAMES, images, strict=True):
        prefix, data = item["image_url"]["url"].split(",", 1)
        assert prefix == "data:image/png;base64"
        decoded = np.asarray(pil.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))
        assert np.array_equal(decoded, frame)  # lossless
    (audio,) = [item for item in user["content"] if item["type"] == "input_audio"]
    assert audio["input_audio"]["format"] == "wav"
    with wave.open(io.BytesIO(base64.b64decode(audio["input_audio"]["data"]))) as handle:
        assert (handle.getnchannels(), handle.getsampwidth(), handle.getframerate()) == (1, 2, 16_000)
        pcm = np.frombuffer(handle.readframes(handle.getnframes()), "<i2")
    assert pcm.tolist() == [0, 16384, -16384, 32767, -32767, 32767]  # clipped to [-1, 1]
    assert user["content"][-1] == {"type": "text", "text": 'Subtitle: "I am fine"\nDescribe the emotion.'}


def test_text_only_models_refuse_media_and_encoders_check_shapes() -> None:
    with pytest.raises(OvmerError, match="text-only model cannot read audio and video parts"):
        text_messages(sample_chat())
    with pytest.raises(OvmerError, match=r"frame must be uint8 \(H, W, 3\)"):
        png_bytes(np.zeros((2, 2), np.uint8))
    with pytest.raises(OvmerError, match="mono waveform"):
        wav_bytes(np.zeros((2, 2)))


def test_the_old_describe_message_still_builds_one_with_a_warning() -> None:
    from ovmer.describe.message import Message

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = Message(name="s", parts=(TextPart("hi"),), system="sys")
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert old == Chat.user([TextPart("hi")], system="sys", name="s")
