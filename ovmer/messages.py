"""The one typed chat message: what every model of the package is given.

A :class:`Chat` is a conversation of :class:`ChatMessage` turns, each a role and
typed parts:

- :class:`TextPart`: text;
- :class:`SubtitlePart`: what the person says, with the prompt line that presents
  it (the subtitle is a part of its own, so a model may place it as it likes;
  rendered as text it is folded onto one line);
- :class:`VideoPart`: sampled frames, ``uint8`` of shape ``(T, H, W, 3)``;
- :class:`AudioPart`: a mono float32 waveform, 16 kHz for every model here.

The LLM text stages (merge, extract, group) send text-only chats; the describe
stage sends one user turn with the sample's media and names the sample
(``Chat.name``). Two conversions cover the model interfaces:
:func:`to_hf_messages` (transformers chat templates) and
:func:`to_openai_messages` (chat completions: frames as PNG or JPEG data URLs,
or the clip as one ``video_url``; audio as base64 WAV; see :class:`OpenAIMedia`).
In both, a turn without media has plain string content, and neighbouring text
parts become one text joined by newlines, exactly
:attr:`ChatMessage.content`.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import struct
import wave
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np

from ovmer.errors import OvmerError

AUDIO_SAMPLE_RATE = 16_000
SUBTITLE_FIELD = "{subtitle}"
Role = Literal["system", "user", "assistant"]
ROLES: tuple[str, ...] = ("system", "user", "assistant")


@dataclass(frozen=True)
class TextPart:
    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class SubtitlePart:
    """A subtitle and the line that presents it: ``template`` holds ``{subtitle}`` once."""

    text: str
    template: str = SUBTITLE_FIELD
    kind: Literal["subtitle"] = "subtitle"

    @property
    def rendered(self) -> str:
        # One line, so the subtitle cannot smuggle in its own paragraph structure.
        return self.template.replace(SUBTITLE_FIELD, " ".join(str(self.text).split()))


@dataclass(frozen=True)
class VideoPart:
    frames: np.ndarray  # (T, H, W, 3) uint8, RGB
    timestamps: tuple[float, ...] = ()  # seconds, one per frame when known
    source: str = ""  # file the frames came from, for error messages
    kind: Literal["video"] = "video"


@dataclass(frozen=True)
class AudioPart:
    waveform: np.ndarray  # (N,) float32 mono in [-1, 1]
    sample_rate: int = AUDIO_SAMPLE_RATE
    source: str = ""
    kind: Literal["audio"] = "audio"


Part = TextPart | SubtitlePart | VideoPart | AudioPart
PART_TYPES = (TextPart, SubtitlePart, VideoPart, AudioPart)


def part_text(part: Part) -> str | None:
    """The text a part contributes (a subtitle as its rendered line); ``None`` for media."""
    if isinstance(part, TextPart):
        return part.text
    if isinstance(part, SubtitlePart):
        return part.rendered
    return None


@dataclass(frozen=True, init=False)
class ChatMessage:
    """One turn: ``ChatMessage("user", "text")`` or ``ChatMessage("user", [VideoPart(...), TextPart(...)])``."""

    role: Role
    parts: tuple[Part, ...]

    def __init__(self, role: Role, content: str | Part | Iterable[Part | str]) -> None:
        if role not in ROLES:
            raise OvmerError(f"chat message role must be one of {', '.join(ROLES)}, got {role!r}")
        if isinstance(content, str):
            parts: tuple[Part, ...] = (TextPart(content),)
        elif isinstance(content, PART_TYPES):
            parts = (content,)
        elif isinstance(content, Iterable):  # strings among the parts are text parts
            parts = tuple(TextPart(p) if isinstance(p, str) else p for p in content)
        else:
            raise OvmerError(f"chat message content must be text or parts, got {type(content).__name__}")
        for part in parts:
            if not isinstance(part, PART_TYPES):
                raise OvmerError(f"chat message content must be text or parts, got {type(part).__name__}")
            if isinstance(part, TextPart | SubtitlePart) and not isinstance(part.text, str):
                raise OvmerError(f"chat message content must be text, got {type(part.text).__name__}")
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "parts", parts)

    @property
    def content(self) -> str:
        """The turn's text: its text parts (subtitles rendered) joined by newlines; media is left out."""
        return "\n".join(text for text in map(part_text, self.parts) if text is not None)

    @property
    def has_media(self) -> bool:
        return any(part_text(part) is None for part in self.parts)

    def as_dict(self) -> dict[str, Any]:
        """This turn in the transformers chat format (see :func:`to_hf_messages`)."""
        return to_hf_messages([self])[0]


