"""The clip of a sample, for the explorer: a strip of frames, an audio player and a waveform.

Read from a MER2025-layout folder (``ovmer download mer2025``; :func:`ovmer.data.mer2025.load_mer2025`)
with the describe stage's PyAV readers, and rendered as self-contained HTML (PNG and WAV data
URLs, an SVG waveform), so a saved notebook shows it without the files.
"""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ovmer.data.mer2025 import load_mer2025
from ovmer.describe.adapter import FramePolicy
from ovmer.describe.media import load_audio, load_video_frames
from ovmer.errors import OvmerError
from ovmer.messages import png_bytes, wav_bytes
from ovmer.paths import data_dir

STRIP_FRAMES = 6
FRAME_SIDE = 160  # longer side of each frame in the strip, pixels
AUDIO_SECONDS = 30.0  # the player holds at most this much (a data URL in the notebook)
WAVE_POINTS = 600


def default_media_dir() -> Path:
    """Where ``ovmer download mer2025`` puts the dataset by default: ``<data>/mer2025``."""
    return data_dir() / "mer2025"


def resolve_media_dir(media_dir: str | os.PathLike[str] | None) -> Path | None:
    """The folder given, else the default download folder when it exists, else None (no media)."""
    if media_dir:
        path = Path(media_dir).expanduser()
        if not path.is_dir():
            raise OvmerError(f"{path}: no such MER2025-layout folder (the explorer's media_dir)")
        return path
    default = default_media_dir()
    return default if default.is_dir() else None


@dataclass(frozen=True)
class SampleMedia:
    """A sample's frames and audio as loaded; either may be missing (with the reason)."""

    name: str
    frames: np.ndarray | None  # (T, H, W, 3) uint8
    times: tuple[float, ...]
    waveform: np.ndarray | None  # mono float32, 16 kHz
    sample_rate: int
    problems: tuple[str, ...]  # "path: what is wrong"

    @property
    def seconds(self) -> float:
        return 0.0 if self.waveform is None else len(self.waveform) / self.sample_rate

    def _repr_html_(self) -> str:
        return media_html(self)


def load_sample_media(folder: str | os.PathLike[str], name: str) -> SampleMedia:
    """Frames (a strip of ``STRIP_FRAMES``) and audio of ``name`` from a MER2025-layout folder."""
    layout = load_mer2025(folder, names=[name])
    sample = layout[name]
    problems: list[str] = []
    frames, times, waveform = None, (), None
    if sample.video is not None:
        try:
            video = load_video_frames(sample.video, FramePolicy(num_frames=STRIP_FRAMES), max_side=FRAME_SIDE)
            frames, times = video.frames, tuple(video.timestamps)
        except OvmerError as exc:
            problems.append(str(exc))
    audio_file = sample.audio or sample.video
    if audio_file is not None:
        try:
            waveform = load_audio(audio_file, max_seconds=AUDIO_SECONDS).waveform
        except OvmerError as exc:
            problems.append(str(exc))
    if sample.video is None and sample.audio is None:
        problems.append(f"{Path(folder) / 'video' / (name + '.mp4')}: no video or audio file for {name}")
    return SampleMedia(name, frames, times, waveform, 16_000, tuple(problems))


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def waveform_svg(waveform: np.ndarray, width: int = WAVE_POINTS, height: int = 60) -> str:
    """An SVG of the waveform's envelope (min and max per column)."""
    samples = np.asarray(waveform, dtype=np.float32)
    if samples.size == 0:
        return ""
    columns = np.array_split(samples, min(width, samples.size))
    top = [float(c.max()) for c in columns]
    bottom = [float(c.min()) for c in columns]
    half = height / 2
    points = [f"{i},{half - v * half:.1f}" for i, v in enumerate(top)]
    points += [f"{i},{half - v * half:.1f}" for i, v in reversed(list(enumerate(bottom)))]
    return (f'<svg class="ovmer-waveform" width="{len(top)}" height="{height}" '
            f'viewBox="0 0 {len(top)} {height}"><polygon points="{" ".join(points)}" fill="#4c72b0"/></svg>')


def media_html(media: SampleMedia) -> str:
    parts = []
    if media.frames is not None and len(media.frames):
        images = "".join(
            f'<figure style="margin:0 4px 0 0"><img src="{_data_url("image/png", png_bytes(frame))}" '
            f'alt="frame {i}"><figcaption style="font-size:80%">{t:.1f} s</figcaption></figure>'
            for i, (frame, t) in enumerate(zip(media.frames, media.times or [0.0] * len(media.frames), strict=True))
        )
        parts.append(f'<div class="ovmer-frames" style="display:flex">{images}</div>')
    if media.waveform is not None and media.waveform.size:
        wav = _data_url("audio/wav", wav_bytes(media.waveform, media.sample_rate))
        parts.append(f'<audio class="ovmer-audio" controls src="{wav}"></audio>'
                     f'<div>{waveform_svg(media.waveform)}</div><div>{media.seconds:.1f} s of audio</div>')
    parts += [f"<p>{html.escape(problem)}</p>" for problem in media.problems]
    return f'<div class="ovmer-media"><b>Clip</b>{"".join(parts)}</div>'
