"""Typed chat messages with text, subtitle, video and audio parts.

A :class:`Message` is what every describe adapter receives: the instruction
text, optionally the subtitle, and the media already decoded (video frames as
``uint8`` arrays of shape ``(T, H, W, 3)``, audio as mono float32 at 16 kHz).
Adapters turn it into model inputs; nothing model-specific lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

AUDIO_SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class TextPart:
    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class SubtitlePart:
    text: str
    kind: Literal["subtitle"] = "subtitle"


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


@dataclass(frozen=True)
class Message:
    """One user turn for one sample; ``system`` is the optional system prompt."""

    name: str
    parts: tuple[Part, ...]
    system: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """All text parts joined (subtitle parts are rendered by the prompt, not here)."""
        return "\n".join(p.text for p in self.parts if isinstance(p, TextPart))

    def video(self) -> VideoPart | None:
        return next((p for p in self.parts if isinstance(p, VideoPart)), None)

    def audio(self) -> AudioPart | None:
        return next((p for p in self.parts if isinstance(p, AudioPart)), None)

    def subtitle(self) -> str | None:
        part = next((p for p in self.parts if isinstance(p, SubtitlePart)), None)
        return part.text if part else None