@dataclass(frozen=True)
class Chat(Sequence[ChatMessage]):
    """A conversation; ``name`` is the sample it is about, ``meta`` anything worth recording with it."""

    messages: tuple[ChatMessage, ...]
    name: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def user(cls, parts: Iterable[Part | str], *, system: str | None = None, name: str = "",
             meta: Mapping[str, Any] | None = None) -> Chat:
        """One user turn of ``parts``, after a system turn when ``system`` is given."""
        turns = (ChatMessage("system", system),) if system else ()
        return cls((*turns, ChatMessage("user", list(parts))), name=name, meta=dict(meta or {}))

    # -- a sequence of turns, so a Chat goes wherever a list of ChatMessage does ----------------------

    def __len__(self) -> int:
        return len(self.messages)

    @overload
    def __getitem__(self, index: int) -> ChatMessage: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[ChatMessage]: ...
    def __getitem__(self, index: int | slice) -> ChatMessage | Sequence[ChatMessage]:
        return self.messages[index]

    def __iter__(self) -> Iterator[ChatMessage]:
        return iter(self.messages)

    # -- what the describe adapters read ---------------------------------------------------------

    @property
    def system(self) -> str | None:
        """The system turn's text, if there is one."""
        return next((m.content for m in self.messages if m.role == "system"), None)

    @property
    def parts(self) -> tuple[Part, ...]:
        """The parts of the last user turn (the one with the sample)."""
        turn = next((m for m in reversed(self.messages) if m.role == "user"), None)
        return turn.parts if turn is not None else ()

    def with_parts(self, parts: Iterable[Part | str]) -> Chat:
        """This chat with the last user turn's parts replaced (the same sample, other inputs)."""
        index = max(i for i, m in enumerate(self.messages) if m.role == "user")
        messages = (*self.messages[:index], ChatMessage("user", list(parts)), *self.messages[index + 1 :])
        return Chat(messages, name=self.name, meta=self.meta)

    def text(self) -> str:
        """The last user turn's text, subtitle included where the prompt put it."""
        return "\n".join(text for text in map(part_text, self.parts) if text is not None)

    def video(self) -> VideoPart | None:
        return next((p for p in self.parts if isinstance(p, VideoPart)), None)

    def audio(self) -> AudioPart | None:
        return next((p for p in self.parts if isinstance(p, AudioPart)), None)

    def subtitle(self) -> str | None:
        """The subtitle as given (not the prompt's rendering of it), if the turn has one."""
        part = next((p for p in self.parts if isinstance(p, SubtitlePart)), None)
        return part.text if part else None

    def to_hf_messages(self) -> list[dict[str, Any]]:
        return to_hf_messages(self.messages)

    def to_openai_messages(self, media: OpenAIMedia | None = None) -> list[dict[str, Any]]:
        return to_openai_messages(self.messages, media)


# --------------------------------------------------------------------------- conversions


def _items(message: ChatMessage, media: Any) -> list[dict[str, Any]]:
    """The parts as typed items: runs of text joined into one item, media through ``media``."""
    items: list[dict[str, Any]] = []
    texts: list[str] = []
    for part in message.parts:
        text = part_text(part)
        if text is not None:
            texts.append(text)
            continue
        if texts:
            items.append({"type": "text", "text": "\n".join(texts)})
            texts = []
        items.extend(media(part))
    if texts:
        items.append({"type": "text", "text": "\n".join(texts)})
    return items


def _hf_media(part: Part) -> list[dict[str, Any]]:
    if isinstance(part, VideoPart):
        return [{"type": "video", "video": part.frames}]
    assert isinstance(part, AudioPart)
    return [{"type": "audio", "audio": part.waveform, "sampling_rate": part.sample_rate}]


ImageFormat = Literal["png", "jpeg"]
IMAGE_FORMATS: tuple[str, ...] = ("png", "jpeg")


@dataclass(frozen=True)
class OpenAIMedia:
    """How media parts become chat-completions items.

    Each frame of a :class:`VideoPart` is one ``image_url`` data URL in
    ``image_format`` (PNG is lossless; JPEG at ``jpeg_quality`` is far smaller
    for camera footage); with ``video_url`` the clip file the frames came from is sent
    whole as one ``video_url`` data URL instead (for servers that sample
    frames themselves). Audio is always an ``input_audio`` 16-bit WAV.
    """

    image_format: ImageFormat = "png"
    jpeg_quality: int = 90
    video_url: bool = False

    def __post_init__(self) -> None:
        if self.image_format not in IMAGE_FORMATS:
            raise OvmerError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, got {self.image_format!r}")
        if not 1 <= self.jpeg_quality <= 100:
            raise OvmerError(f"JPEG quality must lie in 1..100, got {self.jpeg_quality}")

    def image_url(self, frame: np.ndarray) -> str:
        if self.image_format == "jpeg":
            return "data:image/jpeg;base64," + _b64(jpeg_bytes(frame, self.jpeg_quality))
        return "data:image/png;base64," + _b64(png_bytes(frame))

    def items(self, part: Part) -> list[dict[str, Any]]:
        if isinstance(part, VideoPart):
            if self.video_url:
                return [{"type": "video_url", "video_url": {"url": video_data_url(part)}}]
            return [{"type": "image_url", "image_url": {"url": self.image_url(frame)}}
                    for frame in np.asarray(part.frames)]
        assert isinstance(part, AudioPart)
        return [{"type": "input_audio", "input_audio": {"data": _b64(wav_bytes(part.waveform, part.sample_rate)),
                                                         "format": "wav"}}]


def video_data_url(part: VideoPart) -> str:
    """The clip file a video part was decoded from, as a ``data:video/...;base64`` URL."""
    path = Path(part.source) if part.source else None
    mime = mimetypes.guess_type(path.name)[0] if path is not None else None
    if path is None or not mime or not mime.startswith("video/"):
        what = f"{part.source!r} is not a video file" if part.source else "the frames come from no file"
        raise OvmerError(f"a video_url needs the clip's video file, but {what}; send frames instead")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OvmerError(f"{path}: cannot read the clip ({exc.strerror or exc})") from exc
    return f"data:{mime};base64," + _b64(data)


def to_hf_messages(messages: Iterable[ChatMessage]) -> list[dict[str, Any]]:
    """``[{"role", "content"}]`` for ``apply_chat_template``: a string for text-only turns, else typed items.

    Text-only chats give exactly the ``{"role", "content": str}`` dicts that the
    LLM stages' store keys have always hashed.
    """
    return [
        {"role": m.role, "content": _items(m, _hf_media) if m.has_media else m.content} for m in messages
    ]


def text_messages(messages: Iterable[ChatMessage]) -> list[dict[str, Any]]:
    """A text-only conversation as ``[{"role": ..., "content": "..."}]``; a turn with media is refused.

    The form text LLMs are sent, and the one the LLM stages' store keys hash.
    """
    messages = list(messages)
    for message in messages:
        if message.has_media:
            kinds = sorted({part.kind for part in message.parts if part_text(part) is None})
            raise OvmerError(f"a text-only model cannot read {' and '.join(kinds)} parts ({message.role} turn)")
    return to_hf_messages(messages)


def to_openai_messages(messages: Iterable[ChatMessage], media: OpenAIMedia | None = None) -> list[dict[str, Any]]:
    """Chat-completions ``messages``: text parts, media as ``media`` says (default: PNG frames, WAV audio)."""
    encode = (media or OpenAIMedia()).items
    return [{"role": m.role, "content": _items(m, encode) if m.has_media else m.content} for m in messages]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _rgb_frame(frame: np.ndarray) -> np.ndarray:
    frame = np.ascontiguousarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise OvmerError(f"a frame must be uint8 (H, W, 3); got {frame.dtype} {frame.shape}")
    return frame


def png_bytes(frame: np.ndarray) -> bytes:
    """An RGB ``uint8`` ``(H, W, 3)`` frame as a PNG file (lossless; standard library only)."""
    frame = _rgb_frame(frame)
    height, width, _ = frame.shape
    # Every scanline starts with filter type 0 (none).
    scanlines = np.concatenate([np.zeros((height, 1), np.uint8), frame.reshape(height, width * 3)], axis=1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scanlines.tobytes()))
            + chunk(b"IEND", b""))


def jpeg_bytes(frame: np.ndarray, quality: int = 90) -> bytes:
    """An RGB ``uint8`` ``(H, W, 3)`` frame as a baseline JPEG file (Pillow)."""
    frame = _rgb_frame(frame)
    try:
        from PIL import Image
    except ImportError as exc:
        raise OvmerError("JPEG frames need Pillow (pip install pillow), or send PNG frames") from exc
    buffer = io.BytesIO()
    Image.fromarray(frame, "RGB").save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()


def wav_bytes(waveform: np.ndarray, sample_rate: int = AUDIO_SAMPLE_RATE) -> bytes:
    """A mono waveform in [-1, 1] as a 16-bit PCM WAV file."""
    samples = np.asarray(waveform, dtype=np.float64)
    if samples.ndim != 1:
        raise OvmerError(f"audio must be a mono waveform; got shape {samples.shape}")
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(int(sample_rate))
        handle.writeframes(pcm.tobytes())
    return buffer.getvalue()
